import Foundation
import SondeLinalg

// The values the `LanguageModel` contract speaks in, whatever the family.

/// Zeroes or replaces chosen neurons of one layer's output inside the forward pass — or erases
/// a concept from it (x ↦ x − (x − μ)Eᵀ, a `sonde erase` eraser: amnesic probing) — so every
/// later layer (and the model's own head) sees the changed vector. Layer 0 is the embedding
/// output, layer l the output of block l — the same numbering as the activation file, and the
/// changed vector is exactly that file's row with the change applied (in an LSTM, at every
/// step, so the recurrence carries it).
public struct NeuronAblation: Sendable {
    public var layer: Int
    public var neurons: [Int]
    /// The value each neuron is set to: 0 to zero it, its mean over a corpus to mean-ablate it.
    public var values: [Float]
    /// E (hidden × hidden, row-major) and μ of an erasure, applied after any replacement.
    public var erasure: (map: [Float], mean: [Float])?

    public init(layer: Int, neurons: [Int], values: [Float]) {
        precondition(neurons.count == values.count, "one replacement value per neuron")
        self.layer = layer
        self.neurons = neurons
        self.values = values
    }

    /// An erasure of layer `layer`: `map` is E (hidden × hidden, row-major), `mean` μ.
    public init(layer: Int, erasureMap map: [Float], mean: [Float]) {
        precondition(map.count == mean.count * mean.count, "an erasure's map is hidden × hidden")
        (self.layer, self.neurons, self.values, self.erasure) = (layer, [], [], (map, mean))
    }

    /// Applies the change to `rows` rows of width `width` at `base` (replacement, then erasure;
    /// the erasure through one gemm on a centred copy).
    func apply<S: LinalgScalar>(to base: UnsafeMutablePointer<S>, rows: Int, width: Int) {
        for r in 0..<rows { for (n, value) in zip(neurons, values) { base[r * width + n] = S(value) } }
        guard let erasure, rows > 0 else { return }
        var centred = [S](repeating: 0, count: rows * width)
        for r in 0..<rows { for j in 0..<width { centred[r * width + j] = base[r * width + j] - S(erasure.mean[j]) } }
        let map = erasure.map.map { S($0) }
        centred.withUnsafeBufferPointer { c in
            map.withUnsafeBufferPointer { e in
                S._gemm(
                    transA: false, transB: true, m: rows, n: width, k: width, alpha: -1, a: c.baseAddress!, lda: width, b: e.baseAddress!,
                    ldb: width, beta: 1, c: base, ldc: width)
            }
        }
    }
}

/// How a word's vector is made from its subwords' vectors.
public enum SubwordAggregation: String, Sendable, CaseIterable, Codable {
    case first, last, mean
}

/// The model's own score on a corpus: mean cross-entropy and perplexity of its language-model
/// head (next token for GPT-2/GPT-NeoX and native LSTMs; seeded masked tokens for BERT/RoBERTa),
/// or the accuracy of its classifier or tagger against the gold labels.
public struct ModelScore: Codable, Sendable, Equatable {
    /// What was scored: "next-token", "masked-token", "classification" or "tagging".
    public var task: String
    /// Predictions scored (tokens, or sentences for a classifier).
    public var predictions: Int
    /// Mean cross-entropy in nats.
    public var loss: Double
    public var perplexity: Double
    /// Share of predictions whose top choice is right.
    public var accuracy: Double
}

/// How a transformer's tokens are tied to a treebank's words. `text`: the sentence is encoded
/// whole as text (words joined by a space) and each word gets the tokens whose first non-space
/// character falls inside it — what decoders trained on running text see. `words`: each word is
/// encoded alone (transformers' `is_split_into_words`), the BERT-era convention. Defaults: text
/// for Llama, Mistral, Qwen, OLMo-2 and Gemma-2; words for BERT, RoBERTa, GPT-2 and GPT-NeoX.
public enum WordAlignment: String, Sendable, Codable, CaseIterable {
    case text, words
}

/// A sentence to score: its text (what a subword tokenizer reads, whole) and its words (what a
/// word-level model reads, split as its treebank was).
public struct SentenceText: Sendable {
    public let text: String
    public let words: [String]
    public init(text: String, words: [String]) { (self.text, self.words) = (text, words) }
}

/// A sentence's log-probability under a causal language model, token by token.
public struct ScoredSentence: Sendable, Equatable {
    /// The tokens predicted, in order: a word-level LSTM's words as written (an unknown word
    /// too, though the model reads `<unk>`) and `</s>`; a transformer's subword ids (in decimal)
    /// after its start token. Two sentences differ where these differ.
    public let tokens: [String]
    /// ln p(token | the start and every token before it).
    public let logProbabilities: [Double]
    /// Tokens the model reads as its unknown token (out-of-vocabulary words of an LSTM).
    public let unknown: [Bool]

    public var total: Double { logProbabilities.reduce(0, +) }
}
