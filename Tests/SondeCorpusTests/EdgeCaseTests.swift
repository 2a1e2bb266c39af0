import Foundation
import Testing

@testable import SondeCorpus

/// The hand-written files in Tests/Fixtures/corpora, one tricky construct each.
@Suite struct EdgeCaseTests {
    @Test func conlluMultiwordEmptyAndUnderscore() throws {
        let corpus = try read(edgeCases + "/multiword-empty-underscore.conllu")
        #expect(corpus.sentences.count == 2)
        let s = corpus.sentences[0]
        #expect(s.id == "answers-01-0001")
        #expect(s.text == "I don't like _ here.")
        #expect(s.newDocumentID == "answers-01")
        #expect(s.comments.contains("newpar") && s.comments.contains("orig_file_sentence a10w#1"))
        #expect(s.comment("orig_file_sentence") == nil)  // not a key = value comment
        #expect(s.words.map(\.form) == ["I", "do", "n't", "like", "_", "here", "."])
        #expect(s.words[4].lemma == "_" && s.words[4].upos == "PUNCT")  // a literal underscore word
        #expect(s.words[2].feats == nil && s.words[2].lemma == "not")
        #expect(s.words[0].feature("Person") == "1" && s.words[0].features.count == 4)
        #expect(s.multiwordTokens == [MultiwordToken(first: 2, last: 3, form: "don't", misc: "SpaceAfter=No")])
        #expect(s.emptyNodes.count == 1 && s.emptyNodes[0].major == 4 && s.emptyNodes[0].word.misc == "CopyOf=4")
        #expect(s.words[5].miscellaneous.first?.key == "SpaceAfter")
        #expect(s.surfaceTokenCount == 6)
        #expect(corpus.sentences[1].newDocumentID == nil)
    }

    @Test func conlluBOMAndCRLF() throws {
        let s = try read(edgeCases + "/bom-crlf.conllu").sentences
        #expect(s.count == 1 && s[0].id == "crlf-1" && s[0].words[0].misc == nil)
    }

    @Test func ptbFunctionTagsTracesAndEscapes() throws {
        let corpus = try read(edgeCases + "/wsj-style.mrg")
        #expect(corpus.sentences.count == 2)
        let first = corpus.sentences[0]
        #expect(first.words.map(\.form) == ["The", "dog", "was", "seen", "."])
        let tree = try #require(first.tree)
        #expect(tree.nodes[tree.root].label == "")  // the ( (S …) ) wrapper
        #expect(tree.nodes.contains { $0.label == "NP-SBJ-1" })
        #expect(tree.nodes.contains { $0.label == "-NONE-" && $0.leafText == "*-1" && $0.word == nil })
        #expect(PennTreebankReader.category("NP-SBJ-1") == "NP" && PennTreebankReader.category("-NONE-") == "-NONE-")
        let second = corpus.sentences[1]
        #expect(second.words.map(\.form) == ["Re(a)d", "is", "(", "text", ")", "."])
        #expect(second.words.map(\.xpos) == ["NNP", "VBZ", "-LRB-", "NN", "-RRB-", "."])
    }

    @Test func psdHistoricalCorpus() throws {
        let corpus = try read(edgeCases + "/historical.psd")
        #expect(corpus.sentences.map(\.id) == ["CMTEST,1.1", "CMTEST,1.2", "CMTEST,1.3"])
        #expect(corpus.sentences[0].words.map(\.form) == ["I", "saw", "the", "king", "came", "."])
        #expect(corpus.sentences[1].words.map(\.form) == ["go", "!"])
        let leaves = corpus.sentences[0].tree!.nodes.compactMap(\.leafText)
        #expect(leaves == ["<P_1>", "0", "0", "*T*-1", "CMTEST,1.1"])
        // CorpusSearch's empty elements: a bare *, a trace *-4, a zero preposition (P 0); a
        // numeral 0 stays a word.
        #expect(corpus.sentences[2].words.map(\.form) == ["went", "home", "0", "days", "."])
        #expect(corpus.sentences[2].tree!.nodes.compactMap(\.leafText) == ["*", "0", "*-4", "CMTEST,1.3"])
        // The same trees in a .mrg file follow PTB's rules: only -NONE- and *X* leaves are empty.
        let folder = temporaryFolder()
        let mrg = folder + "/copy.mrg"
        try FileManager.default.copyItem(atPath: edgeCases + "/historical.psd", toPath: mrg)
        #expect(try read(mrg).sentences[2].words.map(\.form) == ["*", "went", "0", "home", "0", "days", "*-4", "."])
    }

