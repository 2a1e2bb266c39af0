import Foundation
import SondeBase
import SondeLinalg

/// A language model over words, the whole of what the study layer and the command line see of
/// one: layers of hidden states with one vector per word, the model's own score, neurons ablated
/// inside the forward pass, the log-probabilities of sentences and of minimal pairs. Nothing
/// outside a family's folder asks which family a model is; what only some families can do is a
/// protocol of its own below (`PairTunableModel`, `UnembeddingGradientModel`, `CellStateModel`).
///
/// A new family is added here and nowhere else: a folder beside `LSTM/` and `Transformer/` with
/// a final class that implements every requirement below (the defaults of `logProbabilities`,
/// `pairLogProbabilities` and `subwordStatistics` are: no sentence scoring, each sentence of a
/// pair whole, no subwords), `LoadableLanguageModel` and the capability protocols it has; and
/// one line in `languageModelFamily`, which picks the family from config.json's `model_type`.
/// Family-neutral pieces stay at the top of SondeModels: the values the contract speaks in
/// (`LanguageModelValues`), identities, activation files, parameter masks, and the Hugging Face
/// formats any family may read (`Tokenizer`, `ModelWeights`).
public protocol LanguageModel: AnyObject {
    /// The model folder.
    var folder: String { get }
    /// The architecture, width and checkpoint fingerprint (checked against activation files).
    var identity: ModelIdentity { get }
    /// Hidden layers: the states are numbered 0 (the embeddings) … `layerCount`.
    var layerCount: Int { get }
    /// Neurons per layer.
    var hiddenSize: Int { get }
    /// How subword tokens are tied to words (nil: the model reads words, as an LSTM does).
    var wordAlignment: WordAlignment? { get }
    /// About how many tokens one forward pass holds.
    var batchTokens: Int { get set }

    /// Hands each sentence's word vectors of `layers` ([words, hidden] per layer) to `emit`, in
    /// sentence order, with `ablations` applied inside the forward pass; `progress` gets the
    /// number of sentences done.
    func extract(
        _ sentences: [[String]], layers: [Int], aggregate: SubwordAggregation, ablations: [NeuronAblation],
        progress: (Int) -> Void, emit: (_ sentence: Int, _ vectors: [Matrix<Float>]) throws -> Void) throws

    /// The model's own score (next-token, masked-token or classification loss and accuracy).
    /// `labels`: per sentence, its words' labels (a tagger) or its one label (a classifier).
    /// `words`: per sentence, which words' predictions count (a language model's tokens that
    /// belong to those words; nil: all), for the loss on words with a property value and without.
    func score(
        _ sentences: [[String]], labels: [[String]]?, ablations: [NeuronAblation], seed: UInt64, words: [[Bool]]?, progress: (Int) -> Void
    ) throws -> ModelScore

    /// Each neuron's mean over every token of `sentences` at `layer` (what mean-ablation uses).
    func tokenMeans(_ sentences: [[String]], layer: Int) throws -> [Float]

    /// Each sentence's log-probability, token by token, under a causal language model (an error
    /// for a checkpoint that is not one, and by default), with `ablations` inside the forward
    /// pass; `progress` gets the number of sentences done.
    func logProbabilities(_ sentences: [SentenceText], ablations: [NeuronAblation], progress: (Int) -> Void) throws -> [ScoredSentence]

    /// Both sentences of each pair; `progress` gets the number of pairs done. By default each
    /// sentence is scored whole; a family that can share the pair's common start does so.
    func pairLogProbabilities(
        _ pairs: [(good: SentenceText, bad: SentenceText)], ablations: [NeuronAblation], progress: (Int) -> Void
    ) throws -> [(good: ScoredSentence, bad: ScoredSentence)]

    /// How many subword tokens `sentences` make and how many of them need more than one window:
    /// what an activation file's summary reports (by default 0 and 0: words are the tokens).
    func subwordStatistics(_ sentences: [[String]]) throws -> (subwords: Int, windowed: Int)
}

extension LanguageModel {
    public var wordAlignment: WordAlignment? { nil }

    public func extract(
        _ sentences: [[String]], layers: [Int], aggregate: SubwordAggregation,
        emit: (_ sentence: Int, _ vectors: [Matrix<Float>]) throws -> Void
    ) throws {
        try extract(sentences, layers: layers, aggregate: aggregate, ablations: [], progress: { _ in }, emit: emit)
    }

    public func score(_ sentences: [[String]], labels: [[String]]? = nil, ablations: [NeuronAblation] = []) throws -> ModelScore {
        try score(sentences, labels: labels, ablations: ablations, seed: 2026, words: nil, progress: { _ in })
    }

    public func score(
        _ sentences: [[String]], labels: [[String]]?, ablations: [NeuronAblation], seed: UInt64, progress: (Int) -> Void
    ) throws -> ModelScore {
        try score(sentences, labels: labels, ablations: ablations, seed: seed, words: nil, progress: progress)
    }

    public func logProbabilities(_ sentences: [SentenceText], ablations: [NeuronAblation], progress: (Int) -> Void) throws -> [ScoredSentence] {
        throw ModelError(.unsupported, folder, "this model family does not score sentences")
    }

