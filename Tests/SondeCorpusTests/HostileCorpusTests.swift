import Foundation
import SondeBase
import Testing

@testable import SondeCorpus

/// Treebanks from strangers: no walk over a tree recurses, a graph that is not a tree is a
/// malformed file, XML cannot expand entities, every libxml2 error is a `CorpusError`, and no
/// property costs more than linear time.
@Suite struct HostileCorpusTests {
    let folder = temporaryFolder()

    func error(_ text: String, name: String, format: CorpusFormat? = nil) -> CorpusError? {
        let path = write(text, name: name, in: folder)
        do { _ = try read(path, format: format); return nil } catch let e as CorpusError { return e } catch { return nil }
    }

    /// Found by benchmarks/fuzz.sh (conllu): a line of spaces where a sentence would start made an
    /// empty sentence block, read past its end. A blank line of spaces or tabs separates sentences.
    @Test func conlluLinesOfSpacesSeparateSentences() throws {
        let word = "1\tHi\thi\tINTJ\tUH\t_\t0\troot\t_\t_\n"
        #expect(try read(write(" \n", name: "spaces.conllu", in: folder)).sentences.isEmpty)
        let corpus = try read(write(" \t\n" + word + "  \n" + word, name: "between.conllu", in: folder))
        #expect(corpus.sentences.count == 2 && corpus.sentences.allSatisfy { $0.words.map(\.form) == ["Hi"] })
    }

    /// Found by benchmarks/fuzz.sh (tiger, minimised): a file declaring an encoding its bytes are
    /// not in. libxml2 reported the conversion failure outside the parser (printing it) and every
    /// later read failed again, so --skip-invalid went on for minutes; now the first failed read
    /// ends the file with libxml2's message, and nothing is printed.
    @Test func undecodableXMLEndsTheFile() throws {
        let text = "<?xml version=\"1.0\" encoding=\"UTF-7\"?>\n<corpus id=\"x\"><body><s id=\"s1\">"
            + String(repeating: "\u{FF}", count: 40) + "</s></body></corpus>\n"
        var bytes = Array(text.utf8)
        bytes.replaceSubrange(bytes.firstIndex(of: 0xC3)!..<(bytes.lastIndex(of: 0xBF)! + 1), with: [UInt8](repeating: 0xFF, count: 40))
        let path = folder + "/utf7.tiger.xml"
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        let started = Date()
        let result = try CorpusReader.read([path], format: .tiger, skipInvalid: true)
        #expect(result.corpus.sentences.isEmpty && result.skipped.count == 1)
        #expect(result.skipped.first.map { $0.path == path && $0.message.hasPrefix("XML error: ") } == true, "\(result.skipped)")
        #expect(Date().timeIntervalSince(started) < 5)
        #expect(throws: CorpusError.self) { try CorpusReader.read([path], format: .tiger) }
    }

    /// 50,000 levels of brackets: the reader copes, and the writer (once recursive) writes them
    /// back exactly, on an explicit stack.
    @Test func deepBracketsRoundTrip() throws {
        let depth = 50_000
        let text = String(repeating: "(X ", count: depth) + "(NN deep)" + String(repeating: ")", count: depth) + "\n"
        let corpus = try read(write(text, name: "deep.ptb", in: folder))
        #expect(corpus.sentences.count == 1 && corpus.sentences[0].words.map(\.form) == ["deep"])
        #expect(try PennTreebankWriter.text(corpus.sentences[0]) == text)
    }

