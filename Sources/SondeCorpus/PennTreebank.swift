import SondeBase

/// Reads Penn Treebank brackets (`.mrg`, `.ptb`, `.penn`, Penn-historical `.psd`): any number of
/// trees per file, pretty-printed over lines or one per line.
///
/// - An outer wrapper without a label, `( (S …) )`, or with one, `(ROOT …)`, is the tree's root.
/// - A node with one bare child, `(NN dog)`, is a terminal: a word unless it is an empty element
///   or an `ID`/`CODE` node; those stay in the tree with `leafText` and are not words. Empty
///   elements: anything under `-NONE-` (PTB); `*X*` with an optional index (`*pro*`, `*T*-1`);
///   `0` under C/WNP/WADVP/… anywhere; and in `.psd` files (CorpusSearch, as the Penn historical
///   corpora and IcePaHC use them) also a bare `*`, a trace `*-4`, and `0` under any tag but NUM
///   (the zero complementizer, operator or preposition: `(C 0)`, `(P 0)`).
/// - Labels keep function tags and indices verbatim (`NP-SBJ-1`); `category(of:)` strips them.
/// - Bracket escapes are undone in words, also inside a word (`Re-LRB-a-RRB-d` → `Re(a)d`), and
///   the old `\/` and `\*` escapes too; the tag keeps its spelling (`-LRB-`).
/// - An `ID` node's text becomes the sentence's `sent_id`.
/// - A bracket with neither a word nor daughters, `()` or `(NN )` (parser output that wrote a
///   literal bracket as a word, or a lost leaf), is malformed: NLTK keeps it silently, and its
///   word is then missing from every label sequence.
public struct PennTreebankReader: SentenceReader {
    let file: TextFile
    /// CorpusSearch conventions for empty elements (`.psd`).
    private let historical: Bool
    private var position: Int
    private var line = 1
    private var lineStart = 0

    public init(path: String) throws {
        file = try TextFile(path: path)
        historical = path.lowercased().hasSuffix(".psd")
        let b = file.bytes
        position = b.count >= 3 && b[0] == 0xEF && b[1] == 0xBB && b[2] == 0xBF ? 3 : 0
    }

    private enum Token: Equatable {
        case open, close
        case atom(Range<Int>)
    }

    private mutating func skipSpace() {
        let b = file.bytes
        while position < b.count {
            let c = b[position]
            if c == 0x0A {
                line += 1
                lineStart = position + 1
            } else if !(c == 0x20 || c == 0x09 || c == 0x0D) {
                break
            }
            position += 1
        }
    }

    private mutating func token() -> (Token, line: Int, column: Int)? {
        skipSpace()
        let b = file.bytes
        guard position < b.count else { return nil }
        let here = (line, position - lineStart + 1)
        switch b[position] {
        case UInt8(ascii: "("):
            position += 1
            return (.open, here.0, here.1)
        case UInt8(ascii: ")"):
            position += 1
            return (.close, here.0, here.1)
        default:
            let start = position
            while position < b.count {
                let c = b[position]
                if c == 0x20 || c == 0x09 || c == 0x0A || c == 0x0D || c == UInt8(ascii: "(") || c == UInt8(ascii: ")") { break }
                position += 1
            }
            return (.atom(start..<position), here.0, here.1)
        }
    }

