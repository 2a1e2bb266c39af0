import Foundation
import Testing

@testable import SondeCorpus

/// Every malformed construct gives `path:line[:column]: what is wrong`.
@Suite struct MalformedCorpusTests {
    let folder = temporaryFolder()

    func expectError(
        _ text: String, name: String = "bad", format: CorpusFormat? = nil, line: Int, column: Int? = nil, _ message: String,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        let path = write(text, name: name, in: folder)
        do {
            _ = try read(path, format: format)
            Issue.record("expected: \(message)", sourceLocation: sourceLocation)
        } catch let error as CorpusError {
            #expect(error.path == path, sourceLocation: sourceLocation)
            #expect(error.line == line, "\(error)", sourceLocation: sourceLocation)
            if let column { #expect(error.column == column, "\(error)", sourceLocation: sourceLocation) }
            #expect(error.message.contains(message), "\(error)", sourceLocation: sourceLocation)
            #expect(error.description.hasPrefix("\(path):\(line)"), sourceLocation: sourceLocation)
        } catch {
            Issue.record("unexpected \(error)", sourceLocation: sourceLocation)
        }
    }

    static let w1 = "1\tHi\thi\tINTJ\tUH\t_\t0\troot\t_\t_\n"

    @Test func conlluColumnsAndIDs() {
        expectError("# sent_id = x\n1\tHi\thi\tINTJ\n", format: .conllu, line: 2, column: 1, "expected 10 tab-separated columns, found 4")
        expectError(Self.w1 + "3\tyo\tyo\tINTJ\tUH\t_\t1\tdep\t_\t_\n", line: 2, column: 1, "word ID 3 out of sequence: expected 2")
        expectError(Self.w1 + "x\tyo\tyo\tINTJ\tUH\t_\t1\tdep\t_\t_\n", line: 2, column: 1, "ID 'x' is not an integer")
        expectError("1\tHi\t\tINTJ\tUH\t_\t0\troot\t_\t_\n", line: 1, column: 6, "column 3 (LEMMA) is empty")
        expectError(
            Self.w1 + "\n" + Self.w1 + "3-4\tab\t_\t_\t_\t_\t_\t_\t_\t_\n", line: 4, "3-4 must come right before word 3, but the next word is 2")
        expectError("1-1\tab\t_\t_\t_\t_\t_\t_\t_\t_\n" + Self.w1, line: 1, "must span at least two words")
        expectError("1-3\tab\tx\t_\t_\t_\t_\t_\t_\t_\n", line: 1, column: 8, "a multiword token has _ in column 3")
        expectError("1-2\tab\t_\t_\t_\t_\t_\t_\t_\t_\n" + Self.w1, line: 1, "a multiword token runs to word 2 but the sentence has 1 words")
        expectError(Self.w1 + "1.2\tx\t_\t_\t_\t_\t_\t_\t_\t_\n", line: 2, "empty node 1.2 should be 1.1")
        expectError(Self.w1 + "2.1\tx\t_\t_\t_\t_\t_\t_\t_\t_\n", line: 2, "empty node 2.1 must follow word 2")
    }

    @Test func conlluHeadsAndFeatures() {
        expectError(Self.w1 + "2\tyo\tyo\tINTJ\tUH\t_\t7\tdep\t_\t_\n", line: 2, column: 19, "HEAD 7 is beyond the last word (2)")
        expectError(Self.w1 + "2\tyo\tyo\tINTJ\tUH\t_\t2\tdep\t_\t_\n", line: 2, "word 2 is its own head")
        expectError(Self.w1 + "2\tyo\tyo\tINTJ\tUH\t_\tx\tdep\t_\t_\n", line: 2, "HEAD 'x' is not a word number")
        expectError(Self.w1 + "2\tyo\tyo\tINTJ\tUH\t_\t0\troot\t_\t_\n", line: 1, "2 roots")
        expectError("1\ta\ta\tX\tX\t_\t2\tdep\t_\t_\n2\tb\tb\tX\tX\t_\t1\tdep\t_\t_\n", line: 1, "0 roots")
        expectError(
            "1\ta\ta\tX\tX\t_\t0\troot\t_\t_\n2\tb\tb\tX\tX\t_\t3\tdep\t_\t_\n3\tc\tc\tX\tX\t_\t2\tdep\t_\t_\n", line: 1,
            "the heads of word 2 form a cycle")
        expectError("1\tHi\thi\tINTJ\tUH\tNumber\t0\troot\t_\t_\n", line: 1, column: 17, "FEATS item 'Number' is not Key=Value")
        expectError("# only a comment\n", format: .conllu, line: 1, "sentence has no words")
        expectError("1-3\tabc\t_\t_\t_\t_\t_\t_\t_\t_\n" + Self.w1 + "2\tb\tb\tX\tX\t_\t1\tdep\t_\t_\n", line: 1, "runs to word 3")
    }

    @Test func invalidUTF8AndGarbage() {
        let path = folder + "/latin1.conllu"
        try! Data([0x31, 0x09, 0x63, 0x61, 0x66, 0xE9, 0x0A]).write(to: URL(fileURLWithPath: path))
        #expect(throws: CorpusError(path, line: 1, column: 6, "invalid UTF-8 (is this a binary file, or another encoding?)")) {
            try read(path, format: .conllu)
        }
        var g = SystemRandomNumberGenerator()
        let garbage = folder + "/garbage"
        try! Data((0..<10_000).map { _ in UInt8.random(in: 0...255, using: &g) }).write(to: URL(fileURLWithPath: garbage))
        #expect(throws: CorpusError.self) { try read(garbage) }
        let empty = write("", name: "empty", in: folder)
        #expect(throws: CorpusError(empty, line: 1, "the file is empty")) { try read(empty) }
    }

