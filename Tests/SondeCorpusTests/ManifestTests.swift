import Foundation
import Testing

@testable import SondeCorpus

/// One row of ../shared/corpora/MANIFEST.tsv: the exact counts of a real treebank file.
struct ManifestEntry: CustomStringConvertible, Sendable {
    let path: String
    let format: String
    let sentences: Int
    let words: Int
    let tokens: Int?
    let details: [String: Int]
    var description: String { path }

    static let all: [ManifestEntry] = {
        guard let text = try? String(contentsOfFile: sharedCorpora + "/MANIFEST.tsv", encoding: .utf8) else { return [] }
        return text.split(separator: "\n").dropFirst().compactMap { line in
            let f = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            guard f.count >= 6, f[1] != "text", let s = Int(f[2]), let w = Int(f[3]) else { return nil }
            var details: [String: Int] = [:]
            for item in f[5].split(separator: ";") {
                let kv = item.split(separator: "=")
                if kv.count == 2, let v = Int(kv[1]) { details[String(kv[0])] = v }
            }
            return ManifestEntry(path: f[0], format: f[1], sentences: s, words: w, tokens: Int(f[4]), details: details)
        }
    }()

    static func with(format: String) -> [ManifestEntry] { all.filter { $0.format == format } }

    /// Files that ../shared/corpora/README.md describes as not well-formed, with the error Sonde
    /// must give (it read them silently before: the empty `(-RRB- )` leaves were dropped, and the
    /// node with three mothers repeated its word under each).
    static let malformed = [
        "tiger-xml/europarl-lingua-align/ep-00-12-15.125.en.penn": ":26:19: '()' has neither a word nor daughters",
        "tiger-xml/mini-samples/tiger2api-sampleCorpus1-withSecEdges.xml": ":45: sentence 'seg_2': node s1_t1 has two mothers",
    ]

    /// Reads the entry's file; for a malformed one, checks the error and returns nil.
    func readOrExpectError(sourceLocation: SourceLocation = #_sourceLocation) throws -> Corpus? {
        guard let expected = Self.malformed[path] else { return try read(sharedCorpora + "/" + path) }
        #expect(sourceLocation: sourceLocation) { _ = try read(sharedCorpora + "/" + path) } throws: { "\($0)".contains(expected) }
        return nil
    }
}

@Suite(.enabled(if: sharedAvailable, Comment(rawValue: sharedMissing)))
struct ManifestTests {
    @Test func manifestHasEveryFormat() {
        #expect(ManifestEntry.with(format: "conllu").count == 113)
        #expect(ManifestEntry.with(format: "bracketed").count == 109)
        #expect(ManifestEntry.with(format: "tiger-xml").count == 4)
        #expect(ManifestEntry.with(format: "alpino_ds-1.3").count == 998)
    }

    @Test(arguments: ManifestEntry.with(format: "conllu"))
    func conllu(entry: ManifestEntry) throws {
        let corpus = try read(sharedCorpora + "/" + entry.path)
        #expect(corpus.sentences.count == entry.sentences)
        #expect(corpus.wordCount == entry.words)
        #expect(corpus.tokenCount == entry.tokens)
        #expect(corpus.sentences.reduce(0) { $0 + $1.multiwordTokens.count } == entry.details["mwt"])
        #expect(corpus.sentences.reduce(0) { $0 + $1.emptyNodes.count } == entry.details["empty"])
    }

    @Test(arguments: ManifestEntry.with(format: "bracketed"))
    func brackets(entry: ManifestEntry) throws {
        guard let corpus = try entry.readOrExpectError() else { return }
        #expect(corpus.sentences.count == entry.sentences)
        #expect(corpus.wordCount == entry.words)
        let empties = corpus.sentences.reduce(0) { $0 + ($1.tree?.nodes.filter { $0.leafText != nil }.count ?? 0) }
        #expect(empties == entry.details["none"] ?? 0)
    }

    @Test(arguments: ManifestEntry.with(format: "tiger-xml"))
    func tiger(entry: ManifestEntry) throws {
        guard let corpus = try entry.readOrExpectError() else { return }
        #expect(corpus.sentences.count == entry.sentences)
        #expect(corpus.wordCount == entry.words)
        let phrases = corpus.sentences.reduce(0) { $0 + $1.tree!.nodes.filter { $0.word == nil }.count }
        #expect(phrases == entry.details["nt"])
        let secondary = corpus.sentences.reduce(0) { $0 + $1.tree!.nodes.reduce(0) { $0 + $1.secondaryParents.count } }
        #expect(secondary == entry.details["secedge"])
        #expect((corpus.tigerHeader != nil) == (entry.details["head"] == nil))  // "head=yes" is not a number
    }

    /// All 998 Alpino files, read as one folder (natural order), against the per-file counts.
    @Test func alpinoFolder() throws {
        let entries = ManifestEntry.with(format: "alpino_ds-1.3")
        let corpus = try read(sharedCorpora + "/alpino-xml/cdb")
        #expect(corpus.sentences.count == entries.count)
        #expect(corpus.wordCount == entries.reduce(0) { $0 + $1.words })
        #expect(corpus.wordCount == 19_504)
        let nodes = corpus.sentences.reduce(0) { $0 + $1.tree!.nodes.count }
        #expect(nodes == entries.reduce(0) { $0 + $1.details["nodes", default: 0] })
        let empty = corpus.sentences.reduce(0) { $0 + $1.tree!.nodes.filter { $0.word == nil && $0.children.isEmpty }.count }
        #expect(empty == entries.reduce(0) { $0 + $1.details["empty_index_nodes", default: 0] })
        #expect(corpus.sentences.first?.id == "0" && corpus.sentences[2].id == "2")
    }

    /// GUM: tree i of const/X.ptb is sentence i of dep/X.conllu, leaf for word, with brackets
    /// unescaped (also inside words); the PTB tags equal the XPOS in all but the 14 sentences the
    /// corpus README lists.
    @Test func gumReadersAgreeWordForWord() throws {
        let ptb = try read(sharedCorpora + "/gum-const/const")
        let conllu = try read(sharedCorpora + "/gum-const/dep")
        #expect(ptb.sentences.count == 4_636 && conllu.sentences.count == 4_636)
        var tagMismatches = 0
        for (a, b) in zip(ptb.sentences, conllu.sentences) {
            #expect(a.words.map(\.form) == b.words.map(\.form), "\(a.location!) vs \(b.location!)")
            if a.words.map(\.xpos) != b.words.map(\.xpos) { tagMismatches += 1 }
        }
        #expect(tagMismatches == 14)
    }
}
