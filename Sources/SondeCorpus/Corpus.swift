/// A treebank: sentences with their words and, depending on the format, dependencies
/// (CoNLL-U), a constituency tree (PTB brackets, TIGER-XML, Alpino XML), or both.
public struct Corpus: Sendable, Equatable {
    public var sentences: [Sentence]
    /// The TIGER-XML `<head>` (feature and edge-label declarations), when the source had one.
    public var tigerHeader: TigerHeader?

    public init(sentences: [Sentence] = [], tigerHeader: TigerHeader? = nil) {
        self.sentences = sentences
        self.tigerHeader = tigerHeader
    }

    public var wordCount: Int { sentences.reduce(0) { $0 + $1.words.count } }
    public var tokenCount: Int { sentences.reduce(0) { $0 + $1.surfaceTokenCount } }
}

/// Where a sentence came from, for messages: the file and the line it starts on.
public struct TextLocation: Sendable, Hashable, CustomStringConvertible {
    public var path: String
    public var line: Int

    public init(path: String, line: Int) {
        self.path = path
        self.line = line
    }

    public var description: String { "\(path):\(line)" }
}

/// One sentence. `words` are the syntactic words a probe works on (CoNLL-U integer IDs, tree
/// leaves that are not empty elements); multiword tokens and empty nodes are kept beside them.
public struct Sentence: Sendable {
    /// Comment lines in order, without the leading "# " (CoNLL-U; the other formats fill in
    /// `sent_id` and `text`). `key = value` comments are read by `comment(_:)`.
    public var comments: [String]
    public var words: [Word]
    /// CoNLL-U ranges such as `3-4 don't`.
    public var multiwordTokens: [MultiwordToken]
    /// CoNLL-U empty nodes such as `8.1`, never counted as words.
    public var emptyNodes: [EmptyNode]
    public var tree: Tree?
    /// Not part of equality: the same sentence read from two files is equal.
    public var location: TextLocation?

    public init(
        comments: [String] = [], words: [Word] = [], multiwordTokens: [MultiwordToken] = [], emptyNodes: [EmptyNode] = [],
        tree: Tree? = nil, location: TextLocation? = nil
    ) {
        self.comments = comments
        self.words = words
        self.multiwordTokens = multiwordTokens
        self.emptyNodes = emptyNodes
        self.tree = tree
        self.location = location
    }

    /// The value of the first `# key = value` comment with this key (`sent_id`, `text`, …).
    public func comment(_ key: String) -> String? {
        for line in comments {
            guard line.hasPrefix(key) else { continue }
            let rest = line.dropFirst(key.count)
            guard let eq = rest.firstIndex(of: "="), rest[..<eq].allSatisfy({ $0 == " " }) else { continue }
            var value = rest[rest.index(after: eq)...]
            if value.first == " " { value = value.dropFirst() }
            return String(value)
        }
        return nil
    }

    public var id: String? { comment("sent_id") }
    public var text: String? { comment("text") }
    /// The id of the document this sentence opens (`# newdoc id = …`), if it opens one.
    public var newDocumentID: String? {
        comments.contains { $0 == "newdoc" || $0.hasPrefix("newdoc ") } ? (comment("newdoc id") ?? "") : nil
    }

    /// Surface tokens: multiword ranges plus the words no range covers.
    public var surfaceTokenCount: Int {
        let covered = multiwordTokens.reduce(0) { $0 + ($1.last - $1.first + 1) }
        return multiwordTokens.count + words.count - covered
    }
}

extension Sentence: Equatable {
    public static func == (a: Sentence, b: Sentence) -> Bool {
        a.comments == b.comments && a.words == b.words && a.multiwordTokens == b.multiwordTokens
            && a.emptyNodes == b.emptyNodes && a.tree == b.tree
    }
}

/// A syntactic word. Absent CoNLL-U fields (`_`) are nil; FEATS, DEPS and MISC are kept verbatim
/// (lossless, and cheap to read) and parsed on demand by `features` and `miscellaneous`.
public struct Word: Sendable, Equatable {
    /// The form as written (a literal `_` is a real token in some treebanks).
    public var form: String
    public var lemma: String?
    public var upos: String?
    public var xpos: String?
    /// FEATS verbatim, e.g. `Number=Sing|Person=3`.
    public var feats: String?
    /// 1-based index of the head word; 0 for the root; nil when the format has no dependencies.
    public var head: Int?
    public var deprel: String?
    /// Enhanced dependencies verbatim, e.g. `5:conj:and|13:nsubj`.
    public var deps: String?
    public var misc: String?

    public init(
        form: String, lemma: String? = nil, upos: String? = nil, xpos: String? = nil, feats: String? = nil,
        head: Int? = nil, deprel: String? = nil, deps: String? = nil, misc: String? = nil
    ) {
        self.form = form
        self.lemma = lemma
        self.upos = upos
        self.xpos = xpos
        self.feats = feats
        self.head = head
        self.deprel = deprel
        self.deps = deps
        self.misc = misc
    }

    /// FEATS as ordered key/value pairs.
    public var features: [(key: String, value: String)] { Word.pairs(feats) }
    /// MISC as ordered key/value pairs (a bare item has an empty value).
    public var miscellaneous: [(key: String, value: String)] { Word.pairs(misc) }

    public func feature(_ key: String) -> String? { features.first { $0.key == key }?.value }

    static func pairs(_ text: String?) -> [(key: String, value: String)] {
        guard let text else { return [] }
        return text.split(separator: "|", omittingEmptySubsequences: true).map { item in
            if let eq = item.firstIndex(of: "=") {
                return (String(item[..<eq]), String(item[item.index(after: eq)...]))
            }
            return (String(item), "")
        }
    }
}

/// A CoNLL-U multiword token: the surface form of words `first...last`.
public struct MultiwordToken: Sendable, Equatable {
    public var first: Int
    public var last: Int
    public var form: String
    public var misc: String?

    public init(first: Int, last: Int, form: String, misc: String? = nil) {
        self.first = first
        self.last = last
        self.form = form
        self.misc = misc
    }
}

/// A CoNLL-U empty node `major.minor` (after word `major`), with the word's fields (no head).
public struct EmptyNode: Sendable, Equatable {
    public var major: Int
    public var minor: Int
    public var word: Word

    public init(major: Int, minor: Int, word: Word) {
        self.major = major
        self.minor = minor
        self.word = word
    }
}
