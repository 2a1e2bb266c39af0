import SondeBase
import SondeLinalg

/// A sentence as the model sees it: its tokens (without special tokens) and, for each word, the
/// range of its tokens.
public struct EncodedSentence: Sendable {
    public let tokens: [Int]
    public let words: [Range<Int>]
}

/// A Hugging Face transformer checkpoint with its tokenizer, as a `LanguageModel`. Word-aligned
/// activations: sentences go in as their words, each word's vector is the first, last or mean of
/// its subwords' vectors at each layer. Sentences longer than the model's window run in
/// overlapping windows that advance by half a window; each token takes its vector from the first
/// window that holds it, so it always sees at least half a window of left context (or the whole
/// sentence start).
public final class TransformerModel: LoadableLanguageModel, UnembeddingGradientModel, TokenAligningModel {
    public let network: TransformerNetwork
    public let tokenizer: Tokenizer
    private let prefix: [Int]
    private let suffix: [Int]
    /// Tokens per forward pass: sentences are packed until a batch holds about this many.
    public var batchTokens = 2048
    /// How words get their tokens (default by family: `WordAlignment`).
    public var alignment: WordAlignment
    public var wordAlignment: WordAlignment? { alignment }

    public var folder: String { network.folder }
    public var identity: ModelIdentity { network.identity }
    public var layerCount: Int { network.config.layers }
    public var hiddenSize: Int { network.config.hiddenSize }

    public init(network: TransformerNetwork, tokenizer: Tokenizer) throws {
        self.network = network
        self.tokenizer = tokenizer
        alignment = network.config.architecture.isRotaryDecoder ? .text : .words
        (prefix, suffix) = try tokenizer.specialTokens(for: network.config.architecture)
        guard network.window - prefix.count - suffix.count >= 2 else {
            throw ModelError(.unsupported, network.folder, "the model's window of \(network.window) positions is too short")
        }
        try tokenizer.validate(vocabularySize: network.config.vocabularySize)
    }

    /// The checkpoint in `folder` with the folder's tokenizer.json, or `tokenizer` when given.
    public convenience init(folder: String, tokenizer: String?) throws {
        let network = try TransformerNetwork(folder: folder)
        try self.init(network: network, tokenizer: try Tokenizer.read(tokenizer ?? folder + "/tokenizer.json"))
    }

    public static func layerCount(config path: String) throws -> Int { try ModelConfig.read(path).layers }

    /// The tokens of one sentence. Its size is bounded first (`InputLimits`): a sentence's
    /// windows and a word's subword merging cost more than their length, so a hostile corpus must
    /// not set them.
    public func encode(_ words: [String]) throws -> EncodedSentence {
        func refuse(_ message: String) -> ModelError {
            let start = words.prefix(4).map { String($0.prefix(20)) }.joined(separator: " ")
            return ModelError(.unsupported, "the sentence \"\(start)…\"", message)
        }
        guard words.count <= InputLimits.sentenceWords.value else {
            throw refuse(InputLimits.sentenceWords.message("\(words.count) words, too many to encode at once"))
        }
        if let (i, long) = words.enumerated().first(where: { $0.element.utf8.count > InputLimits.wordBytes.value }) {
            throw refuse(InputLimits.wordBytes.message("word \(i + 1) is \(long.utf8.count) bytes long"))
        }
        if alignment == .text, !words.isEmpty {
            let aligned = TextAlignment(words: words, spaceAfter: words.map { _ in true }, tokenizer: tokenizer, specials: false)
            // A sentence whose words give no token to hold them (only characters the normalizer
            // drops) falls back to encoding each word alone, which gives each the unknown token.
            if aligned.words.allSatisfy({ !$0.isEmpty }) {
                return EncodedSentence(tokens: aligned.tokens.map(\.id), words: aligned.words)
            }
        }
        var tokens: [Int] = []
        var spans: [Range<Int>] = []
        for word in words {
            let ids = try tokenizer.encode(word: word)
            spans.append(tokens.count..<(tokens.count + ids.count))
            tokens += ids
        }
        return EncodedSentence(tokens: tokens, words: spans)
    }

