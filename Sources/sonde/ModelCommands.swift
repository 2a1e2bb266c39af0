import ArgumentParser
import Foundation
import SondeCorpus
import SondeLinalg
import SondeModels
import SondeStudy

extension SubwordAggregation: ExpressibleByArgument {}

/// A model folder with its tokenizer (the folder's own tokenizer.json unless one is given).
func loadModel(_ folder: String, tokenizer: String?) throws -> any LanguageModel {
    try withInputErrors { try loadLanguageModel(folder, tokenizer: tokenizer) }
}

/// Treebank files, only their first `limit` sentences when a limit is given.
func readTreebank(_ paths: [String], limit: Int?) throws -> Corpus {
    let result = try withInputErrors { try CorpusReader.read(paths) }
    reportSkippedFiles(result)
    var treebank = result.corpus
    if let limit { treebank.sentences = Array(treebank.sentences.prefix(limit)) }
    return treebank
}

/// The treebank an activation file was extracted from: as many sentences as the file recorded
/// (`--limit`), checked against the file sentence by sentence.
func alignedTreebank(_ corpus: String, for activations: String) throws -> Corpus {
    let treebank = try readTreebank([corpus], limit: ActivationSource.file(activations).extractionLimit)
    try withInputErrors { try ActivationSource.requireAlignment(try TensorCollection.read(activations), treebank.sentences, corpus: corpus) }
    return treebank
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

    enum AblationValue: String, ExpressibleByArgument { case zero, mean }

    func validate() throws {
        if corpus.isEmpty { throw ValidationError("give the treebank with --corpus PATH") }
        if let limit, limit < 1 { throw ValidationError("--limit must be at least 1") }
        if batchTokens < 1 { throw ValidationError("--batch-tokens must be at least 1") }
    }

    func load() throws -> (any LanguageModel, Corpus) {
        let extractor = try loadModel(model, tokenizer: tokenizer)
        extractor.batchTokens = batchTokens
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
                let means = try withInputErrors { try extractor.tokenMeans(sentences, layer: layer) }
                values = neurons.map { means[$0] }
            }
            return NeuronAblation(layer: layer, neurons: neurons, values: values)
        }
    }
}

struct ExtractCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "extract",
        abstract: "Run a transformer over a treebank and write word-aligned activations of every layer.",
        discussion: """
            Supports BERT, RoBERTa, GPT-2 and GPT-NeoX (Pythia) checkpoints in the Hugging Face layout, \
            with their tokenizer.json (byte-level BPE or WordPiece). Each treebank word is encoded on \
            its own (as transformers does for pre-split words); its vector is the first, last or mean \
            of its subwords. Sentences longer than the model's window run in windows that advance by \
            half a window. The output is safetensors: one F32 tensor per layer (layer0 = embeddings \
            … layerL), [words, hidden], rows in corpus order, with the alignment in its metadata — \
            ready for `sonde probe`. Written atomically, streamed batch by batch.
            """)

    @OptionGroup var input: ModelInput
    @Option(name: .shortAndLong, help: "The activation file to write (.safetensors).")
    var out: String
    @Option(help: "Layers to write, e.g. 0,2,4 (default: all).")
    var layers: String?
    @Option(help: "How a word's vector is made from its subwords: first, last or mean.")
    var aggregate: SubwordAggregation = .last
    @OptionGroup var output: OutputOptions

    func run() throws {
        let (extractor, corpus) = try input.load()
        let chosen = try parseLayerList(layers, count: extractor.layerCount)
        let sentences = corpus.sentences.map { $0.words.map(\.form) }
        let ablations = try input.ablations(extractor, sentences)
        let progress = Progress(what: "sentences")
        var extra: [String: String] = ["corpus": input.corpus.joined(separator: ",")]
        if let limit = input.limit { extra["limit"] = String(limit) }
        if !input.ablate.isEmpty { extra["ablations"] = input.ablate.joined(separator: " ") + " (\(input.ablateWith.rawValue))" }
        let summary = try withInputErrors {
            try ActivationFile.extract(
                extractor, sentences: sentences, ids: corpus.sentences.enumerated().map { $1.id ?? String($0 + 1) },
                layers: chosen, aggregate: aggregate, ablations: ablations, extraMetadata: extra, to: out
            ) { progress.update($0, sentences.count) }
        }
        if output.json { return try printJSON(summary) }
        print("wrote \(summary.path): \(summary.layers.count) layers × \(summary.words) words × \(summary.hidden) neurons")
        print("\(summary.sentences) sentences, \(summary.subwords) subwords, \(summary.windowedSentences) longer than one window")
    }
}

struct ScoreCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "score",
        abstract: "The model's own loss on a treebank, with and without neurons ablated inside it.",
        discussion: """
            Language models: mean next-token cross-entropy and perplexity (GPT-2, GPT-NeoX), or of \
            15% seeded masked tokens (BERT, RoBERTa). Sequence classifiers: accuracy against a \
            sentence-level property (--property genre). With --ablate, the same predictions are \
            scored again with the neurons zeroed or set to their means, and the change is reported: \
            what the model itself loses, not just a probe.
            """)

    @OptionGroup var input: ModelInput
    @Option(help: "For a classifier: the sentence-level property holding the gold class (e.g. genre).")
    var property: String?
    @Option(help: "The seed choosing masked tokens.")
    var seed: UInt64 = 2026
    @OptionGroup var output: OutputOptions

    struct Report: Encodable {
        let model: String
        let sentences: Int
        let unablated: ModelScore
        let ablated: ModelScore?
        let ablations: [String]
        let ablateWith: String?
        let lossChange: Double?
        let accuracyChange: Double?
    }

    func run() throws {
        let (extractor, corpus) = try input.load()
        let sentences = corpus.sentences.map { $0.words.map(\.form) }
        var labels: [String]?
        if let property {
            let rows = try withInputErrors { try parseProperty(property).labels(corpus) }
            labels = rows.map { $0.first ?? "" }
        }
        let ablations = try input.ablations(extractor, sentences)
        let progress = Progress(what: "sentences")
        let plain = try withInputErrors {
            try extractor.score(sentences, labels: labels, ablations: [], seed: seed) { progress.update($0, sentences.count) }
        }
        var ablated: ModelScore?
        if !ablations.isEmpty {
            let again = Progress(what: "sentences (ablated)")
            ablated = try withInputErrors {
                try extractor.score(sentences, labels: labels, ablations: ablations, seed: seed) { again.update($0, sentences.count) }
            }
        }
        let report = Report(
            model: extractor.folder, sentences: sentences.count, unablated: plain, ablated: ablated, ablations: input.ablate,
            ablateWith: ablations.isEmpty ? nil : input.ablateWith.rawValue,
            lossChange: ablated.map { $0.loss - plain.loss }, accuracyChange: ablated.map { $0.accuracy - plain.accuracy })
        if output.json { return try printJSON(report) }
        func line(_ name: String, _ s: ModelScore) -> [String] {
            [name, String(format: "%.4f", s.loss), String(format: "%.2f", s.perplexity), String(format: "%.4f", s.accuracy), String(s.predictions)]
        }
        var rows = [["", "loss", "perplexity", "accuracy", "predictions"], line("unablated", plain)]
        if let ablated { rows.append(line("ablated", ablated)) }
        print("\(plain.task) on \(sentences.count) sentences")
        formatTable(rows).forEach { print($0) }
        if let change = report.lossChange { print(String(format: "loss change %+.4f nats (%@)", change, input.ablate.joined(separator: " "))) }
    }
}
