import SondeBase
import SondeLinalg
import SondeProbe

/// NeuroX's neuron selections from a fitted probe's weights (and the random control), as one
/// value a command, a runner or a report can ask for by name.
public enum NeuronSelection {
    public enum Method: String, CaseIterable, Codable, Sendable {
        /// NeuroX get_neuron_ordering; neurons with zero weight are listed apart as unranked.
        case ordering
        /// get_top_neurons at a share of the weight mass (default 0.5).
        case top
        /// get_top_neurons_hard_threshold: |w| > max / fraction (default 2).
        case threshold
        /// The neurons holding the least weight mass.
        case bottom
        /// `count` neurons drawn with a seed: the control selection.
        case random
        /// Antverg & Belinkov 2022: no probe, class-mean differences on the data.
        case probeless
        /// Mu & Andreas 2020: the best IoU of a neuron's top activations with a class (on the data).
        case iou
        /// Torroba Hennigen et al. 2020: greedy selection by a Gaussian classifier's held-out
        /// log-likelihood (on the data).
        case gaussian

        /// Whether the method ranks labelled activations rather than a probe's weights.
        public var ranksData: Bool { self == .probeless || self == .iou || self == .gaussian }
    }

    public struct Result: Encodable, Sendable {
        public let method: String
        /// The neurons the method returns, in its order.
        public let selected: [Int]
        /// ordering: the neurons with zero weight, which are not ranked.
        public var unranked: [Int]? = nil
        public var cutoffs: [Int]? = nil
        public var perClass: [String: [Int]]? = nil
        /// Each neuron's score (probeless, iou), by neuron index.
        public var scores: [Double]? = nil
        /// gaussian: the held-out mean log-posterior of the true class after each selected neuron.
        public var heldOutScores: [Double]? = nil
    }

    /// A selection from a probe's weights. `className` restricts it to one class's weights;
    /// `fraction` defaults to the method's NeuroX default.
    public static func select(
        _ method: Method, probe: FittedProbe, rawWeights: Bool = false, className: String? = nil, fraction: Double? = nil, stride: Int = 100,
        count: Int = 0, seed: UInt64 = 1
    ) throws -> Result {
        var w = rawWeights ? probe.weights : probe.standardizedWeights
        var classes = probe.classes
        if let className {
            guard let row = classes.firstIndex(of: className) else {
                throw StudyError("class \(className) is not one of the probe's classes: \(classes.joined(separator: ", "))")
            }
            w = Matrix(rows: 1, columns: w.columns, elements: w.row(row))
            classes = [className]
        }
        func perClass(_ lists: [[Int]]) -> [String: [Int]] { Dictionary(uniqueKeysWithValues: zip(classes, lists)) }
        let mass = fraction ?? (method == .threshold ? 2 : 0.5)
        let name = method.rawValue
        switch method {
        case .ordering:
            let r = Rankings.neuronOrdering(w, stride: stride)
            return Result(
                method: name, selected: Array(r.ordering.prefix(r.ranked)), unranked: r.ordering.dropFirst(r.ranked).sorted(),
                cutoffs: Array(r.cutoffs.prefix { $0 <= r.ranked }))
        case .top:
            let r = Rankings.topNeurons(w, fraction: mass)
            return Result(method: name, selected: r.overall, perClass: perClass(r.perClass))
        case .threshold:
            let r = Rankings.hardThreshold(w, fraction: mass)
            return Result(method: name, selected: r.overall, perClass: perClass(r.perClass))
        case .bottom:
            return Result(method: name, selected: Rankings.bottomNeurons(w, fraction: mass))
        case .random:
            return Result(method: name, selected: Rankings.random(count: min(count, probe.neurons), of: probe.neurons, seed: seed))
        case .probeless, .iou, .gaussian:
            throw StudyError("\(name) ranks labelled activations, not a probe: use rank(_:data:)")
        }
    }

    /// A ranking of labelled activations. `percentile`: IoU's firing threshold (default 95).
    /// `count`: how many neurons the Gaussian search adds (default 20), on `heldOut`, or when that
    /// is nil on a seeded fifth of the rows (trained on the rest).
    public static func rank(
        _ method: Method, data: ProbeDataset, heldOut: ProbeDataset? = nil, percentile: Double = 95, count: Int = 20, seed: UInt64 = 1
    ) throws -> Result {
        switch method {
        case .probeless:
            let r = Rankings.probeless(data)
            return Result(method: method.rawValue, selected: r.ordering, scores: r.scores)
        case .iou:
            let r = Rankings.iou(data, percentile: percentile)
            return Result(method: method.rawValue, selected: r.ordering, scores: r.scores)
        case .gaussian:
            var train = data, held = heldOut
            if held == nil {
                guard data.count >= 10 else { throw StudyError("the Gaussian ranking needs at least 10 rows to hold a fifth out") }
                var generator = SplitMix64(seed: seed)
                let order = generator.shuffled(Array(0..<data.count))
                let cut = data.count / 5
                let (heldRows, trainRows) = (Array(order[..<cut]).sorted(), Array(order[cut...]).sorted())
                held = ProbeDataset(x: data.x.rows(heldRows), labels: heldRows.map { data.labels[$0] }, classes: data.classes)
                train = ProbeDataset(x: data.x.rows(trainRows), labels: trainRows.map { data.labels[$0] }, classes: data.classes)
            }
            let r = try Rankings.gaussian(train, heldOut: held!, count: count)
            return Result(method: method.rawValue, selected: r.ordering, heldOutScores: r.scores)
        default:
            throw StudyError("\(method.rawValue) ranks a probe's weights: use select(_:probe:)")
        }
    }

}
