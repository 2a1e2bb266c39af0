import Foundation
import SondeBase
import SondeLinalg

/// Neuron rankings and selections from a probe's weights (C × D), as NeuroX 1.0.9 defines them
/// (`interpretation.linear_probe`), plus the probeless baseline and controls. Weights are compared
/// by absolute value; pass `FittedProbe.standardizedWeights` so that neurons on different scales
/// compare fairly (NeuroX uses raw weights: pass `weights` to reproduce it).
public enum Rankings {
    /// NeuroX `get_top_neurons(p)`: per class, the neurons sorted by |w| (descending) up to and
    /// including the first whose cumulative |w| reaches `fraction` × the class's total; the union
    /// over classes (sorted ascending) and the per-class lists (in order of weight). Neurons with
    /// zero weight are never selected.
    public static func topNeurons(_ weights: Matrix<Double>, fraction: Double) -> (overall: [Int], perClass: [[Int]]) {
        var union = Set<Int>()
        var perClass: [[Int]] = []
        for c in 0..<weights.rows {
            let row = weights.row(c).map(abs)
            let total = row.reduce(0, +)
            let order = descending(row)
            var cumulative = 0.0
            var chosen: [Int] = []
            // A neuron with zero weight carries none of the mass: it is never selected (with all
            // weights zero, nothing is; NeuroX would return the first neuron by index).
            for j in order where row[j] > 0 {
                chosen.append(j)
                cumulative += row[j]
                if cumulative >= total * fraction { break }
            }
            perClass.append(chosen)
            union.formUnion(chosen)
        }
        return (union.sorted(), perClass)
    }

    /// NeuroX `get_top_neurons_hard_threshold(f)`: per class, the neurons whose |w| exceeds the
    /// class's largest |w| divided by `fraction`; the union and the per-class lists.
    public static func hardThreshold(_ weights: Matrix<Double>, fraction: Double) -> (overall: [Int], perClass: [[Int]]) {
        var union = Set<Int>()
        var perClass: [[Int]] = []
        for c in 0..<weights.rows {
            let row = weights.row(c).map(abs)
            let limit = (row.max() ?? 0) / fraction
            let chosen = descending(row).filter { row[$0] > limit }
            perClass.append(chosen)
            union.formUnion(chosen)
        }
        return (union.sorted(), perClass)
    }

    /// NeuroX `get_neuron_ordering(stride)`: sweep p = 0, 1/stride, …, 1 through `topNeurons` and
    /// append the neurons new at each step. NeuroX leaves the order within a step to a Python
    /// set; Sonde orders them by their largest |w| over classes (descending, then by index), so
    /// the ranking is deterministic. Neurons whose weights are all exactly zero (an exact sparse
    /// solution; NeuroX's Adam never produces one) never enter the sweep: they come last, by
    /// index, so that the ordering always holds every neuron; `ranked` says how many lead it
    /// (the rest are not a ranking, only index order). Returns the ordering, the cut-offs (the
    /// ordering's length after each step, and finally the number of neurons) and `ranked`.
    public static func neuronOrdering(_ weights: Matrix<Double>, stride: Int = 100) -> (ordering: [Int], cutoffs: [Int], ranked: Int) {
        precondition(stride > 0)
        let strength = (0..<weights.columns).map { j in (0..<weights.rows).map { abs(weights[$0, j]) }.max() ?? 0 }
        var seen = Set<Int>()
        var ordering: [Int] = []
        var cutoffs: [Int] = []
        for p in 0...stride {
            let new = topNeurons(weights, fraction: Double(p) / Double(stride)).overall.filter { !seen.contains($0) }
            ordering += new.sorted { (strength[$0], -$0) > (strength[$1], -$1) }
            seen.formUnion(new)
            cutoffs.append(ordering.count)
        }
        let ranked = ordering.count
        if ordering.count < weights.columns {
            ordering += (0..<weights.columns).filter { !seen.contains($0) }
            cutoffs.append(ordering.count)
        }
        return (ordering, cutoffs, ranked)
    }

