import ArgumentParser
import Foundation
import SondeCorpus
import SondeModels
import SondeStudy

extension LSTMTrainingSettings.Optimizer: ExpressibleByArgument {}

/// The settings of every LSTM training command.
struct TrainingOptions: ParsableArguments {
    @Option(help: "Treebank files or folders to train on (train: 3 of every 5 sentences; dev: the 4th; the 5th held out).")
    var corpus: [String]
    @Option(name: .shortAndLong, help: "The folder to write the checkpoints into (step-<s>/ each).") var out: String
    @Option(help: "Read only the first N sentences.") var limit: Int?
    @Option(help: "LSTM layers.") var layers = 2
    @Option(help: "Embedding and hidden width.") var hidden = 256
    @Flag(help: "Tie the decoder to the embedding (language models).") var tied = false
    @Option(help: "Training steps (batches).") var steps = 400
    @Option(help: "Steps to checkpoint, e.g. 0,100,400 (default: 0, powers of two from 16, and the last).") var checkpoints: String?
    @Option(help: "Sentences per batch.") var batchSize = 32
    @Option(help: "Longer sentences are cut into pieces of this many words (truncated back-propagation).") var maxLength = 48
    @Flag(help: "Group sentences of about one length into batches (less padding; worse perplexity early in training).")
    var lengthBuckets = false
    @Option(help: "adam or sgd.") var optimizer: LSTMTrainingSettings.Optimizer = .adam
    @Option(help: "Learning rate (default: 2e-3 for adam, 1 for sgd).") var learningRate: Double?
    @Option(help: "Clip the gradient's norm to this (0 = never).") var clip = 1.0
    @Option(help: "Dropout on the embeddings and between layers.") var dropout = 0.2
    @Option(help: "Words seen fewer times are <unk>.") var minCount = 2
    @Option(help: "At most this many words in the vocabulary.") var maxVocabulary = 10_000
    @Option(help: "The seed: the same seed, settings and data give byte-identical checkpoints.") var seed: UInt64 = 1
    @Option(help: "Group the concentration ‖x‖₂/‖x‖₁ measured at each checkpoint by this property's labels (none: only by frequency).")
    var concentrationProperty = "upos"

    func validate() throws {
        guard (1...64).contains(layers), (1...16_384).contains(hidden), steps >= 1, batchSize >= 1, maxLength >= 1, minCount >= 1,
            maxVocabulary >= 4
        else { throw ValidationError("--layers 1…64, --hidden 1…16384, --steps, --batch-size, --max-length, --min-count ≥ 1, --max-vocabulary ≥ 4") }
        try requireNumber("learning-rate", learningRate, "positive") { $0 > 0 }
        try requireNumber("clip", clip, "≥ 0") { $0 >= 0 }
        try requireNumber("dropout", dropout, "in [0, 1)") { $0 >= 0 && $0 < 1 }
        if let limit, limit < 1 { throw ValidationError("--limit must be at least 1") }
        _ = try checkpointList()
    }

    func checkpointList() throws -> [Int]? {
        try checkpoints.map { text in
            try text.split(separator: ",").map { item in
                guard let s = Int(item), s >= 0 else { throw ValidationError("--checkpoints: '\(item)' is not a step") }
                return s
            }
        }
    }

    var settings: LSTMTrainingSettings {
        get throws {
            var s = LSTMTrainingSettings()
            (s.layers, s.hidden, s.tiedEmbeddings, s.steps, s.batchSize, s.maxLength) = (layers, hidden, tied, steps, batchSize, maxLength)
            s.lengthBuckets = lengthBuckets
            (s.optimizer, s.learningRate, s.clip, s.dropout) = (optimizer, learningRate ?? (optimizer == .adam ? 2e-3 : 1), clip, dropout)
            (s.minCount, s.maxVocabulary, s.seed, s.checkpoints) = (minCount, maxVocabulary, seed, try checkpointList())
            return s
        }
    }

