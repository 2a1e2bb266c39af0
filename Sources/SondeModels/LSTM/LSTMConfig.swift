import Foundation
import SondeBase

/// A native LSTM language model's config.json (Hugging Face layout, `model_type` "sonde-lstm").
public struct LSTMConfig: Codable, Sendable, Equatable {
    public static let modelType = "sonde-lstm"
    public var modelType = LSTMConfig.modelType
    public var vocabularySize: Int
    /// Embedding and hidden width (one width: every state is a layer of `hiddenSize` neurons).
    public var hiddenSize: Int
    public var layers: Int
    /// The decoder reuses the embedding matrix.
    public var tiedEmbeddings: Bool
    /// For a tagger or classifier: the labels its decoder predicts instead of the next word
    /// (nil for an LM), and whether each word has one ("token") or each sentence ("sentence",
    /// predicted after its last word).
    public var labels: [String]?
    public var labelLevel: LabelLevel?

    public enum LabelLevel: String, Codable, Sendable { case token, sentence }

    public init(
        vocabularySize: Int, hiddenSize: Int, layers: Int, tiedEmbeddings: Bool = false, labels: [String]? = nil, labelLevel: LabelLevel? = nil
    ) {
        self.vocabularySize = vocabularySize
        self.hiddenSize = hiddenSize
        self.layers = layers
        self.tiedEmbeddings = tiedEmbeddings
        self.labels = labels
        self.labelLevel = labels == nil ? nil : labelLevel ?? .token
    }

    enum CodingKeys: String, CodingKey {
        case modelType = "model_type", vocabularySize = "vocab_size", hiddenSize = "hidden_size", layers = "num_layers"
        case tiedEmbeddings = "tie_embeddings", labels, labelLevel = "label_level"
    }

    /// The decoder's output size: the vocabulary (LM) or the labels (tagger).
    public var outputs: Int { labels?.count ?? vocabularySize }

    /// Sizes within bounds a stranger's file cannot push into huge allocations.
    func validate(_ path: String) throws {
        func check(_ name: String, _ value: Int, _ range: ClosedRange<Int>) throws {
            guard range.contains(value) else {
                throw ModelError(.malformed, path, "\(name): \(value) is not in \(range.lowerBound)…\(range.upperBound)")
            }
        }
        try check("vocab_size", vocabularySize, 4...2_000_000)
        try check("hidden_size", hiddenSize, 1...16_384)
        try check("num_layers", layers, 1...64)
        if let labels { try check("labels", labels.count, 2...100_000) }
        if tiedEmbeddings && labels != nil { throw ModelError(.malformed, path, "tie_embeddings: a tagger's decoder cannot be the embedding") }
    }
}

/// Words to ids: `<unk>` 0, `<s>` 1 (sentence start, the first input), `</s>` 2 (sentence end,
/// the last target), then the words kept by frequency. Stored as vocab.txt, one word a line.
public struct Vocabulary: Sendable, Equatable {
    public static let specials = ["<unk>", "<s>", "</s>"]
    public let words: [String]
    private let index: [String: Int32]

    public init(words: [String]) {
        self.words = words
        index = Dictionary(words.enumerated().map { ($1, Int32($0)) }, uniquingKeysWith: { a, _ in a })
    }

    /// The words of `sentences` seen at least `minCount` times, most frequent first (ties by
    /// first appearance), at most `maxSize` in all with the specials.
    public init(sentences: [[String]], minCount: Int, maxSize: Int) {
        var counts: [String: Int] = [:]
        var order: [String] = []
        for s in sentences {
            for w in s {
                if counts[w] == nil { order.append(w) }
                counts[w, default: 0] += 1
            }
        }
        let kept = order.enumerated().filter { counts[$0.element]! >= minCount && !Vocabulary.specials.contains($0.element) }
            .sorted { (counts[$0.element]!, -$0.offset) > (counts[$1.element]!, -$1.offset) }.map(\.element)
        self.init(words: Vocabulary.specials + kept.prefix(max(0, maxSize - Vocabulary.specials.count)))
    }

    public var count: Int { words.count }
    public func id(_ word: String) -> Int32 { index[word] ?? 0 }
    public func contains(_ word: String) -> Bool { index[word] != nil }

    static func read(_ path: String, expected: Int) throws -> Vocabulary {
        guard let data = try? MappedFile.data(path), let text = String(data: data, encoding: .utf8) else {
            throw ModelError(.missing, path, "cannot read the vocabulary (vocab.txt, one word a line, UTF-8)")
        }
        var words = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if words.last == "" { words.removeLast() }
        guard words.count == expected else { throw ModelError(.malformed, path, "\(words.count) words, but config.json says vocab_size \(expected)") }
        guard Array(words.prefix(3)) == specials else { throw ModelError(.malformed, path + ":1", "the first three words must be <unk>, <s>, </s>") }
        return Vocabulary(words: words)
    }

    func write(to path: String) throws {
        try AtomicFile.write(to: path) { try $0.write(Array((words.joined(separator: "\n") + "\n").utf8)) }
    }
}