    /// The next tree as a sentence, or nil at the end of the file.
    public mutating func next() throws -> Sentence? {
        guard let (first, startLine, startColumn) = token() else { return nil }
        guard first == .open else {
            throw CorpusError(file.path, line: startLine, column: startColumn, "expected '(' to start a tree")
        }
        var nodes: [Tree.Node] = []
        var words: [Word] = []
        var sentenceID: String?
        // Each open node: its index in `nodes`, and where it was opened (for errors).
        var stack: [(node: Int, line: Int, column: Int)] = []
        nodes.append(Tree.Node(label: ""))
        stack.append((0, startLine, startColumn))
        var expectLabel = true
        var pendingLeaf: (text: String, line: Int, column: Int)?
        while let top = stack.last {
            guard let (tok, l, c) = token() else {
                throw CorpusError(file.path, line: top.line, column: top.column, "unclosed '(': the file ends inside this tree")
            }
            switch tok {
            case .atom(let range):
                let text = file.string(range)
                if expectLabel {
                    nodes[top.node].label = text
                    expectLabel = false
                } else if pendingLeaf == nil && nodes[top.node].children.isEmpty {
                    pendingLeaf = (text, l, c)
                } else {
                    throw CorpusError(file.path, line: l, column: c, "'\(text)' is a word without its own (TAG word) brackets")
                }
            case .open:
                if let leaf = pendingLeaf {
                    throw CorpusError(file.path, line: leaf.line, column: leaf.column, "'\(leaf.text)' is a word without its own (TAG word) brackets")
                }
                nodes.append(Tree.Node(label: ""))
                nodes[top.node].children.append(Tree.Edge(child: nodes.count - 1))
                stack.append((nodes.count - 1, l, c))
                expectLabel = true
            case .close:
                if let leaf = pendingLeaf {
                    let tag = nodes[top.node].label
                    if tag == "ID" || tag == "CODE" {
                        nodes[top.node].leafText = leaf.text
                        if tag == "ID" { sentenceID = leaf.text }
                    } else if Self.isEmptyElement(tag: tag, text: leaf.text, historical: historical) {
                        nodes[top.node].leafText = leaf.text
                    } else {
                        nodes[top.node].word = words.count
                        words.append(Word(form: Self.unescape(leaf.text), xpos: tag))
                    }
                    pendingLeaf = nil
                } else if nodes[top.node].children.isEmpty {
                    throw CorpusError(
                        file.path, line: top.line, column: top.column,
                        "'(\(nodes[top.node].label))' has neither a word nor daughters (an unescaped bracket? words write ( and ) as -LRB- and -RRB-)"
                    )
                }
                stack.removeLast()
                expectLabel = false
            }
        }
        // A wrapper "( (S …) )" adds nothing but is kept, so the tree writes back as it was read.
        var comments: [String] = []
        if let sentenceID { comments.append("sent_id = \(sentenceID)") }
        if words.isEmpty {
            throw CorpusError(file.path, line: startLine, column: startColumn, "tree has no words")
        }
        return Sentence(
            comments: comments, words: words, tree: Tree(nodes: nodes, root: 0),
            location: TextLocation(path: file.path, line: startLine))
    }

    /// Skips to the start of the next tree after `next()` threw: the next '(' at the start of a
    /// line (the only place a new tree can start in pretty-printed or one-per-line files).
    public mutating func skipSentence() -> Bool {
        let b = file.bytes
        while position < b.count {
            if b[position] == UInt8(ascii: "(") && position == lineStart { return true }
            if b[position] == 0x0A {
                line += 1
                lineStart = position + 1
            }
            position += 1
        }
        return true
    }

    static let historicalEmptyTags: Set<String> = ["C", "WNP", "WADVP", "WADJP", "WPP", "WQP"]

    static func isEmptyElement(tag: String, text: String, historical: Bool) -> Bool {
        if tag == "-NONE-" { return true }
        if text.hasPrefix("*") && text.count > 1 && text.dropFirst().contains("*") { return true }  // *pro*, *T*-1, *exp*
        if text == "0" && historicalEmptyTags.contains(category(tag)) { return true }
        guard historical else { return false }
        // CorpusSearch: "*" alone (an empty subject or object), "*-4" (a trace and its index),
        // "0" (a zero element) under any tag that is not a numeral.
        if text == "*" { return true }
        if text.hasPrefix("*-"), text.count > 2, text.dropFirst(2).allSatisfy(\.isNumber) { return true }
        return text == "0" && category(tag) != "NUM"
    }

