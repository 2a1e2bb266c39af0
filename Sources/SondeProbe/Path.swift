import Glibc
import SondeBase

/// A regularisation path: probes for λ from λ_max (the smallest λ whose solution is all zero)
/// down a log grid, each warm-started from the previous one, with λ chosen on a dev set or by
/// k-fold cross-validation (highest accuracy; ties to the larger λ, i.e. the sparser probe).
/// The path also ranks neurons by the order in which they enter the model as λ decreases.
public struct RegularizationPath: Sendable {
    public struct Point: Sendable, Codable, Equatable {
        public var lambda: Double
        public var nonzeroNeurons: Int
        public var trainObjective: Double
        /// Dev accuracy, or mean held-out accuracy under cross-validation; nil when neither.
        public var selectionAccuracy: Double?
        public var iterations: Int
        public var converged: Bool
    }

    public let alpha: Double
    public let points: [Point]
    public let probes: [FittedProbe]
    /// The index of the chosen λ.
    public let selected: Int
    /// Neurons by the λ at which they first get a nonzero weight (earlier = more important; ties
    /// by the larger standardised |w| at that λ); neurons that never enter come last, by index.
    public let entryOrder: [Int]

    public var selectedProbe: FittedProbe { probes[selected] }

    /// - Parameters:
    ///   - alpha: the elastic-net mixing (1 = lasso); λ_max is computed for max(α, 0.001).
    ///   - count: the number of λ values; `minRatio`: λ_min / λ_max.
    ///   - dev: chooses λ by accuracy on it; else `folds` > 1 chooses by cross-validation; else the
    ///     smallest λ is taken.
    ///   - progress: called with (done, total) after each fit.
    public static func fit(
        train: ProbeDataset, dev: ProbeDataset? = nil, folds: Int = 0, alpha: Double, count: Int = 20, minRatio: Double = 1e-3,
        standardize: Bool = true, tolerance: Double = 1e-4, maxIterations: Int = 500, seed: UInt64 = 1,
        progress: ((Int, Int) -> Void)? = nil
    ) -> RegularizationPath {
        precondition(count >= 1 && minRatio > 0 && minRatio <= 1 && (0...1).contains(alpha))
        let problem = ProbeProblem(train, standardize: standardize)
        let lambdaMax = problem.gradientScale / max(alpha, 1e-3)
        let lambdas = (0..<count).map { k in lambdaMax * pow(minRatio, count == 1 ? 0 : Double(k) / Double(count - 1)) }
        let cvFolds = dev == nil && folds > 1 ? folds : 0
        let total = count * (1 + cvFolds)
        var done = 0
        func tick() {
            done += 1
            progress?(done, total)
        }
        let full = solvePath(
            problem, classes: train.classes, lambdas: lambdas, alpha: alpha, standardize: standardize,
            tolerance: tolerance, maxIterations: maxIterations, tick: tick)
        var accuracy: [Double]?
        if let dev {
            accuracy = full.map { $0.evaluate(dev).accuracy }
        } else if cvFolds > 1 {
            var generator = SplitMix64(seed: seed)
            let order = generator.shuffled(Array(0..<train.count))
            var sums = [Double](repeating: 0, count: count)
            for f in 0..<cvFolds {
                let heldOut = order.indices.filter { $0 % cvFolds == f }.map { order[$0] }.sorted()
                let kept = order.indices.filter { $0 % cvFolds != f }.map { order[$0] }.sorted()
                let part = ProbeDataset(x: train.x.rows(kept), labels: kept.map { train.labels[$0] }, classes: train.classes)
                let test = ProbeDataset(x: train.x.rows(heldOut), labels: heldOut.map { train.labels[$0] }, classes: train.classes)
                let probes = solvePath(
                    ProbeProblem(part, standardize: standardize), classes: train.classes, lambdas: lambdas, alpha: alpha,
                    standardize: standardize, tolerance: tolerance, maxIterations: maxIterations, tick: tick)
                for (k, p) in probes.enumerated() { sums[k] += p.evaluate(test).accuracy / Double(cvFolds) }
            }
            accuracy = sums
        }
        let selected: Int
        if let accuracy {
            let best = accuracy.max()!
            selected = accuracy.firstIndex { $0 >= best - 1e-12 }!
        } else {
            selected = count - 1
        }
        let points = full.enumerated().map { k, p in
            Point(
                lambda: lambdas[k], nonzeroNeurons: p.diagnostics.nonzeroNeurons, trainObjective: p.diagnostics.objective,
                selectionAccuracy: accuracy?[k], iterations: p.diagnostics.iterations, converged: p.diagnostics.converged)
        }
        return RegularizationPath(alpha: alpha, points: points, probes: full, selected: selected, entryOrder: entryOrder(full))
    }

