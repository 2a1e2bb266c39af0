import SondeBase
import SondeModels
import SondeProbe
import SondeStudy

/// Concept erasure at a property's best layer (`[analyses] erasure = true`): LEACE fitted on the
/// training rows; a probe on the erased rows against the majority baseline on dev; and the
/// model's own loss on the dev sentences with the concept erased inside it, against random
/// erasers of the same rank (amnesic probing).
struct ErasureCell: JSONCell {
    struct Output: Codable {
        var result: ExperimentResults.ErasureResult
    }

    var property: String
    var key: String
    var extract: CellID
    var analysis: AnalysisCell
    /// The model the activations come from (the last checkpoint).
    var folder: String

    var id: CellID { .erasure(property: property) }
    var dependencies: [CellID] { [extract, analysis.id] }
    var output: String { "erasure-\(key).json" }

    static let controls = 3
    /// Dev sentences the model's loss is measured on (a forward pass each, times 2 + controls).
    static let sentences = 200

    func compute(_ runner: ExperimentRunner) throws -> Output {
        let e = runner.experiment, settings = runner.probeSettings
        let best = try analysis.read(runner).best
        let x = try runner.activations(extract)[best]
        let (_, tokens) = try runner.tokens(property)
        let classes = Array(Set(tokens.labels)).sorted()
        let train = tokens.dataset(x, tokens.trainRows, classes: classes), dev = tokens.dataset(x, tokens.devRows, classes: classes)
        let counts = train.classCounts
        let majorityClass = counts.indices.max { counts[$0] < counts[$1] } ?? 0
        let majority = Double(dev.labels.filter { $0 == majorityClass }.count) / Double(max(dev.count, 1))
        // One class in the training rows (a small or one-genre corpus): nothing to erase, and
        // any probe predicts that class; said, not thrown, so the rest of the study stands.
        guard counts.filter({ $0 > 0 }).count >= 2 else {
            var result = ExperimentResults.ErasureResult(
                layer: ActivationFile.layerName(best), rank: 0, probeBefore: majority, probeAfter: majority, majority: majority)
            result.note = "nothing to erase: the training rows hold one class of \(property); a larger or more varied corpus gives it more"
            return Output(result: result)
        }
        let eraser = try ConceptEraser.leace(train)
        let before = FittedProbe.fit(train, settings: settings).evaluate(dev).accuracy
        let erasedTrain = ProbeDataset(x: eraser.apply(train.x), labels: train.labels, classes: classes)
        let after = FittedProbe.fit(erasedTrain, settings: settings).evaluate(ProbeDataset(x: eraser.apply(dev.x), labels: dev.labels, classes: classes))
            .accuracy
        var result = ExperimentResults.ErasureResult(
            layer: ActivationFile.layerName(best), rank: eraser.rank, probeBefore: before, probeAfter: after, majority: majority)
        // The model's own loss on the dev sentences (every fifth's fourth, as the probes' dev rows).
        let model = try loadLanguageModel(folder, tokenizer: e.models?.tokenizer)
        let corpus = try runner.layout().corpus
        let sentences = Array(corpus.sentences.indices.filter { $0 % 5 == 3 }.prefix(Self.sentences).map { corpus.sentences[$0].words.map(\.form) })
        let total = 2 + Self.controls
        func score(_ ablations: [NeuronAblation], _ step: Int) throws -> Double {
            defer { runner.progress("erasure \(property)", step, total) }
            return try model.score(sentences, labels: nil, ablations: ablations, seed: 2026, words: nil, progress: { _ in }).loss
        }
        do {
            let plain = try score([], 1)
            let erased = try score([NeuronAblation(layer: best, eraser: eraser)], 2)
            let controls = try (0..<Self.controls).map { s in
                try score([NeuronAblation(layer: best, eraser: .random(neurons: eraser.neurons, rank: eraser.rank, mean: eraser.mean, seed: 1 &+ UInt64(s)))], 3 + s)
                    - plain
            }
            let spread = meanAndSpread(controls)
            (result.lossBefore, result.lossChange, result.controlLossChange, result.controlLossChangeSD) = (
                plain, erased - plain, spread.mean, spread.standardDeviation ?? 0
            )
        } catch let error as ModelError where error.kind == .unsupported {
            result.note = "the model's own loss was not measured: \(error.description)"
        }
        return Output(result: result)
    }
}
