import SondeBase
import SondeLinalg

/// Probe-level ablation (Dalvi et al. 2019): a trained probe is evaluated with some neurons
/// replaced — zeroed, or set to their training mean — without retraining.
public enum Ablation {
    /// What replaced neurons become.
    public enum Fill: String, Sendable, Codable, CaseIterable {
        case zero, mean
    }

    /// Keep only the chosen neurons (replace every other), or remove them (replace them).
    public enum Kind: String, Sendable, Codable, CaseIterable {
        case keep, remove
    }

    /// Which neurons a selection takes from the probe's ranking.
    public enum Selection: String, Sendable, Codable, CaseIterable {
        case top, random, bottom
    }

    /// One point of an ablation curve; random selections carry their spread over seeds.
    public struct Point: Sendable, Codable, Equatable {
        public var selection: Selection
        public var kind: Kind
        public var fill: Fill
        public var neurons: Int
        public var share: Double
        public var accuracy: Double
        public var accuracySD: Double?
    }

    /// The probe's accuracy on `data` with `chosen` kept or removed. The logits of the
    /// unablated data are corrected by the replaced columns only: logits(x′) = logits(x) −
    /// (x_R − f_R)·W_Rᵀ, one gemm over the replaced neurons R.
    public static func accuracy(_ probe: FittedProbe, _ data: ProbeDataset, chosen: [Int], kind: Kind, fill: Fill) -> Double {
        accuracy(probe, data, base: probe.logits(data.x), chosen: chosen, kind: kind, fill: fill)
    }

    static func accuracy(_ probe: FittedProbe, _ data: ProbeDataset, base: Matrix<Float>, chosen: [Int], kind: Kind, fill: Fill) -> Double {
        let d = probe.neurons, c = probe.classes.count, n = data.count
        let chosenSet = Set(chosen)
        let replaced = kind == .remove ? chosen : (0..<d).filter { !chosenSet.contains($0) }
        var logits = base
        if !replaced.isEmpty {
            let r = replaced.count
            let delta = Matrix<Float>(rows: n, columns: r) { out in
                data.x.withUnsafeBufferPointer { x in
                    for i in 0..<n {
                        for (t, j) in replaced.enumerated() {
                            out[i * r + t] = x[i * d + j] - (fill == .mean ? Float(probe.means[j]) : 0)
                        }
                    }
                }
            }
            let w = Matrix<Float>(rows: c, columns: r) { out in
                for k in 0..<c { for (t, j) in replaced.enumerated() { out[k * r + t] = Float(probe.weights[k, j]) } }
            }
            logits.addProduct(delta, w, transposeB: true, alpha: -1, beta: 1)
        }
        var correct = 0, counted = 0
        logits.withUnsafeBufferPointer { z in
            for i in 0..<n {
                var best = 0
                for k in 1..<max(c, 1) where z[i * c + k] > z[i * c + best] { best = k }
                if best == data.labels[i] { correct += 1 }
                counted += 1
            }
        }
        return counted > 0 ? Double(correct) / Double(counted) : 0
    }

    /// Curves over `counts` for every selection, kind and fill asked: top and bottom from
    /// `ordering` (most salient first), random over `seeds` seeds (mean and standard deviation).
    public static func curves(
        _ probe: FittedProbe, _ data: ProbeDataset, ordering: [Int], counts: [Int], selections: [Selection] = Selection.allCases,
        kinds: [Kind] = Kind.allCases, fills: [Fill] = [.zero], seeds: Int = 5, seed: UInt64 = 1
    ) -> [Point] {
        let base = probe.logits(data.x)
        let d = probe.neurons
        var points: [Point] = []
        for fill in fills {
            for kind in kinds {
                for selection in selections {
                    for k in counts {
                        let k = min(max(k, 0), d)
                        var accuracies: [Double] = []
                        switch selection {
                        case .top: accuracies = [accuracy(probe, data, base: base, chosen: Array(ordering.prefix(k)), kind: kind, fill: fill)]
                        case .bottom: accuracies = [accuracy(probe, data, base: base, chosen: Array(ordering.suffix(k)), kind: kind, fill: fill)]
                        case .random:
                            for s in 0..<max(seeds, 1) {
                                let chosen = Rankings.random(count: k, of: d, seed: seed &+ UInt64(s))
                                accuracies.append(accuracy(probe, data, base: base, chosen: chosen, kind: kind, fill: fill))
                            }
                        }
                        let (mean, sd) = meanAndSpread(accuracies)
                        points.append(
                            Point(
                                selection: selection, kind: kind, fill: fill, neurons: k, share: Double(k) / Double(d), accuracy: mean,
                                accuracySD: selection == .random ? sd : nil))
                    }
                }
            }
        }
        return points
    }
}