    /// Trains (from `start` when given) on the treebank, labelled by `property` when given,
    /// and prints the checkpoints.
    func train(property: String?, map: String?, start: String?, json: Bool) throws {
        let corpus = try readTreebank(corpus, limit: limit)
        let parsed = try property.map(parseProperty)
        let mapping = try map.map { path in try TagMapping(path: path) }
        let analysis = concentrationProperty == "none" ? nil : try parseProperty(concentrationProperty)
        let (train, dev) = try TrainingTasks.split(corpus, property: parsed, mapping: mapping, analysis: analysis)
        let initial = try start.map { folder -> LSTMModel in
            guard let model = try LSTMModel.loadIfNative(folder) else {
                throw ValidationError("\(folder) is not a sonde-lstm checkpoint")
            }
            return model
        }
        let progress = Progress(what: "steps")
        let trainer = try LSTMTrainer(settings: try settings, train: train, dev: dev, start: initial)
        let written = try trainer.run(into: out) { step, total, loss, rate in
            progress.update(step, total, detail: String(format: "loss %.3f, %.0f tokens/s", loss, rate))
        }
        if json { return try printJSON(written) }
        let lm = trainer.model.config.labels == nil
        formatTable(
            [["step", "train loss", lm ? "dev perplexity" : "dev accuracy", "tokens seen", "folder"]]
                + written.map {
                    [
                        "\($0.step)", $0.trainLoss.map { String(format: "%.3f", $0) } ?? "–",
                        lm ? String(format: "%.2f", $0.devPerplexity ?? .nan) : f($0.devAccuracy), "\($0.tokensSeen)", $0.folder,
                    ]
                }
        ).forEach { print($0) }
        if written.isEmpty { print("nothing to do: \(out) already holds every checkpoint up to step \(trainer.settings.steps)") }
    }
}

struct LMCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lm", abstract: "Native LSTM language models: train one on a treebank, with checkpoints over training.",
        subcommands: [Train.self])

    struct Train: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Train a word-level LSTM language model and write checkpoints over training.",
            discussion: """
                Embedding → --layers LSTM layers → softmax over the vocabulary, trained with --optimizer \
                on batches of sentences (dropout, gradient clipping, a fixed --seed). Each checkpoint is \
                a Hugging Face-style folder (config.json with model_type sonde-lstm, model.safetensors, \
                vocab.txt) with its step, dev perplexity and optimiser state; every command that takes \
                a model folder takes it. --resume continues from a checkpoint exactly.
                """)

        @OptionGroup var training: TrainingOptions
        @Option(help: "Continue from this checkpoint (same settings; --steps may grow).") var resume: String?
        @OptionGroup var output: OutputOptions

        func run() throws { try training.train(property: nil, map: nil, start: resume, json: output.json) }
    }
}

struct TaggerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tagger", abstract: "Native LSTM taggers: the same encoder trained to predict a property.", subcommands: [Train.self])

    struct Train: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Train an LSTM tagger from scratch (the \"similarity to a tagger\" reference of Saphra & Lopez).",
            discussion:
                "A word-level property (upos, feats.Number, …) is predicted at each word; a sentence-level one (doc, genre) after the last word.")

        @OptionGroup var training: TrainingOptions
        @Option(help: "The property to predict, e.g. upos.") var property: String
        @Option(help: "A tag-set mapping applied to the labels.") var map: String?
        @OptionGroup var output: OutputOptions

        func run() throws { try training.train(property: property, map: map, start: nil, json: output.json) }
    }
}

struct FinetuneCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "finetune",
        abstract: "Fine-tune an LSTM language model checkpoint on a token or sentence task.",
        discussion: """
            Keeps the checkpoint's vocabulary, embedding and LSTM layers, puts a new decoder over \
            the property's labels (each word's for upos …, each sentence's for doc or genre) and \
            trains everything: the pre-trained and fine-tuned pair for `sonde compare`.
            """)

    @OptionGroup var training: TrainingOptions
    @Option(help: "The language-model checkpoint to start from.") var from: String
    @Option(help: "The property to predict, e.g. upos or genre.") var property: String
    @Option(help: "A tag-set mapping applied to the labels.") var map: String?
    @OptionGroup var output: OutputOptions

    func run() throws { try training.train(property: property, map: map, start: from, json: output.json) }
}
