import SondeBase

/// A linguistic property: one label per word of a corpus (`labels[sentence][word]`).
///
/// Names (`Property(name:)`):
/// - `upos`, `xpos`, `lemma`, `form`; `feats.<Key>` (e.g. `feats.Number`, "none" where absent);
/// - `deprel` and `deprel.base` (without the subtype: `nmod:poss` → `nmod`);
/// - `suffix.<n>` (`n` 1…4): the form's last n characters, lowercased ("none" for a word of n
///   characters or fewer) — a lexical property, as the "suffix" task of Linguistic Correlation Analysis;
/// - `head.direction` (`left`: the head comes before the word, `right`, `root`);
///   `head.distance` (`root`, `1`, `2`, `3-4`, `5-8`, `9+` words away);
///   `dep.depth` (edges from the root word: `0` … `7`, then `8+`);
/// - from constituency trees: `tree.tag` (the preterminal's category), `tree.parent` (the
///   category of the phrase above it), `tree.chunk` (BIO chunk of that lowest phrase: `B-NP`
///   where the previous word's lowest phrase is another one, `I-NP` where it is the same, `O`
///   when the word hangs from the root), `tree.depth` (`1` … `9`, then `10+`);
/// - from TIGER/Alpino: `function` (the label of the edge into the word: TIGER edge label, Alpino
///   `rel`), `attr.<name>` (a node attribute such as `attr.morph`, "none" where absent);
/// - sentence level: `doc` (the current `newdoc id`, else the genre prefix of `sent_id`) and
///   `genre` (the `sent_id` up to its first `-`, as EWT's `weblog-…`).
///
/// One-vs-rest: `NAME=VALUE[,VALUE…]` (e.g. `upos=NOUN`, `upos=NOUN,PROPN`,
/// `feats.Number=Plur`) labels a word `VALUE[,VALUE…]` (the text after `=`) when its value is one
/// of those, else `other`: a binary property.
///
/// A word that lacks the annotation gets "none"; a property that needs annotation the corpus
/// does not have at all (dependencies, trees), a feature no word has, or a one-vs-rest value
/// that never occurs throws, naming what the corpus does have.
public struct Property: Sendable, Hashable, CustomStringConvertible {
    public let name: String
    private let kind: Kind
    /// The values a one-vs-rest property keeps; nil for the property's own labels.
    public let positives: Set<String>?
    /// The label of the kept words of a one-vs-rest property (the text after `=`).
    private let positiveLabel: String
    /// The label of the other words of a one-vs-rest property.
    public static let other = "other"

    private enum Kind: Hashable, Sendable {
        case upos, xpos, lemma, form, feature(String), deprel, deprelBase, headDirection, headDistance, dependencyDepth
        case treeTag, treeParent, treeChunk, treeDepth, function, attribute(String), document, genre, suffix(Int)
    }

    public static let builtInNames = [
        "upos", "xpos", "lemma", "form", "suffix.<n>", "feats.<Key>", "deprel", "deprel.base", "head.direction", "head.distance", "dep.depth",
        "tree.tag", "tree.parent", "tree.chunk", "tree.depth", "function", "attr.<name>", "doc", "genre",
    ]

    public static let none = "none"

    public init?(name: String) {
        self.name = name
        var base = name
        if let eq = name.firstIndex(of: "=") {
            let values = name[name.index(after: eq)...].split(separator: ",", omittingEmptySubsequences: false).map { String($0) }
            guard !values.isEmpty, !values.contains(where: \.isEmpty) else { return nil }
            positives = Set(values)
            positiveLabel = String(name[name.index(after: eq)...])
            base = String(name[..<eq])
        } else {
            positives = nil
            positiveLabel = ""
        }
        switch base {
        case "upos": kind = .upos
        case "xpos": kind = .xpos
        case "lemma": kind = .lemma
        case "form": kind = .form
        case "deprel": kind = .deprel
        case "deprel.base": kind = .deprelBase
        case "head.direction": kind = .headDirection
        case "head.distance": kind = .headDistance
        case "dep.depth": kind = .dependencyDepth
        case "tree.tag": kind = .treeTag
        case "tree.parent": kind = .treeParent
        case "tree.chunk": kind = .treeChunk
        case "tree.depth": kind = .treeDepth
        case "function": kind = .function
        case "doc": kind = .document
        case "genre": kind = .genre
        default:
            if base.hasPrefix("feats."), base.count > 6 {
                kind = .feature(String(base.dropFirst(6)))
            } else if base.hasPrefix("suffix."), let n = Int(base.dropFirst(7)), (1...4).contains(n) {
                kind = .suffix(n)
            } else if base.hasPrefix("attr."), base.count > 5 {
                kind = .attribute(String(base.dropFirst(5)))
            } else {
                return nil
            }
        }
    }

    public var description: String { name }

