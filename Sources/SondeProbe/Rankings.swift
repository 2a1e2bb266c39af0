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
        let (c, d) = (data.classes.count, data.neurons)
        var sums = [Double](repeating: 0, count: c * d)
        var counts = [Double](repeating: 0, count: c)
        data.x.withUnsafeBufferPointer { x in
            for (i, y) in data.labels.enumerated() where y >= 0 {
                counts[y] += 1
                for j in 0..<d { sums[y * d + j] += Double(x[i * d + j]) }
            }
        }
        let present = (0..<c).filter { counts[$0] > 0 }
        var scores = [Double](repeating: 0, count: d)
        for (t, a) in present.enumerated() {
            for b in present[(t + 1)...] {
                for j in 0..<d { scores[j] += abs(sums[a * d + j] / counts[a] - sums[b * d + j] / counts[b]) }
            }
        }
        return (descending(scores), scores)
    }

    /// Indices by value, descending; ties by index.
    static func descending(_ values: [Double]) -> [Int] {
        values.indices.sorted { (values[$0], -$0) > (values[$1], -$1) }
    }
}