    /// How many windows (forward-pass sequences) a sentence needs: 1 when it fits the model.
    public func windowCount(_ sentence: EncodedSentence) -> Int { windows(sentence).sequences.count }

    public func subwordStatistics(_ sentences: [[String]]) throws -> (subwords: Int, windowed: Int) {
        var subwords = 0, windowed = 0
        for s in sentences {
            let encoded = try encode(s)
            subwords += encoded.tokens.count
            if windowCount(encoded) > 1 { windowed += 1 }
        }
        return (subwords, windowed)
    }

    /// The sequences a sentence runs as (special tokens included) and, for each of the
    /// sentence's tokens, the sequence and position its vector comes from.
    func windows(_ sentence: EncodedSentence) -> (sequences: [[Int]], source: [(sequence: Int, position: Int)]) {
        let capacity = network.window - prefix.count - suffix.count
        let n = sentence.tokens.count
        var sequences: [[Int]] = []
        var source: [(Int, Int)] = []
        source.reserveCapacity(n)
        var start = 0
        repeat {
            let end = min(start + capacity, n)
            sequences.append(prefix + sentence.tokens[start..<end] + suffix)
            for t in source.count..<end { source.append((sequences.count - 1, prefix.count + t - start)) }
            if end == n { break }
            start += capacity / 2
        } while true
        return (sequences, source)
    }

    /// Runs `sentences` (each a list of words) in packed batches and hands each sentence's word
    /// vectors to `emit`: one [words, hidden] matrix per entry of `layers`, in sentence order.
    /// `progress` gets the number of sentences done after each batch.
    public func extract(
        _ sentences: [[String]], layers: [Int], aggregate: SubwordAggregation, ablations: [NeuronAblation] = [],
        progress: (Int) -> Void = { _ in },
        emit: (_ sentence: Int, _ vectors: [Matrix<Float>]) throws -> Void
    ) throws {
        let h = network.config.hiddenSize
        var next = 0
        while next < sentences.count {
            var batch: [(index: Int, encoded: EncodedSentence, first: Int, source: [(sequence: Int, position: Int)])] = []
            var sequences: [[Int]] = []
            var tokens = 0
            while next < sentences.count && (batch.isEmpty || tokens < batchTokens) {
                let encoded = try encode(sentences[next])
                let (own, source) = windows(encoded)
                batch.append((next, encoded, sequences.count, source))
                sequences += own
                tokens += own.reduce(0) { $0 + $1.count }
                next += 1
            }
            var starts: [Int] = []
            var offset = 0
            for s in sequences { starts.append(offset); offset += s.count }
            let states = try network.hiddenStates(sequences, ablations: ablations)
            for item in batch {
                let vectors = layers.map { layer -> Matrix<Float> in
                    let state = states[layer]
                    return Matrix<Float>(rows: item.encoded.words.count, columns: h) { out in
                        state.withUnsafeBufferPointer { sp in
                            func row(_ token: Int) -> UnsafePointer<Float> {
                                let (sequence, position) = item.source[token]
                                return sp.baseAddress! + (starts[item.first + sequence] + position) * h
                            }
                            for (w, span) in item.encoded.words.enumerated() {
                                let target = out.baseAddress! + w * h
                                switch aggregate {
                                case .first: target.initialize(from: row(span.lowerBound), count: h)
                                case .last: target.initialize(from: row(span.upperBound - 1), count: h)
                                case .mean:
                                    target.initialize(repeating: 0, count: h)
                                    for t in span { let r = row(t); for j in 0..<h { target[j] += r[j] } }
                                    let scale = 1 / Float(span.count)
                                    for j in 0..<h { target[j] *= scale }
                                }
                            }
                        }
                    }
                }
                try emit(item.index, vectors)
            }
            progress(next)
        }
    }
}