    public func logProbabilities(_ sentences: [SentenceText], progress: (Int) -> Void = { _ in }) throws -> [ScoredSentence] {
        try logProbabilities(sentences, ablations: [], progress: progress)
    }

    public func pairLogProbabilities(
        _ pairs: [(good: SentenceText, bad: SentenceText)], progress: (Int) -> Void = { _ in }
    ) throws -> [(good: ScoredSentence, bad: ScoredSentence)] {
        try pairLogProbabilities(pairs, ablations: [], progress: progress)
    }

    public func subwordStatistics(_ sentences: [[String]]) throws -> (subwords: Int, windowed: Int) { (0, 0) }

    public func pairLogProbabilities(
        _ pairs: [(good: SentenceText, bad: SentenceText)], ablations: [NeuronAblation], progress: (Int) -> Void
    ) throws -> [(good: ScoredSentence, bad: ScoredSentence)] {
        let scored = try logProbabilities(pairs.flatMap { [$0.good, $0.bad] }, ablations: ablations) { progress($0 / 2) }
        return pairs.indices.map { (scored[2 * $0], scored[2 * $0 + 1]) }
    }
}

/// A language model that `loadLanguageModel` reads from a checkpoint folder: every family.
public protocol LoadableLanguageModel: LanguageModel {
    /// Loads the checkpoint in `folder`; `tokenizer` replaces the folder's own tokenizer, and is
    /// an error for a family that reads no tokenizer.
    init(folder: String, tokenizer: String?) throws
    /// The number of layers from the config.json at `path` alone: what a study plans with before
    /// it loads any weights.
    static func layerCount(config path: String) throws -> Int
}

/// A language model whose every parameter Sonde differentiates and tunes on minimal pairs
/// (FTGD, `TaskSpace.run`): the native LSTM.
public protocol PairTunableModel: LanguageModel {
    /// Parameters in all (the length of a gradient).
    var parameterCount: Int { get }
    /// The tensors' ranges in the flat parameter vector (for per-tensor masks).
    var parameterTensors: [(name: String, range: Range<Int>)] { get }
    /// Margins mᵢ = ln p(goodᵢ) − ln p(badᵢ) and the gradient differential Δg = Σᵢ ∇θ mᵢ of
    /// pairs of word lists, in the layout of the checkpoint's tensors.
    func marginGradient(_ pairs: [(good: [String], bad: [String])]) -> (margins: [Double], gradient: [Float])
    /// A copy tuned on `pairs`, only the parameters in `mask` changed; `progress` gets (steps
    /// done, steps).
    func tuned(
        on pairs: [(good: [String], bad: [String])], mask: ParameterMask, settings: PairTuningSettings, progress: (Int, Int) -> Void
    ) -> Self
}

/// A causal language model for which Sonde computes the gradient differential of minimal pairs
/// with respect to its output (unembedding) matrix alone, from forward states: the
/// transformers, which Sonde does not backpropagate through.
public protocol UnembeddingGradientModel: LanguageModel {
    /// Of Σᵢ [ln p(goodᵢ) − ln p(badᵢ)], [vocabulary × hidden] row-major.
    func unembeddingMarginGradient(_ pairs: [(good: String, bad: String)]) throws -> [Float]
}

/// A language model with memory cells beside its outputs, which extraction can read instead:
/// the native LSTM (`extract --cells`).
public protocol CellStateModel: LanguageModel {
    /// Extract each layer's memory cells instead of its outputs.
    var cellStates: Bool { get set }
}

/// A model whose subword tokens are tied to words in a way the user may choose (transformers).
public protocol TokenAligningModel: LanguageModel {
    var alignment: WordAlignment { get set }
}

/// The family of the model in `folder`, by config.json's `model_type`: the one place a family is
/// registered. The transformer family reads bert, roberta, gpt2 and gpt_neox, and names them
/// when `model_type` is none of the families'. `missing`: what to do when there is no config.json.
func languageModelFamily(
    _ folder: String,
    missing: String = "cannot read the model's config.json; point --model at a Hugging Face model folder or a sonde lm checkpoint"
) throws -> any LoadableLanguageModel.Type {
    let type = try readJSONObject(folder + "/config.json", missing: missing)["model_type"] as? String
    return type == LSTMConfig.modelType ? LSTMModel.self : TransformerModel.self
}

/// The language model in `folder`, by config.json's `model_type`: Sonde's native LSTMs
/// ("sonde-lstm", with their vocab.txt), or transformers (BERT, RoBERTa, GPT-2, GPT-NeoX, Llama, …) with
/// the folder's tokenizer.json, or `tokenizer` when given.
public func loadLanguageModel(_ folder: String, tokenizer: String? = nil) throws -> any LanguageModel {
    try languageModelFamily(folder).init(folder: folder, tokenizer: tokenizer)
}

/// The number of layers of the model in `folder` (its states are 0…that), from its config.json
/// alone: what a study plans with before it loads any weights.
public func languageModelLayerCount(_ folder: String) throws -> Int {
    try languageModelFamily(folder, missing: "cannot read the model's config.json; is \(folder) a model folder?")
        .layerCount(config: folder + "/config.json")
}
