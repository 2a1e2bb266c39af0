import ArgumentParser
import Foundation
import SondeBase
import SondeCorpus
import SondeLinalg
import SondeModels
import SondeProbe
import SondeStudy

extension SubwordAggregation: ExpressibleByArgument {}

struct ExtractCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "extract",
        abstract: "Run a model (a transformer or a native LSTM) over a treebank and write word-aligned activations of every layer.",
        discussion: """
            Supports BERT, RoBERTa, GPT-2 and GPT-NeoX (Pythia) checkpoints in the Hugging Face layout (and Sonde's own LSTM checkpoints, whose words are their tokens), \
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
    @Flag(help: "For a native LSTM: write layer k's memory cells c instead of its outputs h (layer 0 stays the embeddings).")
    var cells = false
    @OptionGroup var output: OutputOptions

    func run() throws {
        let (extractor, corpus) = try input.load()
        if cells {
            guard let lstm = extractor as? any CellStateModel else {
                throw ValidationError("--cells: \(input.model) is a transformer; memory cells belong to sonde-lstm checkpoints")
            }
            lstm.cellStates = true
        }
        let chosen = try parseLayerList(layers, count: extractor.layerCount)
        let sentences = corpus.sentences.map { $0.words.map(\.form) }
        let ablations = try input.ablations(extractor, sentences)
        let progress = Progress(what: "sentences")
        var extra = ActivationSource.provenance(corpus: input.corpus, limit: input.limit)
        if cells { extra["states"] = "memory cells c (layers 1…L)" }
        if !input.ablate.isEmpty { extra["ablations"] = input.ablate.joined(separator: " ") + " (\(input.ablateWith.rawValue))" }
        let summary = try ActivationFile.extract(
            extractor, sentences: sentences, ids: corpus.sentences.enumerated().map { $1.id ?? String($0 + 1) },
            layers: chosen, aggregate: aggregate, ablations: ablations, extraMetadata: extra, to: out
        ) { progress.update($0, sentences.count) }
        if output.json { return try printJSON(summary) }
        print("wrote \(summary.path): \(summary.layers.count) layers × \(summary.words) words × \(summary.hidden) neurons")
        print("\(summary.sentences) sentences, \(summary.subwords) subwords, \(summary.windowedSentences) longer than one window")
    }
}

/// A saved eraser for state `layer` of `model`: its width must be the model's.
func loadEraser(_ path: String, layer: Int, for model: any LanguageModel) throws -> ConceptEraser {
    let eraser = try ConceptEraser.read(path)
    guard (0...model.layerCount).contains(layer), eraser.neurons == model.hiddenSize else {
        throw CLIError(
            "\(path): an eraser of \(eraser.neurons) neurons for layer \(layer); the model has layers 0…\(model.layerCount) of \(model.hiddenSize) neurons", .usage)
    }
    return eraser
}

struct ScoreCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "score",
        abstract: "The model's own loss on a treebank, with and without neurons ablated inside it.",
        discussion: """
            Language models: mean next-token cross-entropy and perplexity (causal transformers), or of \
            15% seeded masked tokens (BERT, RoBERTa); native LSTM language models: next-word \
            perplexity. Sequence classifiers: accuracy against a sentence-level property \
            (--property genre); native LSTM taggers: against the word-level property they were \
            trained on (--property upos). With --ablate, the same predictions are \
            scored again with the neurons zeroed or set to their means, and the change is reported: \
            what the model itself loses, not just a probe. With --erase (an eraser from `sonde erase \
            fit` on that layer's activations) and --erase-layer, the concept is erased inside the \
            forward pass (amnesic probing, Elazar et al. 2021), and, as the control, random erasers \
            of the same rank (--erase-controls seeds): the erasure matters where its change of the \
            loss is beyond theirs.
            """)

    @OptionGroup var input: ModelInput
    @Option(help: "For a classifier or a tagger: the property holding the gold labels (e.g. genre, upos).")
    var property: String?
    @Option(help: "An eraser saved by `sonde erase fit` on activations of --erase-layer.") var erase: String?
    @Option(help: "The layer the eraser acts on (0 = embeddings, as in the activation file).") var eraseLayer: Int?
    @Option(help: "Random erasers of the same rank scored as the control.") var eraseControls: Int = 3
    @Option(help: "The seed choosing masked tokens.")
    var seed: UInt64 = 2026
    @OptionGroup var output: OutputOptions

    struct Erasure: Encodable {
        let eraser: String
        let layer: Int
        let method: ConceptEraser.Method
        let rank: Int
        let erased: ModelScore
        let lossChange: Double
        /// The random erasers of the same rank: each one's score, and their loss change's mean and SD.
        let controls: [ModelScore]
        let controlLossChange: Double?
        let controlLossChangeSD: Double?
        /// True when the erasure's loss change exceeds every control's.
        let beyondControls: Bool
    }

    struct Report: Encodable {
        let model: String
        let sentences: Int
        let unablated: ModelScore
        let ablated: ModelScore?
        let ablations: [String]
        let ablateWith: String?
        let lossChange: Double?
        let accuracyChange: Double?
        let erasure: Erasure?
    }

    func validate() throws {
        if (erase == nil) != (eraseLayer == nil) { throw ValidationError("--erase and --erase-layer go together") }
        guard (0...100).contains(eraseControls) else { throw ValidationError("--erase-controls must be in 0…100") }
    }

    /// Scores the model with the eraser inside it, and with random erasers of its rank.
    func erasure(_ model: any LanguageModel, _ sentences: [[String]], _ labels: [[String]]?, plain: ModelScore) throws -> Erasure? {
        guard let erase, let layer = eraseLayer else { return nil }
        let eraser = try loadEraser(erase, layer: layer, for: model)
        func score(_ e: ConceptEraser, _ what: String) throws -> ModelScore {
            let progress = Progress(what: "sentences (\(what))")
            return try model.score(sentences, labels: labels, ablations: [NeuronAblation(layer: layer, eraser: e)], seed: seed) {
                progress.update($0, sentences.count)
            }
        }
        let erased = try score(eraser, "erased")
        let controls = try (0..<eraseControls).map { s in
            try score(ConceptEraser.random(neurons: eraser.neurons, rank: eraser.rank, mean: eraser.mean, seed: 1 &+ UInt64(s)), "random erasure \(s + 1)")
        }
        let changes = meanAndSpread(controls.map { $0.loss - plain.loss })
        return Erasure(
            eraser: erase, layer: layer, method: eraser.method, rank: eraser.rank, erased: erased, lossChange: erased.loss - plain.loss,
            controls: controls, controlLossChange: controls.isEmpty ? nil : changes.mean, controlLossChangeSD: controls.isEmpty ? nil : changes.standardDeviation,
            beyondControls: controls.allSatisfy { erased.loss - plain.loss > $0.loss - plain.loss })
    }

    func run() throws {
        let (extractor, corpus) = try input.load()
        let sentences = corpus.sentences.map { $0.words.map(\.form) }
        let labels = try property.map { p in try parseProperty(p).labels(corpus) }
        let ablations = try input.ablations(extractor, sentences)
        let progress = Progress(what: "sentences")
        let plain = try extractor.score(sentences, labels: labels, ablations: [], seed: seed) { progress.update($0, sentences.count) }
        var ablated: ModelScore?
        if !ablations.isEmpty {
            let again = Progress(what: "sentences (ablated)")
            ablated = try extractor.score(sentences, labels: labels, ablations: ablations, seed: seed) { again.update($0, sentences.count) }
        }
        let erased = try erasure(extractor, sentences, labels, plain: plain)
        let report = Report(
            model: extractor.folder, sentences: sentences.count, unablated: plain, ablated: ablated, ablations: input.ablate,
            ablateWith: ablations.isEmpty ? nil : input.ablateWith.rawValue,
            lossChange: ablated.map { $0.loss - plain.loss }, accuracyChange: ablated.map { $0.accuracy - plain.accuracy }, erasure: erased)
        if output.json { return try printJSON(report) }
        func line(_ name: String, _ s: ModelScore) -> [String] {
            [name, String(format: "%.4f", s.loss), String(format: "%.2f", s.perplexity), String(format: "%.4f", s.accuracy), String(s.predictions)]
        }
        var rows = [["", "loss", "perplexity", "accuracy", "predictions"], line("unablated", plain)]
        if let ablated { rows.append(line("ablated", ablated)) }
        if let erased {
            rows.append(line("erased (\(erased.method.rawValue), rank \(erased.rank))", erased.erased))
            for (s, control) in erased.controls.enumerated() { rows.append(line("random rank \(erased.rank) #\(s + 1)", control)) }
        }
        print("\(plain.task) on \(sentences.count) sentences")
        formatTable(rows).forEach { print($0) }
        if let change = report.lossChange { print(String(format: "loss change %+.4f nats (%@)", change, input.ablate.joined(separator: " "))) }
        if let erased {
            let control = erased.controlLossChange.map { String(format: "; random erasures of the same rank %+.4f ± %.4f", $0, erased.controlLossChangeSD ?? 0) } ?? ""
            print(String(format: "erasing at layer %d: loss change %+.4f nats", erased.layer, erased.lossChange) + control)
            if !erased.beyondControls && !erased.controls.isEmpty {
                writeMessage("sonde: warning: the erasure changes the loss no more than a random erasure of its rank: the model does not use what it erased more than any other directions\n")
            }
        }
    }
}
