import Foundation
import SondeBase
import SondeLinalg
import SondeProbe

/// k-sparse probing (Gurnee et al. 2023, "Finding Neurons in a Haystack"): accuracy against
/// the number of neurons k, each k's neurons chosen by a named ranker and a probe refitted on
/// them alone with scikit-learn's default logistic regression penalty (L2, C = 1: λ = 1/n on
/// the mean loss — light, and finite on separable data, where an unpenalised fit has no
/// optimum and a near-zero ridge ran for minutes), evaluated on held-out rows. The rankers side by side show where they agree (Jaccard@k, rank correlation),
/// the check Antverg & Belinkov (2022) ask of any neuron ranking.
public enum SparseProbing {
    public enum Ranker: String, CaseIterable, Codable, Sendable {
        /// The order in which neurons enter the elastic-net path as λ decreases.
        case path
        /// The largest one-vs-rest class-mean difference, in the neuron's standard deviations.
        case meanDifference = "mean-difference"
        /// The ANOVA F statistic of the neuron over the classes.
        case fStatistic = "f-statistic"
        /// The linguistic correlation analysis ranking: NeuroX's ordering of the probe's weights.
        case lca
        /// Antverg & Belinkov 2022: summed class-mean differences.
        case probeless
        /// Mu & Andreas 2020: the best IoU of the neuron's top activations with a class.
        case iou
        /// Torroba Hennigen et al. 2020, greedy (only its first `gaussianCount` neurons).
        case gaussian

        public static let defaults: [Ranker] = [.path, .meanDifference, .fStatistic, .lca]
    }

    public struct Point: Codable, Sendable {
        public let k: Int
        public let neurons: [Int]
        public let accuracy: Double
    }

    public struct Curve: Codable, Sendable {
        public let ranker: Ranker
        /// The ranker's order of the neurons (gaussian: only as many as it chose).
        public let ordering: [Int]
        public let points: [Point]
    }

    /// Two rankers: the overlap of their top k for each k, and Spearman's correlation of their
    /// complete orderings (nil when one is partial).
    public struct Agreement: Codable, Sendable {
        public let a: Ranker
        public let b: Ranker
        public let jaccard: [String: Double]
        public let rankCorrelation: Double?
    }

    public struct Result: Codable, Sendable {
        public let ks: [Int]
        public let curves: [Curve]
        public let agreement: [Agreement]
        /// A probe on every neuron, refitted the same way: the curve's ceiling.
        public let allNeuronsAccuracy: Double
        /// The share of the held-out rows in the training majority class.
        public let majorityBaseline: Double
        public let neurons: Int
        public let trainRows: Int
        public let evaluationRows: Int
    }

    /// k = 1, 2, 4, … up to the number of neurons (which is always the last).
    public static func defaultKs(neurons: Int) -> [Int] {
        var ks: [Int] = []
        var k = 1
        while k < neurons {
            ks.append(k)
            k *= 2
        }
        return ks + [neurons]
    }