    @Test func truncatedFiles() throws {
        // A CoNLL-U file cut inside a line: the last line has too few columns.
        let ewtLike = Self.w1 + "\n1\tHello\thello\tINTJ\tUH\t_\t0\tro"
        expectError(ewtLike, format: .conllu, line: 3, "expected 10 tab-separated columns, found 8")
        expectError("( (S (NP (DT The) (NN dog)) (VP (VBD bar", line: 1, column: 33, "unclosed '(': the file ends inside this tree")
        let tiger = try String(contentsOfFile: edgeCases + "/discontinuous.tiger.xml", encoding: .utf8)
        let cut = String(tiger.prefix(1000))  // ends inside an attribute value, on the cut's last line
        expectError(cut, format: .tiger, line: cut.utf8.filter { $0 == 0x0A }.count + 1, "XML error: AttValue")
    }

    @Test func pennBrackets() {
        expectError("(S (NP (DT The) dog))\n", line: 1, column: 17, "'dog' is a word without its own (TAG word) brackets")
        expectError("(S (NN dog) (VP (VB ran)))\n) (S (NN x))\n", line: 2, column: 1, "expected '(' to start a tree")
        expectError("(S (NP (-NONE- *)))\n", line: 1, column: 1, "tree has no words")
        expectError("\n\n  (S (NP (NN a) (NN b)\n", line: 3, column: 6, "unclosed '('")
    }

    @Test func tigerProblems() {
        let head = "<corpus id=\"x\"><body><s id=\"s1\"><graph root=\"s1_500\"><terminals>\n"
        expectError(
            head
                + "<t id=\"s1_1\" word=\"a\" pos=\"NN\"/>\n</terminals><nonterminals>\n<nt id=\"s1_500\" cat=\"S\"><edge label=\"HD\" idref=\"s1_9\"/></nt>\n</nonterminals></graph></s></body></corpus>",
            line: 4, "edge idref 's1_9' names no node of sentence 's1'")
        expectError(
            head + "<t id=\"s1_1\" word=\"a\" pos=\"NN\"/>\n</terminals></graph></s></body></corpus>", line: 1, "graph root 's1_500' names no node")
        expectError(
            head + "<t id=\"s1_1\" word=\"a\"/>\n<t id=\"s1_1\" word=\"b\"/>\n</terminals></graph></s></body></corpus>", line: 3,
            "id 's1_1' is used twice")
        expectError(
            head + "<t id=\"s1_1\" word=\"a\">\n</terminals></graph></s></body></corpus>", line: 3,
            "XML error: Opening and ending tag mismatch: t line 2 and terminals")
        expectError("<corpus><body><s id=\"s1\"><graph><terminals></terminals></graph></s></body></corpus>", line: 1, "has no terminals")
        expectError("<html><body/></html>", line: 1, "neither TIGER-XML")
    }

