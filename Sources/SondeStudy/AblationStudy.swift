import SondeBase
import SondeLinalg
import SondeModels
import SondeProbe

/// How much of a probe's accuracy lives in its top neurons: ablation without retraining
/// (keep or remove the top / random / bottom k), the minimal neuron set by retraining, and —
/// with a model — the same neurons ablated inside the model's forward pass.
public enum AblationStudy {
    public struct Settings: Sendable {
        /// The neuron counts of the table, and of the optional finer curve.
        public var counts: [Int]
        public var curve: [Int]?
        public var fills: [Ablation.Fill]
        /// Random selections per count.
        public var seeds: Int
        /// Search the minimal set within this many accuracy points of all neurons (needs dev).
        public var minimalDelta: Double?

        public init(counts: [Int], curve: [Int]? = nil, fills: [Ablation.Fill] = [.zero, .mean], seeds: Int = 5, minimalDelta: Double? = nil) {
            self.counts = counts
            self.curve = curve
            self.fills = fills
            self.seeds = seeds
            self.minimalDelta = minimalDelta
        }
    }

    /// Ablation inside a model: its layer the activations came from, the sentences its own loss
    /// is measured on, and the evaluation split's sentences when known (for re-extraction).
    public struct InModel {
        public var model: any LanguageModel
        public var layer: Int
        public var scored: [[String]]
        public var evaluationSentences: [[String]]?

        public init(model: any LanguageModel, layer: Int, scored: [[String]], evaluationSentences: [[String]]?) {
            self.model = model
            self.layer = layer
            self.scored = scored
            self.evaluationSentences = evaluationSentences
        }
    }

    public struct Result: Codable, Sendable {
        /// The split the probe is evaluated on: the last given (test, else dev, else train).
        public let evaluatedOn: String
        public let neurons: Int
        public let unablatedAccuracy: Double
        public let points: [Ablation.Point]
        public let curve: [Ablation.Point]?
        public let minimal: MinimalNeuronSet?
        public let modelScore: ModelScore?
        public let model: [ModelAblation.Point]?
    }

    /// - Parameters:
    ///   - probe: a saved probe, or nil to fit one on train with `probeSettings`.
    ///   - progress: ("minimal set" or "model", done, total).
    public static func run(
        _ splits: [ProbeStudy.Split], probe saved: FittedProbe?, probeSettings: ProbeSettings, settings: Settings, inModel: InModel? = nil,
        progress: (String, Int, Int) -> Void = { _, _, _ in }
    ) throws -> Result {
        let train = splits[0].data
        let probe = saved ?? FittedProbe.fit(train, settings: probeSettings)
        guard probe.neurons == train.neurons else { throw StudyError("the probe has \(probe.neurons) neurons, the activations \(train.neurons)") }
        let evaluation = splits.last!
        // A saved probe's classes may be ordered differently from this data's: re-index the labels.
        let labels = evaluation.data.labels.map { $0 >= 0 ? evaluation.data.classes[$0] : "" }
        let eval = ProbeDataset(x: evaluation.data.x, labels: labels, classes: probe.classes)
        let ordering = Rankings.neuronOrdering(probe.standardizedWeights).ordering
        func curves(_ counts: [Int]) -> [Ablation.Point] {
            Ablation.curves(probe, eval, ordering: ordering, counts: counts, fills: settings.fills, seeds: settings.seeds)
        }
        var minimal: MinimalNeuronSet?
        if let delta = settings.minimalDelta {
            guard let dev = splits.first(where: { $0.name == "dev" }) else { throw StudyError("the minimal set is chosen on dev: give a dev split") }
            minimal = MinimalNeuronSet.search(
                train: train, dev: dev.data, test: splits.first { $0.name == "test" }?.data, ordering: ordering, settings: probeSettings,
                delta: delta, oracle: saved == nil ? probe : nil
            ) { progress("minimal set", $0, $0) }
        }
        let inside = try inModel.map { m in
            try ModelAblation.run(
                m.model, layer: m.layer, probe: probe, ordering: ordering, counts: settings.counts, fill: settings.fills.first ?? .zero,
                seeds: settings.seeds, scored: m.scored, evaluation: m.evaluationSentences.map { .init(sentences: $0, labels: labels) }
            ) { progress("model", $0, $1) }
        }
        return Result(
            evaluatedOn: evaluation.name, neurons: probe.neurons, unablatedAccuracy: probe.evaluate(eval).accuracy, points: curves(settings.counts),
            curve: settings.curve.map(curves), minimal: minimal, modelScore: inside?.unablated, model: inside?.points)
    }
}
