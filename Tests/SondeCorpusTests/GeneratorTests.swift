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

    /// Topics take turns (each block of three documents holds each topic once), and a topic's own
    /// nouns, adjectives, adverbs and names occur only in its documents, so they predict it.
    @Test func topicsTakeTurnsAndOwnTheirWords() throws {
        let corpus = try read(repositoryRoot + "/corpora/default.conllu")
        let genres = try Property(name: "genre")!.labels(corpus).map { $0[0] }
        let documents = stride(from: 0, to: genres.count, by: 20).map { genres[$0] }
        #expect(documents.count == 60)
        for block in stride(from: 0, to: documents.count, by: 3) {
            #expect(Set(documents[block..<block + 3]).count == 3, "documents \(block + 1)–\(block + 3)")
        }
        var topicsOfForm: [String: Set<String>] = [:]
        for (sentence, genre) in zip(corpus.sentences, genres) {
            for word in sentence.words { topicsOfForm[word.form, default: []].insert(genre) }
        }
        var owned = 0
        for topic in Topic.all {
            let own = topic.nouns.flatMap { [$0.singular, $0.plural] } + (topic.adjectives + topic.adverbs + topic.names).map(\.form)
            for form in Set(own) where topicsOfForm[form] != nil {
                #expect(topicsOfForm[form] == [topic.name], "\(form) in \(topicsOfForm[form]!)")
                owned += 1
            }
        }
        #expect(owned > 60)
    }
}