    @Test func tigerDiscontinuousSecondaryUnattached() throws {
        let corpus = try read(edgeCases + "/discontinuous.tiger.xml")
        let header = try #require(corpus.tigerHeader)
        #expect(header.corpusID == "edge")
        #expect(header.meta == [Attribute("name", "edge cases"), Attribute("author", "Sonde")])
        #expect(header.features.map(\.name) == ["word", "pos", "morph", "cat"])
        #expect(header.features[1].values[2] == Attribute("$.", "--"))
        #expect(header.edgeLabels.count == 4 && header.secondaryEdgeLabels == [Attribute("SB", "subject")])
        let s = corpus.sentences[0]
        #expect(s.id == "s1" && s.comment("art_id") == "a&b")
        #expect(s.words.map(\.form) == ["Kaffee", "hat", "Anna", "getrunken", "."])
        #expect(s.words[2].lemma == nil && s.words[1].lemma == "haben" && s.words[4].xpos == "$.")
        let tree = try #require(s.tree)
        #expect(tree.nodes[tree.root].label == "S")
        let vp = try #require(tree.nodes.firstIndex { $0.label == "VP" })
        #expect(tree.nodes[vp].children.map(\.child).map { tree.nodes[$0].word } == [0, 3])  // discontinuous
        #expect(tree.nodes[2].secondaryParents == [Tree.Edge(child: vp, label: "SB")])
        #expect(tree.parents()[4] == nil)  // unattached punctuation
        #expect(tree.nodes[0].attribute("morph") == "Acc.Sg.Masc")
        #expect(try Property(name: "function")!.labels(corpus)[0] == ["OA", "HD", "SB", "HD", "none"])
        #expect(try Property(name: "attr.morph")!.labels(corpus)[0] == ["Acc.Sg.Masc", "3.Sg.Pres.Ind", "none", "none", "none"])
        #expect(
            try TagMapping(path: repositoryRoot + "/annotations/stts-upos.tsv").apply(Property(name: "xpos")!.labels(corpus))
                == [["NOUN", "AUX", "PROPN", "VERB", "PUNCT"]])
    }

    @Test func alpinoCoindexedAndSurfaceOrder() throws {
        let corpus = try read(edgeCases + "/coindexed.alpino.xml")
        let s = corpus.sentences[0]
        #expect(s.id == "jan-1" && s.text == "Jan wil zwemmen .")
        #expect(s.comments.last == "comment = Q#1 \"shared subject\"")
        #expect(s.words.map(\.form) == ["Jan", "wil", "zwemmen", "."])
        #expect(s.words.map(\.xpos) == ["SPEC(deeleigen)", "WW(pv,tgw,ev)", "WW(inf,vrij,zonder)", "LET()"])
        let tree = try #require(s.tree)
        let empty = tree.nodes.filter { $0.word == nil && $0.children.isEmpty }
        #expect(empty.count == 1 && empty[0].attribute("index") == "1")
        #expect(try Property(name: "function")!.labels(corpus)[0] == ["su", "hd", "hd", "--"])
        #expect(try Property(name: "tree.parent")!.labels(corpus)[0] == ["smain", "smain", "inf", "top"])
    }

    /// Folder order: numbers as numbers, even past Int's range.
    @Test func naturalNameOrder() {
        let names = ["10.xml", "9.xml", "a2.xml", "a10.xml", "a02b.xml", "99999999999999999999999.xml", "100000000000000000000000.xml", "b.xml"]
        #expect(
            names.sorted(by: naturalOrder) == [
                "9.xml", "10.xml", "99999999999999999999999.xml", "100000000000000000000000.xml", "a2.xml", "a02b.xml", "a10.xml", "b.xml",
            ])
    }

    @Test func neuroxTextWithLabels() throws {
        let corpus = try read(edgeCases + "/neurox.txt")
        #expect(corpus.sentences.map { $0.words.map(\.form) } == [["The", "dog", "barked", "."], ["It", "ran"]])
        let labels = try LabelFile.read(edgeCases + "/neurox.labels", for: corpus, perSentence: true)
        #expect(labels == [["DT", "NN", "VBD", "."], ["PRP", "VBD"]])
    }

    /// Dependency properties on the first sentence, worked out by hand from its HEAD column
    /// (heads: I→4, do→4, n't→4, like→0, _→4, here→4, .→4).
    @Test func dependencyProperties() throws {
        let corpus = try read(edgeCases + "/multiword-empty-underscore.conllu")
        func labels(_ name: String) throws -> [String] { try Property(name: name)!.labels(corpus)[0] }
        #expect(try labels("head.direction") == ["right", "right", "right", "root", "left", "left", "left"])
        #expect(try labels("head.distance") == ["3-4", "2", "1", "root", "1", "2", "3-4"])
        #expect(try labels("dep.depth") == ["1", "1", "1", "0", "1", "1", "1"])
        #expect(try labels("deprel.base") == ["nsubj", "aux", "advmod", "root", "punct", "advmod", "punct"])
        #expect(try labels("deprel")[5] == "advmod:loc")
        #expect(try labels("feats.Number") == ["Sing", "Sing", "none", "none", "none", "none", "none"])
        // Forms I do n't like _ here . — the last two characters of words longer than two.
        #expect(try labels("suffix.2") == ["none", "none", "'t", "ke", "none", "re", "none"])
        #expect(Property(name: "suffix.5") == nil && Property(name: "suffix.0") == nil && Property(name: "suffix.x") == nil)
        #expect(try Property(name: "doc")!.labels(corpus) == [Array(repeating: "answers-01", count: 7), ["answers-01"]])
        #expect(try Property(name: "genre")!.labels(corpus)[1] == ["answers"])
        #expect(throws: PropertyError.self) { try Property(name: "tree.tag")!.labels(corpus) }
    }

    /// Constituency properties on the WSJ-style tree, by hand:
    /// ( (S (NP-SBJ-1 (DT The) (NN dog)) (VP (VBD was) (VP (VBN seen) (NP (-NONE- *-1)))) (. .)) )
    @Test func constituencyProperties() throws {
        let corpus = try read(edgeCases + "/wsj-style.mrg")
        func labels(_ name: String) throws -> [String] { try Property(name: name)!.labels(corpus)[0] }
        #expect(try labels("tree.tag") == ["DT", "NN", "VBD", "VBN", "."])
        #expect(try labels("tree.parent") == ["NP", "NP", "VP", "VP", "S"])
        #expect(try labels("tree.chunk") == ["B-NP", "I-NP", "B-VP", "B-VP", "B-S"])
        #expect(try labels("tree.depth") == ["3", "3", "3", "4", "2"])
        #expect(Property(name: "nonsense") == nil)
    }
}