    /// NeuroX `get_bottom_neurons(p)`: per class, the neurons sorted by |w| ascending up to the
    /// first whose cumulative |w| reaches `fraction` × the class's total; the union.
    public static func bottomNeurons(_ weights: Matrix<Double>, fraction: Double) -> [Int] {
        var union = Set<Int>()
        for c in 0..<weights.rows {
            let row = weights.row(c).map(abs)
            let total = row.reduce(0, +)
            var cumulative = 0.0
            for j in descending(row).reversed() {
                union.insert(j)
                cumulative += row[j]
                if cumulative >= total * fraction { break }
            }
        }
        return union.sorted()
    }

    /// A seeded random selection of `count` distinct neurons out of `neurons` (sorted).
    public static func random(count: Int, of neurons: Int, seed: UInt64) -> [Int] {
        var generator = SplitMix64(seed: seed)
        return Array(generator.shuffled(Array(0..<neurons)).prefix(count)).sorted()
    }

    /// The probeless ranking (Antverg & Belinkov 2022): each neuron's score is the sum over class
    /// pairs of the absolute difference of its class means, Σ_{a<b} |μ_a − μ_b|; neurons in
    /// descending order of score (ties by index), with the scores.
    public static func probeless(_ data: ProbeDataset) -> (ordering: [Int], scores: [Double]) {
        let (means, counts) = data.classMeans()
        let present = counts.indices.filter { counts[$0] > 0 }
        var scores = [Double](repeating: 0, count: data.neurons)
        for (t, a) in present.enumerated() {
            for b in present[(t + 1)...] {
                for j in scores.indices { scores[j] += abs(means[a, j] - means[b, j]) }
            }
        }
        return (descending(scores), scores)
    }

    /// Mu & Andreas's (2020) IoU ranking: a neuron fires where its activation is above its
    /// `percentile`-th percentile (numpy's linear interpolation; strictly above), and its score is
    /// the best intersection-over-union of that mask with a class's rows.
    public static func iou(_ data: ProbeDataset, percentile: Double = 95) -> (ordering: [Int], scores: [Double]) {
        precondition((0...100).contains(percentile), "a percentile is in 0…100")
        let (n, d, c) = (data.count, data.neurons, data.classes.count)
        guard n > 0 else { return (Array(0..<d), [Double](repeating: 0, count: d)) }
        let classSizes = data.classCounts
        var scores = [Double](repeating: 0, count: d)
        var column = [Float](repeating: 0, count: n)
        data.x.withUnsafeBufferPointer { x in
            for j in 0..<d {
                for i in 0..<n { column[i] = x[i * d + j] }
                let sorted = column.sorted()
                let h = Double(n - 1) * percentile / 100
                let low = Int(h.rounded(.down)), high = Swift.min(low + 1, n - 1)
                let threshold = Double(sorted[low]) + (h - Double(low)) * (Double(sorted[high]) - Double(sorted[low]))
                var fired = 0
                var hits = [Int](repeating: 0, count: c)
                for i in 0..<n where Double(column[i]) > threshold {
                    fired += 1
                    if data.labels[i] >= 0 { hits[data.labels[i]] += 1 }
                }
                for k in 0..<c {
                    let union = fired + classSizes[k] - hits[k]
                    if union > 0 { scores[j] = Swift.max(scores[j], Double(hits[k]) / Double(union)) }
                }
            }
        }
        return (descending(scores), scores)
    }

