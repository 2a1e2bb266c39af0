import Foundation
import SondeBase
import SondeLinalg

/// A language model over words, as the study layer and the command line see it: layers of
/// hidden states with one vector per word, the model's own score, and neurons ablated inside
/// the forward pass. A transformer checkpoint with its tokenizer (`ActivationExtractor`) is one
/// implementation; `loadLanguageModel` picks the implementation from config.json's `model_type`,
/// so a new family is added here and nowhere else.
public protocol LanguageModel: AnyObject {
    /// The model folder.
    var folder: String { get }
    /// The architecture, width and checkpoint fingerprint (checked against activation files).
    var identity: ModelIdentity { get }
    /// Hidden layers: the states are numbered 0 (the embeddings) … `layerCount`.
    var layerCount: Int { get }
    /// Neurons per layer.
    var hiddenSize: Int { get }
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
    func score(_ sentences: [[String]], labels: [[String]]?, ablations: [NeuronAblation], seed: UInt64, progress: (Int) -> Void) throws -> ModelScore

    /// Each neuron's mean over every token of `sentences` at `layer` (what mean-ablation uses).
    func tokenMeans(_ sentences: [[String]], layer: Int) throws -> [Float]
}

extension LanguageModel {
    public func extract(
        _ sentences: [[String]], layers: [Int], aggregate: SubwordAggregation,
        emit: (_ sentence: Int, _ vectors: [Matrix<Float>]) throws -> Void
    ) throws {
        try extract(sentences, layers: layers, aggregate: aggregate, ablations: [], progress: { _ in }, emit: emit)
    }

    public func score(_ sentences: [[String]], labels: [[String]]? = nil, ablations: [NeuronAblation] = []) throws -> ModelScore {
        try score(sentences, labels: labels, ablations: ablations, seed: 2026, progress: { _ in })
    }
}

/// The language model in `folder`, by config.json's `model_type`: Sonde's native LSTMs
/// ("sonde-lstm", with their vocab.txt), or transformers (BERT, RoBERTa, GPT-2, GPT-NeoX) with
/// the folder's tokenizer.json, or `tokenizer` when given.
public func loadLanguageModel(_ folder: String, tokenizer: String? = nil) throws -> any LanguageModel {
    let type =
        try readJSONObject(
            folder + "/config.json",
            missing: "cannot read the model's config.json; point --model at a Hugging Face model folder or a sonde lm checkpoint")["model_type"]
        as? String
    if type == LSTMConfig.modelType {
        if let tokenizer { throw ModelError(.unsupported, tokenizer, "a sonde-lstm model reads words with its own vocab.txt; leave out --tokenizer") }
        return try LSTMModel(folder: folder)
    }
    let model = try TransformerModel(folder: folder)
    return try ActivationExtractor(model: model, tokenizer: try Tokenizer.read(tokenizer ?? folder + "/tokenizer.json"))
}

extension ActivationExtractor: LanguageModel {
    public var folder: String { model.folder }
    public var identity: ModelIdentity { model.identity }
    public var layerCount: Int { model.config.layers }
    public var hiddenSize: Int { model.config.hiddenSize }
}

/// The number of layers of the model in `folder` (its states are 0…that), from its config.json
/// alone: what a study plans with before it loads any weights.
public func languageModelLayerCount(_ folder: String) throws -> Int {
    let path = folder + "/config.json"
    let type = try readJSONObject(path, missing: "cannot read the model's config.json; is \(folder) a model folder?")["model_type"] as? String
    if type == LSTMConfig.modelType {
        do { return try JSONCoding.decoder().decode(LSTMConfig.self, from: MappedFile.data(path)).layers } catch {
            throw ModelError(.malformed, path, "not a sonde-lstm config (\(error))")
        }
    }
    return try ModelConfig.read(path).layers
}
