import SondeBase
import SondeLinalg
import SondeModels
import SondeProbe

/// Ablation inside the model (the probe's neurons ablated in the forward pass, not in its
/// input): the model's own loss with the probe's top k neurons of layer `layer` set to 0 or
/// their mean, against the same number of random neurons (over seeds, with their spread), and —
/// when the evaluation sentences are known — the probe's accuracy on activations re-extracted
/// with each ablation. What the model loses, not just the probe.
public enum ModelAblation {
    public struct Point: Codable, Sendable {
        /// "top" or "random".
        public var selection: String
        public var neurons: Int
        public var loss: Double
        public var lossSD: Double?
        public var lossChange: Double
        /// The probe on re-extracted activations (nil without evaluation sentences).
        public var accuracy: Double?
    }

    /// The probe's evaluation data as sentences: their words, and one label per word (in the
    /// probe's class names; unseen labels count as errors).
    public struct Evaluation: Sendable {
        public var sentences: [[String]]
        public var labels: [String]

        public init(sentences: [[String]], labels: [String]) {
            self.sentences = sentences
            self.labels = labels
        }
    }

    /// - Parameters:
    ///   - scored: the sentences the model's own loss is measured on.
    ///   - ordering: the probe's neurons, most salient first; `counts`: the k's; `seeds` random
    ///     draws per k; `fill`: zero, or the probe's training means.
    ///   - progress: (done, total) over the forward passes.
    public static func run(
        _ model: any LanguageModel, layer: Int, probe: FittedProbe, ordering: [Int], counts: [Int], fill: Ablation.Fill, seeds: Int,
        scored: [[String]], evaluation: Evaluation?, progress: (Int, Int) -> Void = { _, _ in }
    ) throws -> (unablated: ModelScore, points: [Point]) {
        guard (0...model.layerCount).contains(layer), model.hiddenSize == probe.neurons else {
            throw StudyError("\(model.folder): layer \(layer) of \(model.hiddenSize) neurons does not match the probe's \(probe.neurons) neurons")
        }
        func ablation(_ neurons: [Int]) -> NeuronAblation {
            NeuronAblation(layer: layer, neurons: neurons, values: neurons.map { fill == .mean ? Float(probe.means[$0]) : 0 })
        }
        func probeAccuracy(_ a: NeuronAblation) throws -> Double? {
            guard let evaluation else { return nil }
            var rows: [Float] = []
            try model.extract(evaluation.sentences, layers: [layer], aggregate: .last, ablations: [a], progress: { _ in }) { _, v in
                rows += v[0].elements
            }
            let x = Matrix(rows: rows.count / probe.neurons, columns: probe.neurons, elements: rows)
            guard x.rows == evaluation.labels.count else {
                throw StudyError("re-extracting the evaluation sentences gave \(x.rows) words for \(evaluation.labels.count) labels")
            }
            return probe.evaluate(ProbeDataset(x: x, labels: evaluation.labels, classes: probe.classes)).accuracy
        }
        let total = counts.count * (1 + seeds) + 1
        var done = 0
        let plain = try model.score(scored)
        done += 1; progress(done, total)
        var points: [Point] = []
        for count in counts {
            let top = ablation(Array(ordering.prefix(count)))
            let topScore = try model.score(scored, ablations: [top])
            points.append(
                Point(
                    selection: "top", neurons: count, loss: topScore.loss, lossSD: nil, lossChange: topScore.loss - plain.loss,
                    accuracy: try probeAccuracy(top)))
            done += 1; progress(done, total)
            var losses: [Double] = []
            var accuracies: [Double?] = []
            for s in 0..<seeds {
                let random = ablation(Rankings.random(count: count, of: probe.neurons, seed: 1 &+ UInt64(s)))
                losses.append(try model.score(scored, ablations: [random]).loss)
                accuracies.append(try probeAccuracy(random))
                done += 1; progress(done, total)
            }
            let (mean, sd) = meanAndSpread(losses)
            points.append(
                Point(
                    selection: "random", neurons: count, loss: mean, lossSD: sd, lossChange: mean - plain.loss,
                    accuracy: accuracies.contains(nil) ? nil : accuracies.reduce(0) { $0 + $1! } / Double(accuracies.count)))
        }
        return (plain, points)
    }
}