    /// A TIGER graph whose edges close a cycle recursed forever in `convert --to ptb`; a node with
    /// two mothers repeated its words. Both are malformed files, found at reading.
    @Test func tigerCyclesAndSharedNodes() throws {
        func tiger(_ nonterminals: String) -> String {
            """
            <?xml version="1.0"?>
            <corpus id="c"><head></head><body>
            <s id="s1"><graph root="s1_500"><terminals><t id="s1_1" word="a" pos="NN"/></terminals><nonterminals>
            \(nonterminals)
            </nonterminals></graph></s>
            </body></corpus>
            """
        }
        let cycle = try #require(
            error(
                tiger(
                    """
                    <nt id="s1_500" cat="S"><edge idref="s1_1" label="HD"/></nt>
                    <nt id="s1_501" cat="NP"><edge idref="s1_502" label="HD"/></nt>
                    <nt id="s1_502" cat="NP"><edge idref="s1_501" label="HD"/></nt>
                    """), name: "cycle.xml"))
        #expect(cycle.line == 3 && cycle.message.contains("cycle through nodes s1_502 → s1_501 → s1_502"), "\(cycle)")
        let selfLoop = try #require(
            error(
                tiger(
                    """
                    <nt id="s1_500" cat="S"><edge idref="s1_1" label="HD"/><edge idref="s1_501"/></nt>
                    <nt id="s1_501" cat="NP"><edge idref="s1_501" label="HD"/></nt>
                    """), name: "self.xml"))
        #expect(selfLoop.message.contains("two mothers") || selfLoop.message.contains("cycle"), "\(selfLoop)")
        let shared = try #require(
            error(
                tiger(
                    """
                    <nt id="s1_500" cat="S"><edge idref="s1_501"/><edge idref="s1_502"/></nt>
                    <nt id="s1_501" cat="NP"><edge idref="s1_1" label="HD"/></nt>
                    <nt id="s1_502" cat="NP"><edge idref="s1_1" label="HD"/></nt>
                    """), name: "shared.xml"))
        #expect(shared.message.contains("node s1_1 has two mothers, s1_501 and s1_502"), "\(shared)")
    }

    /// A structural check that needs no reader: cycles and sharing in a built graph.
    @Test func structuralProblems() {
        let leaf = Tree.Node(label: "NN", word: 0)
        #expect(Tree(nodes: [Tree.Node(label: "S", children: [.init(child: 1)]), leaf], root: 0).structuralProblem() == nil)
        let loop = Tree(
            nodes: [Tree.Node(label: "S", children: [.init(child: 1)]), leaf, Tree.Node(label: "A", children: [.init(child: 2)])], root: 0)
        #expect(loop.structuralProblem() == .cycle(nodes: [2]))
        let twice = Tree(nodes: [Tree.Node(label: "S", children: [.init(child: 1), .init(child: 1)]), leaf], root: 0)
        #expect(twice.structuralProblem() == .sharedNode(node: 1, mothers: [0, 0]))
        #expect(Tree(nodes: [Tree.Node(label: "S", children: [.init(child: 7)])], root: 0).structuralProblem() == .dangling(node: 0))
    }

    /// Billion laughs: entity declarations are refused before libxml2 expands anything (it ran
    /// 115 s and 3.25 GB with XML_PARSE_HUGE and was reported valid).
    @Test func entityDeclarationsAreRefused() throws {
        var text = "<?xml version=\"1.0\"?>\n<!DOCTYPE corpus [\n<!ENTITY a \"aaaaaaaaaa\">\n"
        for (i, name) in "bcdefghij".enumerated() {
            let previous = Array("abcdefghij")[i]
            text += "<!ENTITY \(name) \"" + String(repeating: "&\(previous);", count: 10) + "\">\n"
        }
        text +=
            "]>\n<corpus id=\"c\"><head></head><body><s id=\"s1\"><graph root=\"s1_1\"><terminals><t id=\"s1_1\" word=\"&j;\" pos=\"NN\"/></terminals></graph></s></body></corpus>\n"
        let e = try #require(error(text, name: "laughs.xml"))
        #expect(e.line == 3 && e.message.contains("declares XML entities"), "\(e)")
        let alpino = try #require(
            error("<?xml version=\"1.0\"?>\n<!DOCTYPE alpino_ds [<!ENTITY x \"y\">]>\n<alpino_ds/>\n", name: "a.xml", format: .alpino))
        #expect(alpino.line == 2, "\(alpino)")
    }

    /// Errors libxml2 raises outside the reader's own callback (an undefined entity, a bad
    /// character reference) become `CorpusError`s with a line, not text on stderr and exit 0.
    @Test func libxmlErrorsAreCaptured() throws {
        let undefined = try #require(
            error(
                "<?xml version=\"1.0\"?>\n<corpus id=\"c\"><head></head><body>\n<s id=\"s1\"><graph root=\"s1_1\"><terminals><t id=\"s1_1\" word=\"&nope;\" pos=\"NN\"/></terminals></graph></s></body></corpus>\n",
                name: "undefined.xml"))
        #expect(undefined.line == 3 && undefined.message.contains("XML error"), "\(undefined)")
        let badReference = try #require(
            error(
                "<?xml version=\"1.0\"?>\n<corpus id=\"c\"><head></head><body>\n<s id=\"s1\"><graph root=\"s1_1\"><terminals><t id=\"s1_1\" word=\"&#0;\" pos=\"NN\"/></terminals></graph></s></body></corpus>\n",
                name: "reference.xml"))
        #expect(badReference.line == 3, "\(badReference)")
    }

    /// `(NN )` was dropped without a word: a malformed file.
    @Test func emptyLeavesAreMalformed() throws {
        let e = try #require(error("(S (NP (DT the) (NN )) (VP (VBZ runs)))\n", name: "empty.ptb"))
        #expect(e.line == 1 && e.column == 17 && e.message.contains("'(NN)' has neither a word nor daughters"), "\(e)")
        #expect(error("()\n", name: "nothing.ptb")?.message.contains("has neither a word nor daughters") == true)
    }

    /// dep.depth on a 200,000-word chain (word i's head is word i − 1) was quadratic (> 20 s);
    /// memoised it is linear, and the depths are the closed form i − 1, capped at "8+".
    @Test func dependencyDepthIsLinear() throws {
        let n = 200_000
        var text = ""
        text.reserveCapacity(n * 24)
        for i in 1...n { text += "\(i)\tw\tw\tX\tX\t_\t\(i - 1)\t\(i == 1 ? "root" : "dep")\t_\t_\n" }
        let corpus = try read(write(text, name: "chain.conllu", in: folder))
        let clock = ContinuousClock.now
        let labels = try #require(Property(name: "dep.depth")).labels(corpus)[0]
        #expect(ContinuousClock.now - clock < .seconds(5))
        #expect(labels.prefix(9) == ["0", "1", "2", "3", "4", "5", "6", "7", "8+"] && labels.last == "8+")
        // Against a brute-force walk on a small tree with a missing head (word 3's chain stops).
        let words = [
            Word(form: "a", head: 0), Word(form: "b", head: 1), Word(form: "c", head: nil), Word(form: "d", head: 3), Word(form: "e", head: 2),
        ]
        #expect(Property.dependencyDepths(words) == [0, 1, 0, 1, 2])
        let cyclic = [Word(form: "a", head: 2), Word(form: "b", head: 1), Word(form: "c", head: 1)]
        #expect(Property.dependencyDepths(cyclic) == [4, 4, 4])
    }

    /// A CoNLL-U file whose first line is longer than 8 KB is still CoNLL-U.
    @Test func longFirstLineIsStillConllu() throws {
        let long = String(repeating: "x", count: 20_000)
        let path = write("1\t\(long)\t_\tX\tX\t_\t0\troot\t_\t_\n", name: "long", in: folder)
        #expect(try CorpusFormat.detect(path: path) == .conllu)
    }

    /// FIFOs and devices blocked `open()` forever: only regular files are read.
    @Test func fifosAreRefusedWithoutBlocking() throws {
        let path = folder + "/pipe.conllu"
        #expect(mkfifo(path, 0o600) == 0)
        #expect { _ = try read(path) } throws: { "\($0)".contains("not a regular file") }
        #expect { _ = try read("/dev/zero") } throws: { "\($0)".contains("not a regular file") }
        // In a folder, the FIFO is left out and named, and the regular files are read.
        _ = write("1\ta\ta\tX\tX\t_\t0\troot\t_\t_\n", name: "real.conllu", in: folder)
        let result = try CorpusReader.read([folder])
        #expect(result.corpus.sentences.count == 1)
        #expect(result.skippedFiles == [path])
    }
}