    /// One label per sentence (`doc`, `genre`), repeated on each of its words.
    public var isSentenceLevel: Bool { kind == .document || kind == .genre }

    /// The label of every word, sentence by sentence.
    public func labels(_ corpus: Corpus) throws -> [[String]] {
        switch kind {
        case .deprel, .deprelBase, .headDirection, .headDistance, .dependencyDepth:
            if let s = corpus.sentences.first(where: { $0.words.contains { $0.head == nil } }) {
                throw PropertyError(property: name, sentence: s, need: "dependencies (HEAD)")
            }
        case .treeTag, .treeParent, .treeChunk, .treeDepth, .function, .attribute:
            if let s = corpus.sentences.first(where: { $0.tree == nil }) {
                throw PropertyError(property: name, sentence: s, need: "a constituency tree")
            }
        default: break
        }
        if case .feature(let key) = kind, !corpus.sentences.contains(where: { $0.words.contains { $0.feature(key) != nil } }) {
            let present = Set(corpus.sentences.lazy.flatMap { $0.words.flatMap { $0.features.map(\.key) } }).sorted()
            throw PropertyError(
                property: name,
                message:
                    "no word has the feature \(key)\(Self.nearest(key, in: present).map { " (did you mean \($0)?)" } ?? ""); features present: \(present.isEmpty ? "none" : present.joined(separator: ", "))"
            )
        }
        var document: String?
        let labels = corpus.sentences.map { sentence in
            if let id = sentence.newDocumentID { document = id }
            return sentenceLabels(sentence, document: document)
        }
        guard let positives else { return labels }
        let seen = Set(labels.lazy.flatMap { $0 })
        if let missing = positives.sorted().first(where: { !seen.contains($0) }) {
            throw PropertyError(
                property: name,
                message:
                    "no word has the value \(missing)\(Self.nearest(missing, in: Array(seen)).map { " (did you mean \($0)?)" } ?? ""); values present: \(seen.sorted().joined(separator: ", "))"
            )
        }
        return labels.map { $0.map { positives.contains($0) ? positiveLabel : Self.other } }
    }

    /// The candidate closest to `text` by edit distance (case-insensitive), if it is close: at
    /// most a third of the longer name's characters apart.
    public static func nearest(_ text: String, in candidates: [String]) -> String? {
        func distance(_ a: [Character], _ b: [Character]) -> Int {
            var previous = Array(0...b.count)
            for (i, x) in a.enumerated() {
                var current = [i + 1]
                for (j, y) in b.enumerated() { current.append(min(previous[j] + (x == y ? 0 : 1), previous[j + 1] + 1, current[j] + 1)) }
                previous = current
            }
            return previous[b.count]
        }
        let lower = Array(text.lowercased())
        let scored = candidates.map { ($0, distance(lower, Array($0.lowercased()))) }.min { ($0.1, $0.0) < ($1.1, $1.0) }
        guard let (best, d) = scored, d > 0 || best != text, d <= max(1, max(lower.count, best.count) / 3) else { return nil }
        return best
    }

    private func sentenceLabels(_ s: Sentence, document: String?) -> [String] {
        let words = s.words
        func each(_ f: (Word) -> String?) -> [String] { words.map { f($0) ?? Property.none } }
        switch kind {
        case .upos: return each(\.upos)
        case .xpos: return each(\.xpos)
        case .lemma: return each(\.lemma)
        case .form: return each(\.form)
        case .suffix(let n): return each { $0.form.count > n ? String($0.form.lowercased().suffix(n)) : nil }
        case .feature(let key): return each { $0.feature(key) }
        case .deprel: return each(\.deprel)
        case .deprelBase: return each { $0.deprel.map { String($0.prefix { $0 != ":" }) } }
        case .headDirection:
            return words.indices.map { i in
                let h = words[i].head!
                return h == 0 ? "root" : (h - 1 < i ? "left" : "right")
            }
        case .headDistance:
            return words.indices.map { i in
                let h = words[i].head!
                if h == 0 { return "root" }
                switch abs(h - 1 - i) {
                case 1: return "1"
                case 2: return "2"
                case 3...4: return "3-4"
                case 5...8: return "5-8"
                default: return "9+"
                }
            }
        case .dependencyDepth:
            return Self.dependencyDepths(words).map { $0 >= 8 ? "8+" : String($0) }
        case .treeTag, .treeParent, .treeChunk, .treeDepth, .function, .attribute:
            return treeLabels(s)
        case .document:
            let id = document ?? s.id.map(Property.genrePrefix)
            return Array(repeating: id ?? Property.none, count: words.count)
        case .genre:
            return Array(repeating: s.id.map(Property.genrePrefix) ?? Property.none, count: words.count)
        }
    }