    @Test func alpinoProblems() {
        let top = "<alpino_ds version=\"1.3\"><node begin=\"0\" cat=\"top\" end=\"2\" id=\"0\" rel=\"top\">\n"
        expectError(
            top + "<node begin=\"0\" end=\"1\" id=\"1\" rel=\"--\" word=\"a\"/></node><sentence>a b</sentence></alpino_ds>",
            name: "a.xml", line: 1, "<sentence> has 2 tokens but the tree has 1 word nodes")
        expectError(
            top + "<node begin=\"0\" end=\"1\" id=\"1\" rel=\"--\" word=\"a\"/></node></alpino_ds>", name: "b.xml", line: 1, "no <sentence> element")
        expectError(
            top + "<node end=\"1\" id=\"1\" rel=\"--\" word=\"a\"/></node><sentence>a</sentence></alpino_ds>", name: "c.xml", line: 2,
            "has no integer begin")
    }

    @Test func plainTextAndLabels() throws {
        expectError("a b\n\nc\n", format: .text, line: 2, "empty line")
        let corpus = try read(edgeCases + "/neurox.txt")
        let labels = write("DT NN VBD .\nPRP\n", name: "l", in: folder)
        #expect(throws: CorpusError(labels, line: 2, "1 labels for a sentence of 2 words")) {
            try LabelFile.read(labels, for: corpus, perSentence: true)
        }
        let flat = write("DT\nNN\n", name: "f", in: folder)
        #expect(throws: CorpusError(flat, line: 2, "2 labels for a corpus of 6 words")) {
            try LabelFile.read(flat, for: corpus, perSentence: false)
        }
    }

    /// With skip-invalid the good sentences are kept and each bad one is reported.
    @Test func skipInvalidReportsEverything() throws {
        let text = Self.w1 + "\n" + "1\tbad\n\n" + Self.w1 + "\n" + "2\tyo\tyo\tINTJ\tUH\t_\t0\troot\t_\t_\n\n" + Self.w1
        let path = write(text, name: "mixed.conllu", in: folder)
        let result = try CorpusReader.read([path], skipInvalid: true)
        #expect(result.corpus.sentences.count == 3)
        #expect(result.skipped.map(\.line) == [3, 7])
        #expect(throws: CorpusError.self) { try CorpusReader.read([path]) }
        let ptb = write("(S (NN a))\n(S (NN b) c)\n(S (NN d))\n", name: "mixed.ptb", in: folder)
        let trees = try CorpusReader.read([ptb], skipInvalid: true)
        #expect(trees.corpus.sentences.map { $0.words[0].form } == ["a", "d"] && trees.skipped.map(\.line) == [2])
    }

    /// 100 MB of CoNLL-U (the edge-case sentence repeated) reads with the right counts.
    @Test func hundredMegabytes() throws {
        let sentence = try String(contentsOfFile: edgeCases + "/multiword-empty-underscore.conllu", encoding: .utf8) + "\n"
        let copies = 100_000_000 / sentence.utf8.count + 1
        let path = folder + "/big.conllu"
        _ = FileManager.default.createFile(atPath: path, contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        let block = Data(String(repeating: sentence, count: 1000).utf8)
        for _ in 0..<(copies / 1000 + 1) { handle.write(block) }
        try handle.close()
        let size = try FileManager.default.attributesOfItem(atPath: path)[.size] as! Int
        #expect(size >= 100_000_000)
        let corpus = try read(path)
        #expect(corpus.sentences.count == (copies / 1000 + 1) * 1000 * 2)
        #expect(corpus.wordCount == (copies / 1000 + 1) * 1000 * 8)
        try FileManager.default.removeItem(atPath: path)
    }
}