/// The smallest set of top-ranked neurons on which a freshly trained probe comes within δ of the
/// probe on all neurons (the "oracle") on dev (Dalvi et al. 2020's minimal neuron set).
public struct MinimalNeuronSet: Sendable, Codable {
    public struct Step: Sendable, Codable, Equatable {
        public var neurons: Int
        public var devAccuracy: Double
    }

    /// The size of the set; `share` is it over all the data's neurons (not over the candidates).
    public var neurons: Int
    public var share: Double
    /// How many ranked candidates the search could draw from (e.g. one neuron per cluster).
    public var candidates: Int
    /// Whether the set reaches oracle − δ on dev; false when even every candidate falls short,
    /// and then the set is all of them and its accuracy says by how much.
    public var reached: Bool
    /// The dev accuracy of a probe on exactly this set (always measured, never the oracle's).
    public var devAccuracy: Double
    public var testAccuracy: Double?
    public var oracleDevAccuracy: Double
    public var oracleTestAccuracy: Double?
    /// δ in accuracy points (0.01 = one point below the oracle).
    public var delta: Double
    /// Every size tried, in the order tried: a doubling grid, then bisection.
    public var steps: [Step]
    /// The neurons of the set, in ranking order.
    public var selected: [Int]

    /// Doubles k from 1 until a probe on the top k reaches oracle − δ on dev, then bisects between
    /// the last size that fell short and the first that reached it. Each size is a fresh probe
    /// with `settings`. `oracle`, the probe on every neuron of `train` with `settings`, is fitted
    /// here unless the caller already has it (it usually ranked the neurons).
    public static func search(
        train: ProbeDataset, dev: ProbeDataset, test: ProbeDataset?, ordering: [Int], settings: ProbeSettings, delta: Double = 0.01,
        oracle given: FittedProbe? = nil, progress: (Int) -> Void = { _ in }
    ) -> MinimalNeuronSet {
        let oracle = given ?? FittedProbe.fit(train, settings: settings)
        let oracleDev = oracle.evaluate(dev).accuracy
        var steps: [Step] = []
        var cache: [Int: (FittedProbe, Double)] = [:]
        func evaluate(_ k: Int) -> Double {
            if let hit = cache[k] { return hit.1 }
            let columns = Array(ordering.prefix(k))
            let probe = FittedProbe.fit(ProbeDataset(x: train.x.columns(columns), labels: train.labels, classes: train.classes), settings: settings)
            let accuracy = probe.evaluate(ProbeDataset(x: dev.x.columns(columns), labels: dev.labels, classes: dev.classes)).accuracy
            cache[k] = (probe, accuracy)
            steps.append(Step(neurons: k, devAccuracy: accuracy))
            progress(steps.count)
            return accuracy
        }
        let d = ordering.count
        var low = 0, high = d
        var k = 1
        while k < d {
            if evaluate(k) >= oracleDev - delta { high = k; break }
            low = k
            k *= 2
        }
        while high - low > 1 {
            let mid = (low + high) / 2
            if evaluate(mid) >= oracleDev - delta { high = mid } else { low = mid }
        }
        // The set reported is a set that was evaluated: when the doubling ran out of candidates
        // before reaching the target, that is all of them.
        let reached = evaluate(high) >= oracleDev - delta
        let columns = Array(ordering.prefix(high))
        let oracleTest = test.map { oracle.evaluate($0).accuracy }
        let testAccuracy: Double?
        if let (probe, _) = cache[high], let test {
            testAccuracy = probe.evaluate(ProbeDataset(x: test.x.columns(columns), labels: test.labels, classes: test.classes)).accuracy
        } else {
            testAccuracy = oracleTest
        }
        return MinimalNeuronSet(
            neurons: high, share: Double(high) / Double(max(train.neurons, 1)), candidates: d, reached: reached, devAccuracy: cache[high]!.1,
            testAccuracy: testAccuracy,
            oracleDevAccuracy: oracleDev, oracleTestAccuracy: oracleTest, delta: delta, steps: steps,
            selected: columns)
    }
}