    /// Each word's number of head steps to the root (the root word 0), in linear time (each
    /// word's depth is its head's plus one, memoised). A chain that stops at a missing head counts the steps taken;
    /// a word whose chain runs into a cycle of heads (possible only when some heads are missing,
    /// the reader refuses cycles otherwise) gets `words.count + 1`, as a walk capped there would.
    static func dependencyDepths(_ words: [Word]) -> [Int] {
        let unknown = -1, visiting = -2
        var depth = [Int](repeating: unknown, count: words.count + 1)
        depth[0] = 0
        for start in 1..<(words.count + 1) where depth[start] == unknown {
            var path: [Int] = []
            var n = start
            var top: Int?  // the depth the chain's end has
            while top == nil {
                if depth[n] >= 0 { top = depth[n]; break }
                if depth[n] == visiting { top = words.count; break }  // a cycle
                depth[n] = visiting
                path.append(n)
                guard let h = words[n - 1].head, h != 0, h <= words.count else { top = -1; break }  // the root or a missing head
                n = h
            }
            var below = top!
            for p in path.reversed() {
                below = min(below + 1, words.count + 1)
                depth[p] = below
            }
        }
        return Array(depth.dropFirst())
    }

    static func genrePrefix(_ id: String) -> String { String(id.prefix { $0 != "-" }) }

    private func treeLabels(_ s: Sentence) -> [String] {
        let tree = s.tree!
        let parents = tree.parents()
        let terminals = tree.terminals(wordCount: s.words.count)
        let depths = kind == .treeDepth ? tree.depths() : []
        // The lowest phrase of each word (its terminal's mother), for BIO chunks.
        let lowest = terminals.map { t in t.flatMap { parents[$0]?.parent } }
        return s.words.indices.map { w in
            guard let t = terminals[w] else { return Property.none }
            let parent = parents[t]
            switch kind {
            case .treeTag: return PennTreebankReader.category(tree.nodes[t].label)
            case .treeParent: return parent.map { PennTreebankReader.category(tree.nodes[$0.parent].label) } ?? Property.none
            case .treeChunk:
                guard let p = lowest[w], p != tree.root else { return "O" }
                let continues = w > 0 && lowest[w - 1] == p
                return (continues ? "I-" : "B-") + PennTreebankReader.category(tree.nodes[p].label)
            case .treeDepth:
                guard let d = depths[t] else { return Property.none }
                return d >= 10 ? "10+" : String(d)
            case .function: return parent?.label ?? Property.none
            case .attribute(let name): return tree.nodes[t].attribute(name).flatMap { $0 == "--" ? nil : $0 } ?? Property.none
            default: return Property.none
            }
        }
    }
}

/// A property asked of a corpus that lacks the annotation it needs.
public struct PropertyError: CategorizedError {
    public let property: String
    public let location: TextLocation?
    public let description: String
    public var category: ErrorCategory { .malformedInput }

    init(property: String, sentence: Sentence, need: String) {
        self.property = property
        self.location = sentence.location
        description =
            "\(sentence.location.map { "\($0): " } ?? "")property '\(property)' needs \(need), which this sentence lacks; choose a property the format has (see `sonde corpus labels --help`)"
    }

    init(property: String, message: String) {
        self.property = property
        location = nil
        description = "property '\(property)': \(message)"
    }
}

/// A tag-set mapping (e.g. PTB → UPOS): a two-column tab-separated file; lines starting with
/// "# " (hash, space) are comments, so the PTB tag `#` can be mapped.
public struct TagMapping: Sendable {
    public let path: String
    public let table: [String: String]

    public init(path: String) throws {
        let file = try TextFile(path: path)
        var table: [String: String] = [:]
        try file.forEachLine { number, range in
            let line = file.string(range)
            if line.isEmpty || line.hasPrefix("# ") { return }
            let columns = line.split(separator: "\t", omittingEmptySubsequences: false)
            guard columns.count == 2, !columns[0].isEmpty, !columns[1].isEmpty else {
                throw CorpusError(path, line: number, "expected two tab-separated columns: tag, mapped tag")
            }
            guard table[String(columns[0])] == nil else { throw CorpusError(path, line: number, "tag '\(columns[0])' is mapped twice") }
            table[String(columns[0])] = String(columns[1])
        }
        self.path = path
        self.table = table
    }

    /// Maps every label; "none" stays "none"; a label the table lacks is an error that lists all
    /// such labels.
    public func apply(_ labels: [[String]]) throws -> [[String]] {
        var missing = Set<String>()
        let mapped = labels.map { row in
            row.map { label -> String in
                if label == Property.none { return label }
                guard let m = table[label] else {
                    missing.insert(label)
                    return label
                }
                return m
            }
        }
        guard missing.isEmpty else {
            throw CorpusError(path, line: 0, "no mapping for \(missing.sorted().map { "'\($0)'" }.joined(separator: ", ")); add them to the file")
        }
        return mapped
    }
}