    /// The category of a label without function tags and indices: `NP-SBJ-1` → `NP`,
    /// `WHNP=2` → `WHNP`; labels that start with `-` (`-NONE-`, `-LRB-`) stay as they are.
    public static func category(_ label: String) -> String {
        guard let first = label.first, first != "-" else { return label }
        let cut = label.firstIndex { $0 == "-" || $0 == "=" } ?? label.endIndex
        return String(label[..<cut])
    }

    static let escapes = [("-LRB-", "("), ("-RRB-", ")"), ("-LCB-", "{"), ("-RCB-", "}"), ("-LSB-", "["), ("-RSB-", "]")]

    static func unescape(_ text: String) -> String {
        guard text.contains("-") || text.contains("\\") else { return text }
        var s = text
        for (escaped, plain) in escapes { s = s.replacingAll(escaped, with: plain) }
        return s.replacingAll("\\/", with: "/").replacingAll("\\*", with: "*")
    }

    static func escape(_ text: String) -> String {
        var s = text
        for (escaped, plain) in escapes { s = s.replacingAll(plain, with: escaped) }
        return s
    }
}

extension String {
    func replacingAll(_ target: String, with replacement: String) -> String {
        guard !target.isEmpty, contains(target) else { return self }
        var result = ""
        var rest = self[...]
        while let r = rest.range(of: target) {
            result += rest[..<r.lowerBound]
            result += replacement
            rest = rest[r.upperBound...]
        }
        return result + rest
    }
}

extension Substring {
    func range(of target: String) -> Range<Index>? {
        guard let first = target.first else { return nil }
        var i = startIndex
        while let start = self[i...].firstIndex(of: first) {
            if self[start...].hasPrefix(target) { return start..<index(start, offsetBy: target.count) }
            i = index(after: start)
        }
        return nil
    }
}

/// Writes sentences as Penn Treebank brackets, one tree per line. A sentence without a tree is
/// written as a flat tree `(ROOT (TAG word) …)` with its XPOS (else UPOS, else `X`).
public enum PennTreebankWriter {
    public static func text(_ sentence: Sentence) throws -> String {
        for (i, w) in sentence.words.enumerated() where w.form.contains(where: { $0 == " " || $0 == "\t" }) {
            throw CorpusError(
                sentence.location?.path ?? "-", line: sentence.location?.line ?? 0,
                "word \(i + 1) ('\(w.form)') contains a space, which Penn brackets cannot hold")
        }
        guard let tree = sentence.tree else {
            let leaves = sentence.words.map { "(\($0.xpos ?? $0.upos ?? "X") \(PennTreebankReader.escape($0.form)))" }
            return "(ROOT " + leaves.joined(separator: " ") + ")\n"
        }
        if let problem = tree.structuralProblem() {
            throw CorpusError(
                sentence.location?.path ?? "-", line: sentence.location?.line ?? 0,
                "the tree is not a tree (\(problem)); Penn brackets cannot hold it")
        }
        // An explicit stack (node, next daughter), not recursion: trees may nest 100,000 deep.
        var out = ""
        var stack: [(node: Int, next: Int)] = [(tree.root, 0)]
        func open(_ n: Int) {
            let node = tree.nodes[n]
            out += "(" + node.label
            if let w = node.word {
                out += " " + PennTreebankReader.escape(sentence.words[w].form)
            } else if let text = node.leafText {
                out += " " + text
            }
        }
        open(tree.root)
        while let (n, next) = stack.last {
            let children = tree.nodes[n].children
            if next < children.count {
                stack[stack.count - 1].next += 1
                out += " "
                open(children[next].child)
                stack.append((children[next].child, 0))
            } else {
                out += ")"
                stack.removeLast()
            }
        }
        return out + "\n"
    }

    public static func write(_ corpus: Corpus, to path: String) throws {
        try AtomicFile.write(to: path) { writer in
            for s in corpus.sentences { try writer.write(Array(text(s).utf8)) }
        }
    }
}
