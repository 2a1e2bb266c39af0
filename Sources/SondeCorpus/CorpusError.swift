import SondeBase

/// A problem in a treebank file, located: `path:line[:column]: what is wrong`.
public struct CorpusError: CategorizedError, Equatable {
    public var path: String
    public var line: Int
    public var column: Int?
    public var message: String

    public init(_ path: String, line: Int, column: Int? = nil, _ message: String) {
        self.path = path
        self.line = line
        self.column = column
        self.message = message
    }

    public var description: String {
        "\(path):\(line)\(column.map { ":\($0)" } ?? ""): \(message)"
    }

    public var category: ErrorCategory { .malformedInput }
}

/// The result of reading with `--skip-invalid`: the good sentences and every error, so that
/// nothing is dropped without a word.
public struct ReadResult: Sendable {
    public var corpus: Corpus
    /// One error per skipped sentence (or unreadable stretch), in file order.
    public var skipped: [CorpusError]
    /// The files read, in order (folders expanded).
    public var files: [String] = []
    /// Entries of the folders read that have a treebank name but are not regular files (FIFOs,
    /// devices, sockets), left out unopened: opening a FIFO would block forever.
    public var skippedFiles: [String] = []
}

/// What a read found, in numbers: the first thing `sonde corpus stats` says.
public struct CorpusSummary: Codable, Sendable {
    public let files: [String]
    public let sentences: Int
    public let words: Int
    public let tokens: Int
    public let multiwordTokens: Int
    public let emptyNodes: Int
    /// Sentences with a constituency tree.
    public let trees: Int
    public let skipped: [String]

    public init(_ result: ReadResult) {
        let c = result.corpus
        files = result.files
        sentences = c.sentences.count
        words = c.wordCount
        tokens = c.tokenCount
        multiwordTokens = c.sentences.reduce(0) { $0 + $1.multiwordTokens.count }
        emptyNodes = c.sentences.reduce(0) { $0 + $1.emptyNodes.count }
        trees = c.sentences.filter { $0.tree != nil }.count
        skipped = result.skipped.map(\.description)
    }
}