    /// The path's entry order alone (`entryOrder`), solved down the same grid only until every
    /// neuron that can carry a weight has entered: the later λ cannot change it.
    public static func entryOrder(
        train: ProbeDataset, alpha: Double, count: Int = 20, minRatio: Double = 1e-3, standardize: Bool = true, tolerance: Double = 1e-4,
        maxIterations: Int = 500
    ) -> [Int] {
        precondition(count >= 1 && minRatio > 0 && minRatio <= 1 && (0...1).contains(alpha))
        let problem = ProbeProblem(train, standardize: standardize)
        let lambdaMax = problem.gradientScale / max(alpha, 1e-3)
        let variable = problem.constant.filter { !$0 }.count
        var probes: [FittedProbe] = []
        var start: (w: [Double], b: [Double])?
        for k in 0..<count {
            let lambda = lambdaMax * pow(minRatio, count == 1 ? 0 : Double(k) / Double(count - 1))
            let penalty = Penalty.elasticNet(lambda: lambda, alpha: alpha)
            let result = problem.solve(penalty: penalty, tolerance: tolerance, maxIterations: maxIterations, start: start)
            start = (result.w, result.b)
            let settings = ProbeSettings(penalty: penalty, standardize: standardize, tolerance: tolerance, maxIterations: maxIterations)
            probes.append(FittedProbe(problem: problem, classes: train.classes, result: result, settings: settings))
            if probes.last!.diagnostics.nonzeroNeurons >= variable { break }
        }
        return entryOrder(probes)
    }

    static func solvePath(
        _ problem: ProbeProblem, classes: [String], lambdas: [Double], alpha: Double, standardize: Bool, tolerance: Double,
        maxIterations: Int, tick: () -> Void
    ) -> [FittedProbe] {
        var start: (w: [Double], b: [Double])?
        return lambdas.map { lambda in
            let penalty = Penalty.elasticNet(lambda: lambda, alpha: alpha)
            let result = problem.solve(penalty: penalty, tolerance: tolerance, maxIterations: maxIterations, start: start)
            start = (result.w, result.b)
            tick()
            let settings = ProbeSettings(penalty: penalty, standardize: standardize, tolerance: tolerance, maxIterations: maxIterations)
            return FittedProbe(problem: problem, classes: classes, result: result, settings: settings)
        }
    }

    static func entryOrder(_ probes: [FittedProbe]) -> [Int] {
        guard let first = probes.first else { return [] }
        let d = first.neurons
        var entered = [Int?](repeating: nil, count: d)
        var strength = [Double](repeating: 0, count: d)
        for (k, p) in probes.enumerated() {
            let w = p.standardizedWeights
            for j in 0..<d where entered[j] == nil {
                let s = (0..<w.rows).map { abs(w[$0, j]) }.max() ?? 0
                if s > 0 {
                    entered[j] = k
                    strength[j] = s
                }
            }
        }
        return (0..<d).sorted { a, b in
            switch (entered[a], entered[b]) {
            case let (x?, y?): return x != y ? x < y : (strength[a], -a) > (strength[b], -b)
            case (_?, nil): return true
            case (nil, _?): return false
            case (nil, nil): return a < b
            }
        }
    }
}

/// Control tasks (Hewitt & Liang 2019): every word type gets one random label, drawn from the
/// training label distribution, shared by all splits. A probe's selectivity is its accuracy on the
/// real task minus its accuracy on the control task with the same settings.
public enum ControlTask {
    /// Control labels for each split (`words[s][i]` is the word of row i of split s; split 0 is
    /// train). Types are assigned in order of first appearance, split by split, so the labels
    /// depend only on the words, the training labels and the seed.
    public static func labels(words: [[String]], trainLabels: [Int], classes: Int, seed: UInt64) -> [[Int]] {
        var counts = [Double](repeating: 0, count: classes)
        for y in trainLabels where y >= 0 { counts[y] += 1 }
        let total = counts.reduce(0, +)
        var cumulative: [Double] = []
        var running = 0.0
        for c in counts {
            running += c / max(total, 1)
            cumulative.append(running)
        }
        var generator = SplitMix64(seed: seed)
        var assigned: [String: Int] = [:]
        return words.map { split in
            split.map { word in
                if let label = assigned[word] { return label }
                let u = generator.unit()
                let label = cumulative.firstIndex { u < $0 } ?? (classes - 1)
                assigned[word] = label
                return label
            }
        }
    }
}