    /// - Parameters:
    ///   - settings: the elastic net of the path and of the LCA probe.
    ///   - gaussianCount: how many neurons the Gaussian ranker chooses (it is quadratic in them).
    public static func run(
        train: ProbeDataset, evaluation: ProbeDataset, ks: [Int], rankers: [Ranker] = Ranker.defaults, settings: ProbeSettings,
        gaussianCount: Int = 16, progress: (Int, Int) -> Void = { _, _ in }
    ) throws -> Result {
        let d = train.neurons
        guard evaluation.neurons == d, evaluation.classes == train.classes else {
            throw StudyError("the held-out rows have other neurons or classes than the training rows")
        }
        guard let largest = ks.max(), ks.allSatisfy({ $0 >= 1 }), largest <= d else { throw StudyError("each k must be in 1…\(d)") }
        let refit = ProbeSettings(
            penalty: .elasticNet(lambda: 1 / Double(max(train.count, 1)), alpha: 0), tolerance: settings.tolerance, maxIterations: settings.maxIterations)
        let probes = SubsetProbes(train, settings: refit)
        func accuracy(_ neurons: [Int]) -> Double {
            let probe = probes.fit(neurons)
            return probe.evaluate(ProbeDataset(x: evaluation.x.columns(neurons), labels: evaluation.labels, classes: evaluation.classes)).accuracy
        }
        let total = rankers.count * ks.count + 1
        var done = 0
        var curves: [Curve] = []
        for ranker in rankers {
            let ordering = try self.ordering(ranker, train: train, settings: settings, gaussianCount: gaussianCount)
            var points: [Point] = []
            for k in ks.sorted() {
                done += 1
                progress(done, total)
                guard k <= ordering.count else { continue }
                let neurons = Array(ordering.prefix(k))
                points.append(Point(k: k, neurons: neurons, accuracy: accuracy(neurons)))
            }
            curves.append(Curve(ranker: ranker, ordering: ordering, points: points))
        }
        let everything = accuracy(Array(0..<d))
        progress(total, total)
        var agreement: [Agreement] = []
        for (i, a) in curves.enumerated() {
            for b in curves[(i + 1)...] {
                let shared = ks.filter { $0 <= min(a.ordering.count, b.ordering.count) }
                let overlaps = Dictionary(uniqueKeysWithValues: shared.map { (String($0), jaccard(a.ordering, b.ordering, k: $0)) })
                let complete = a.ordering.count == d && b.ordering.count == d
                agreement.append(
                    Agreement(
                        a: a.ranker, b: b.ranker, jaccard: overlaps, rankCorrelation: complete ? rankCorrelation(orderings: a.ordering, b.ordering) : nil))
            }
        }
        let counts = train.classCounts
        let majority = counts.indices.max { counts[$0] < counts[$1] } ?? 0
        let baseline = Double(evaluation.labels.filter { $0 == majority }.count) / Double(max(evaluation.count, 1))
        return Result(
            ks: ks.sorted(), curves: curves, agreement: agreement, allNeuronsAccuracy: everything, majorityBaseline: baseline, neurons: d,
            trainRows: train.count, evaluationRows: evaluation.count)
    }

    /// A ranker's order of the neurons, best first (ties by index).
    public static func ordering(_ ranker: Ranker, train: ProbeDataset, settings: ProbeSettings, gaussianCount: Int = 16) throws -> [Int] {
        let d = train.neurons
        switch ranker {
        case .path:
            let alpha: Double
            switch settings.penalty {
            case .elasticNet(_, let a): alpha = a
            case .neurox: alpha = 0.5
            }
            return RegularizationPath.entryOrder(train: train, alpha: max(alpha, 0.01), count: 30, tolerance: settings.tolerance)
        case .meanDifference, .fStatistic:
            let (means, counts) = train.classMeans()
            let statistics = train.x.columnStatistics(ddof: 0)
            let n = Double(train.count)
            let present = counts.indices.filter { counts[$0] > 0 }
            let scores = (0..<d).map { j -> Double in
                let (mu, sigma) = (statistics.means[j], statistics.standardDeviations[j])
                guard sigma > 0 else { return 0 }
                if ranker == .meanDifference {
                    return present.map { c in
                        let nc = Double(counts[c])
                        let rest = nc < n ? (n * mu - nc * means[c, j]) / (n - nc) : mu
                        return abs(means[c, j] - rest) / sigma
                    }.max() ?? 0
                }
                let between = present.reduce(0.0) { $0 + Double(counts[$1]) * (means[$1, j] - mu) * (means[$1, j] - mu) }
                let within = n * sigma * sigma - between
                let (dfBetween, dfWithin) = (Double(present.count - 1), n - Double(present.count))
                guard dfBetween > 0, dfWithin > 0 else { return 0 }
                return within > 0 ? (between / dfBetween) / (within / dfWithin) : .infinity
            }
            return scores.indices.sorted { (scores[$0], -$0) > (scores[$1], -$1) }
        case .lca:
            return Rankings.neuronOrdering(FittedProbe.fit(train, settings: settings).standardizedWeights).ordering
        case .probeless: return Rankings.probeless(train).ordering
        case .iou: return Rankings.iou(train).ordering
        case .gaussian:
            return try NeuronSelection.rank(.gaussian, data: train, count: min(gaussianCount, d)).selected
        }
    }
}
