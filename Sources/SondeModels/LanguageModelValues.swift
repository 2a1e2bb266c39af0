import Foundation

// The values the `LanguageModel` contract speaks in, whatever the family.

/// Zeroes or replaces chosen neurons of one layer's output inside the forward pass, so every
/// later layer (and the model's own head) sees the ablated vector. Layer 0 is the embedding
/// output, layer l the output of block l — the same numbering as the activation file, and the
/// ablated vector is exactly that file's row with these neurons replaced.
public struct NeuronAblation: Sendable {
    public var layer: Int
    public var neurons: [Int]
    /// The value each neuron is set to: 0 to zero it, its mean over a corpus to mean-ablate it.
    public var values: [Float]

    public init(layer: Int, neurons: [Int], values: [Float]) {
        precondition(neurons.count == values.count, "one replacement value per neuron")
        self.layer = layer
        self.neurons = neurons
        self.values = values
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
