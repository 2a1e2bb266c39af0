import Foundation
import Testing

@testable import SondeCorpus

/// read → write → read gives an equal corpus, for each writer, on real files.
@Suite(.enabled(if: sharedAvailable, Comment(rawValue: sharedMissing)))
struct RoundTripTests {
    func roundTrip(_ source: String, write: (Corpus, String) throws -> Void, format: CorpusFormat) throws -> (Corpus, Corpus) {
        let folder = temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let original = try read(source)
        let copy = folder + "/copy"
        try write(original, copy)
        return (original, try read(copy, format: format))
    }

    @Test(arguments: ["ud-english-ewt/en_ewt-ud-dev.conllu", "ud-czech-cac/cs_cac-ud-test.conllu", "gum-const/dep/GUM_bio_moreau.conllu"])
    func conllu(file: String) throws {
        let (a, b) = try roundTrip(sharedCorpora + "/" + file, write: ConlluWriter.write, format: .conllu)
        #expect(a == b)
        // byte-identical too: UD files are canonical CoNLL-U
        let folder = temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try ConlluWriter.write(a, to: folder + "/x")
        #expect(try Data(contentsOf: URL(fileURLWithPath: folder + "/x")) == Data(contentsOf: URL(fileURLWithPath: sharedCorpora + "/" + file)))
    }

    // (The Europarl .penn file has two malformed trees: ManifestTests.)
    @Test(arguments: ["gum-const/const/GUM_bio_moreau.ptb", "gum-const/const/GUM_news_asylum.ptb"])
    func ptb(file: String) throws {
        let (a, b) = try roundTrip(sharedCorpora + "/" + file, write: PennTreebankWriter.write, format: .ptb)
        #expect(a == b)
    }

    @Test(arguments: [
        "tiger-xml/europarl-lingua-align/ep-00-12-15.125.nl.tiger", "tiger-xml/europarl-lingua-align/ep-00-12-15.125.en.tiger",
        "tiger-xml/mini-samples/tiger2api-corpus1-kidko.xml",
    ])
    func tiger(file: String) throws {
        let (a, b) = try roundTrip(sharedCorpora + "/" + file, write: TigerWriter.write, format: .tiger)
        #expect(a.tigerHeader == b.tigerHeader)
        #expect(a.sentences.count == b.sentences.count)
        for (x, y) in zip(a.sentences, b.sentences) { #expect(x == y, "\(x.location!)") }
    }

    /// Conversions keep the words: CoNLL-U → TIGER and PTB → TIGER → PTB.
    @Test func conversionsKeepWords() throws {
        let folder = temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let conllu = try read(sharedCorpora + "/gum-const/dep/GUM_news_asylum.conllu")
        try TigerWriter.write(conllu, to: folder + "/a.xml")
        let tiger = try read(folder + "/a.xml")
        #expect(tiger.sentences.map { $0.words.map(\.form) } == conllu.sentences.map { $0.words.map(\.form) })
        #expect(tiger.sentences.map { $0.words.map(\.xpos) } == conllu.sentences.map { $0.words.map(\.xpos) })
        #expect(tiger.sentences.map(\.id) == conllu.sentences.map(\.id))
        let ptb = try read(sharedCorpora + "/gum-const/const/GUM_news_asylum.ptb")
        try TigerWriter.write(ptb, to: folder + "/b.xml")
        try PennTreebankWriter.write(try read(folder + "/b.xml"), to: folder + "/b.ptb")
        #expect(try read(folder + "/b.ptb").sentences.map { $0.words.map(\.form) } == ptb.sentences.map { $0.words.map(\.form) })
    }
}