    /// Torroba Hennigen et al.'s (2020) Gaussian probe ranking, greedy: a Gaussian per class over
    /// the chosen neurons (maximum-likelihood means and covariances plus `ridge`·I, priors from the
    /// class sizes) and neurons added one at a time, each the one that most raises the mean log
    /// posterior of the true class on `heldOut`. Returns the first `count` neurons in the order
    /// chosen and the held-out score after each.
    public static func gaussian(_ train: ProbeDataset, heldOut: ProbeDataset, count: Int, ridge: Double = 1e-3) throws -> (
        ordering: [Int], scores: [Double]
    ) {
        let (d, c) = (train.neurons, train.classes.count)
        precondition(heldOut.neurons == d && heldOut.classes == train.classes, "held-out rows of other neurons or classes")
        let present = train.classCounts.indices.filter { train.classCounts[$0] > 0 }
        let total = Double(present.reduce(0) { $0 + train.classCounts[$1] })
        let logPriors = (0..<c).map { Foundation.log(Double(train.classCounts[$0]) / total) }
        let means = train.classMeans().means
        // Each class's full covariance once; a subset's Gaussian reads its submatrix.
        let covariances = present.map { k in train.x.rows(train.labels.indices.filter { train.labels[$0] == k }).covariance(ddof: 0) }
        let rows = heldOut.labels.indices.filter { heldOut.labels[$0] >= 0 && train.classCounts[heldOut.labels[$0]] > 0 }
        var chosen: [Int] = [], scores: [Double] = []
        for _ in 0..<Swift.min(count, d) {
            var best: (neuron: Int, score: Double)?
            for candidate in 0..<d where !chosen.contains(candidate) {
                let subset = chosen + [candidate]
                let score = try heldOutLogPosterior(
                    subset, rows: rows, heldOut: heldOut, present: present, means: means, covariances: covariances, logPriors: logPriors,
                    ridge: ridge)
                if best == nil || score > best!.score { best = (candidate, score) }
            }
            guard let best else { break }
            chosen.append(best.neuron)
            scores.append(best.score)
        }
        return (chosen, scores)
    }

    /// The mean over `rows` of log p(true class | x restricted to `subset`).
    static func heldOutLogPosterior(
        _ subset: [Int], rows: [Int], heldOut: ProbeDataset, present: [Int], means: Matrix<Double>, covariances: [Matrix<Double>],
        logPriors: [Double], ridge: Double
    ) throws -> Double {
        let s = subset.count
        // Per class: the Cholesky factor of Σ[S,S] + ridge·I and log|Σ|.
        let factors = try present.indices.map { p -> (Matrix<Double>, Double) in
            var block = Matrix<Double>(rows: s, columns: s)
            for a in 0..<s { for b in 0..<s { block[a, b] = covariances[p][subset[a], subset[b]] + (a == b ? ridge : 0) } }
            let l = try block.cholesky()
            return (l, 2 * (0..<s).reduce(0.0) { $0 + Foundation.log(l[$1, $1]) })
        }
        let d = heldOut.neurons
        let logTwoPi = Foundation.log(2 * Double.pi)
        var total = 0.0
        var z = [Double](repeating: 0, count: s), joint = [Double](repeating: 0, count: present.count)
        heldOut.x.withUnsafeBufferPointer { x in
            for i in rows {
                for (p, k) in present.enumerated() {
                    // Solve L z = x − μ by forward substitution; the Mahalanobis term is ‖z‖².
                    let (l, logDet) = factors[p]
                    var squares = 0.0
                    for a in 0..<s {
                        var v = Double(x[i * d + subset[a]]) - means[k, subset[a]]
                        for b in 0..<a { v -= l[a, b] * z[b] }
                        z[a] = v / l[a, a]
                        squares += z[a] * z[a]
                    }
                    joint[p] = logPriors[k] - 0.5 * (squares + logDet + Double(s) * logTwoPi)
                }
                let top = joint.max()!
                let normaliser = top + Foundation.log(joint.reduce(0.0) { $0 + Foundation.exp($1 - top) })
                total += joint[present.firstIndex(of: heldOut.labels[i])!] - normaliser
            }
        }
        return rows.isEmpty ? 0 : total / Double(rows.count)
    }

    /// Indices by value, descending; ties by index.
    static func descending(_ values: [Double]) -> [Int] {
        values.indices.sorted { (values[$0], -$0) > (values[$1], -$1) }
    }
}
