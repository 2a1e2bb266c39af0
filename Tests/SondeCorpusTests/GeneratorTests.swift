import Foundation
import Testing

@testable import SondeCorpus

@Suite struct GeneratorTests {
    /// corpora/ is what the generator makes with its defaults, byte for byte.
    @Test func regeneratingGivesIdenticalFiles() throws {
        let folder = temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        var generator = TreebankGenerator(seed: TreebankGenerator.defaultSeed)
        let corpus = generator.corpus(sentences: TreebankGenerator.defaultSentences)
        try ConlluWriter.write(corpus, to: folder + "/a")
        try PennTreebankWriter.write(corpus, to: folder + "/b")
        try TigerWriter.write(corpus, to: folder + "/c")
        for (made, name) in zip(["a", "b", "c"], TreebankGenerator.fileNames) {
            let committed = try Data(contentsOf: URL(fileURLWithPath: repositoryRoot + "/corpora/" + name))
            #expect(
                try Data(contentsOf: URL(fileURLWithPath: folder + "/" + made)) == committed, "corpora/\(name) is stale: run `sonde corpus generate`")
        }
    }

    /// The three files hold the same sentences: same words, tags and trees.
    @Test func formatsAgree() throws {
        let files = TreebankGenerator.fileNames.map { repositoryRoot + "/corpora/" + $0 }
        let (conllu, ptb, tiger) = (try read(files[0]), try read(files[1]), try read(files[2]))
        #expect(conllu.sentences.count == 1200 && ptb.sentences.count == 1200 && tiger.sentences.count == 1200)
        for i in conllu.sentences.indices {
            let forms = conllu.sentences[i].words.map(\.form)
            #expect(ptb.sentences[i].words.map(\.form) == forms)
            #expect(tiger.sentences[i].words.map(\.form) == forms)
            #expect(ptb.sentences[i].words.map(\.xpos) == conllu.sentences[i].words.map(\.xpos))
            #expect(tiger.sentences[i].id == conllu.sentences[i].id)
        }
        #expect(try Property(name: "tree.parent")!.labels(ptb) == Property(name: "tree.parent")!.labels(tiger))
    }

    /// Agreement, checked from the CoNLL-U alone: a present-tense verb is VBZ exactly when its
    /// subject is third person singular (a singular noun or name, or he/she/it).
    @Test func subjectVerbAgreement() throws {
        let corpus = try read(repositoryRoot + "/corpora/default.conllu")
        var checked = 0
        for s in corpus.sentences {
            for subject in s.words where subject.deprel == "nsubj" {
                let verb = s.words[subject.head! - 1]
                // the finite word: the verb itself, or its auxiliary
                let finite = s.words.first { $0.deprel == "aux" && s.words[$0.head! - 1] == verb } ?? verb
                guard finite.xpos == "VBZ" || finite.xpos == "VBP" else { continue }
                let coordinated = s.words.contains { $0.deprel == "conj" && s.words[$0.head! - 1] == subject && $0.upos == "NOUN" }
                let thirdSingular =
                    !coordinated
                    && (subject.xpos == "NN" || subject.xpos == "NNP" || ["he", "she", "it"].contains(subject.form))
                #expect((finite.xpos == "VBZ") == thirdSingular, "\(s.id!): \(subject.form) … \(finite.form)")
                checked += 1
            }
        }
        #expect(checked > 300)
    }

    @Test func documentsHaveTopics() throws {
        let corpus = try read(repositoryRoot + "/corpora/default.conllu")
        let docs = try Property(name: "doc")!.labels(corpus)
        #expect(Set(docs.joined()).count == 60)
        #expect(Set(try Property(name: "genre")!.labels(corpus).joined()) == ["kitchen", "garden", "harbour"])
    }
}
