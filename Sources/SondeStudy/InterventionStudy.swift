import SondeBase
import SondeModels
import SondeProbe

/// Rankings checked inside the model (Antverg & Belinkov 2022: a probe's accuracy does not say
/// whether the model uses the neurons): each ranker's top k neurons of a layer ablated in the
/// forward pass, and the change of the model's own loss on the words that have the property
/// value against the words that do not. Their difference is the intervention's selectivity;
/// the same k random neurons, over seeds, are the control.
public enum InterventionStudy {
    public struct Point: Codable, Sendable {
        /// The ranker's name, or "random".
        public var ranker: String
        public var k: Int
        public var fill: Ablation.Fill
        /// Loss change (nats) on the words with the value, and on the others.
        public var lossChangeWith: Double
        public var lossChangeWithout: Double
        /// lossChangeWith − lossChangeWithout.
        public var selectivity: Double
        /// random: the SD over the draws of the selectivity.
        public var selectivitySD: Double?
    }

    public struct Result: Codable, Sendable {
        public var layer: Int
        /// The model's score unablated, on the words with the value and on the others.
        public var plainWith: ModelScore
        public var plainWithout: ModelScore
        public var points: [Point]
    }

    /// - Parameters:
    ///   - flags: per sentence, per word: has the property value.
    ///   - orderings: each ranker's neurons of `layer`, best first.
    ///   - means: each neuron's mean (for `.mean` fills).
    public static func run(
        _ model: any LanguageModel, layer: Int, sentences: [[String]], flags: [[Bool]], orderings: [(name: String, neurons: [Int])], ks: [Int],
        fills: [Ablation.Fill], means: [Float], seeds: Int, seed: UInt64 = 2026, progress: (Int, Int) -> Void = { _, _ in }
    ) throws -> Result {
        guard (0...model.layerCount).contains(layer), means.count == model.hiddenSize else {
            throw StudyError("\(model.folder): layer \(layer) of \(model.hiddenSize) neurons is not one of the model's (0…\(model.layerCount))")
        }
        let others = flags.map { $0.map { !$0 } }
        func scores(_ ablations: [NeuronAblation]) throws -> (with: ModelScore, without: ModelScore) {
            (
                try model.score(sentences, labels: nil, ablations: ablations, seed: seed, words: flags, progress: { _ in }),
                try model.score(sentences, labels: nil, ablations: ablations, seed: seed, words: others, progress: { _ in })
            )
        }
        func ablation(_ neurons: [Int], _ fill: Ablation.Fill) -> NeuronAblation {
            NeuronAblation(layer: layer, neurons: neurons, values: neurons.map { fill == .mean ? means[$0] : 0 })
        }
        let total = 1 + ks.count * fills.count * (orderings.count + seeds)
        var done = 0
        func tick() {
            done += 1
            progress(done, total)
        }
        let plain = try scores([])
        tick()
        var points: [Point] = []
        for k in ks {
            for fill in fills {
                for (name, ordering) in orderings where k <= ordering.count {
                    let s = try scores([ablation(Array(ordering.prefix(k)), fill)])
                    let (with, without) = (s.with.loss - plain.with.loss, s.without.loss - plain.without.loss)
                    points.append(Point(ranker: name, k: k, fill: fill, lossChangeWith: with, lossChangeWithout: without, selectivity: with - without))
                    tick()
                }
                var draws: [(Double, Double)] = []
                for s in 0..<seeds {
                    let r = try scores([ablation(Rankings.random(count: k, of: model.hiddenSize, seed: 1 &+ UInt64(s)), fill)])
                    draws.append((r.with.loss - plain.with.loss, r.without.loss - plain.without.loss))
                    tick()
                }
                if !draws.isEmpty {
                    let with = meanAndSpread(draws.map(\.0)).mean, without = meanAndSpread(draws.map(\.1)).mean
                    points.append(
                        Point(
                            ranker: "random", k: k, fill: fill, lossChangeWith: with, lossChangeWithout: without, selectivity: with - without,
                            selectivitySD: meanAndSpread(draws.map { $0.0 - $0.1 }).standardDeviation ?? 0))
                }
            }
        }
        return Result(layer: layer, plainWith: plain.with, plainWithout: plain.without, points: points)
    }
}

extension NeuronAblation {
    /// The eraser acting on state `layer` inside the forward pass.
    public init(layer: Int, eraser: ConceptEraser) {
        self.init(layer: layer, erasureMap: eraser.map.elements.map(Float.init), mean: eraser.mean.map(Float.init))
    }
}
