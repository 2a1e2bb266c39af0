import ArgumentParser
import Foundation
import SondeCorpus
import SondeLinalg
import SondeModels
import SondeStudy

/// A model folder with its tokenizer (the folder's own tokenizer.json unless one is given).
func loadModel(_ folder: String, tokenizer: String?) throws -> any LanguageModel {
    try loadLanguageModel(folder, tokenizer: tokenizer)
}

/// Treebank files, only their first `limit` sentences when a limit is given.
func readTreebank(_ paths: [String], limit: Int?) throws -> Corpus {
    let result = try CorpusReader.read(paths)
    reportSkippedFiles(result)
    var treebank = result.corpus
    if let limit { treebank.sentences = Array(treebank.sentences.prefix(limit)) }
    return treebank
}

/// The treebank an activation file was extracted from (`ActivationSource.alignedTreebank`).
func alignedTreebank(_ corpus: String, for activations: String) throws -> Corpus {
    try ActivationSource.alignedTreebank(corpus, for: activations)
}

/// A layer as the user names it: `2` or `layer2` (the activation file's tensor name).
func layerNumber<S: StringProtocol>(_ text: S) -> Int? {
    Int(text.hasPrefix("layer") ? text.dropFirst(5) : text[...])
}

/// `--layers 0,2,layer4`: layer numbers (`layerN` accepted), each once.
func parseLayerNumbers(_ text: String) throws -> [Int] {
    var seen = Set<Int>()
    return try text.split(separator: ",").map { item in
        guard let l = layerNumber(item), l >= 0 else { throw ValidationError("--layers: '\(item)' is not a layer number") }
        guard seen.insert(l).inserted else { throw ValidationError("--layers: layer \(l) is named twice") }
        return l
    }
}

/// `--layers` for a model of layers 0…count; all of them when nil.
func parseLayerList(_ text: String?, count: Int) throws -> [Int] {
    guard let text else { return Array(0...count) }
    let layers = try parseLayerNumbers(text)
    if let bad = layers.first(where: { $0 > count }) { throw ValidationError("--layers: '\(bad)' is not a layer of 0…\(count)") }
    return layers
}

/// Options shared by the commands that run a transformer over a corpus.
struct ModelInput: ParsableArguments {
    @Option(help: "A Hugging Face model folder (config.json + model.safetensors, or sharded).")
    var model: String
    @Option(help: "The tokenizer.json (default: the one in the model folder).")
    var tokenizer: String?
    @Option(help: "Treebank files or folders (any format `sonde corpus` reads); repeat for several.")
    var corpus: [String]
    @Option(help: "Read only the first N sentences.")
    var limit: Int?
    @Option(help: "Sentences are packed into forward passes of about this many tokens.")
    var batchTokens = 2048
    @Option(help: "Ablate neurons inside the forward pass: LAYER:N,N,… (layer 0 = embeddings, as in the activation file); repeat for several layers.")
    var ablate: [String] = []
    @Option(help: "What ablated neurons become: zero, or mean (their mean over the corpus's tokens, unablated).")
    var ablateWith: AblationValue = .zero

    @Option(
        help:
            "How words get a transformer's tokens: text (the sentence encoded whole, tokens by character offsets; default for Llama, Mistral, Qwen, OLMo-2, Gemma-2) or words (each word alone; default for BERT, RoBERTa, GPT-2, GPT-NeoX)."
    )
    var alignment: WordAlignment?

    enum AblationValue: String, ExpressibleByArgument { case zero, mean }

    func validate() throws {
        if corpus.isEmpty { throw ValidationError("give the treebank with --corpus PATH") }
        if let limit, limit < 1 { throw ValidationError("--limit must be at least 1") }
        if batchTokens < 1 { throw ValidationError("--batch-tokens must be at least 1") }
    }

    func load() throws -> (any LanguageModel, Corpus) {
        let extractor = try loadModel(model, tokenizer: tokenizer)
        extractor.batchTokens = batchTokens
        if let alignment {
            guard let transformer = extractor as? any TokenAligningModel else {
                throw ValidationError("--alignment is for transformers; \(model) reads words")
            }
            transformer.alignment = alignment
        }
        return (extractor, try readTreebank(corpus, limit: limit))
    }

    /// The `--ablate` requests as ablations of `extractor`'s model (means computed on `sentences`).
    func ablations(_ extractor: any LanguageModel, _ sentences: [[String]]) throws -> [NeuronAblation] {
        let (layers, hidden) = (extractor.layerCount, extractor.hiddenSize)
        return try ablate.map { text in
            let parts = text.split(separator: ":", maxSplits: 1)
            guard parts.count == 2, let layer = layerNumber(parts[0]), (0...layers).contains(layer) else {
                throw ValidationError("--ablate \(text): expected LAYER:N,N,… with LAYER in 0…\(layers)")
            }
            let neurons = try parts[1].split(separator: ",").map { item -> Int in
                guard let n = Int(item), (0..<hidden).contains(n) else {
                    throw ValidationError("--ablate \(text): '\(item)' is not a neuron of 0…\(hidden - 1)")
                }
                return n
            }
            let values: [Float]
            switch ablateWith {
            case .zero: values = Array(repeating: 0, count: neurons.count)
            case .mean:
                let means = try extractor.tokenMeans(sentences, layer: layer)
                values = neurons.map { means[$0] }
            }
            return NeuronAblation(layer: layer, neurons: neurons, values: values)
        }
    }
}
extension WordAlignment: ExpressibleByArgument {}
