import Foundation
import SondeBase
import SondeLinalg

extension LSTMNetwork {
    /// Margins mᵢ = ln p(goodᵢ) − ln p(badᵢ) — each sentence word ids read as `<s> w₁ … wₙ`,
    /// predicting `w₁ … wₙ </s>` — and the gradient of Σᵢ cᵢ·mᵢ with cᵢ = `coefficient(mᵢ)` (1:
    /// the gradient differential Δg = Σᵢ ∇θ mᵢ; 1 − σ(mᵢ): the gradient of Σᵢ ln σ(mᵢ)). Both
    /// sentences of a pair run in one batch and their losses enter with weights −cᵢ and +cᵢ, so
    /// one backward pass gives the difference; what the two share before they differ cancels.
    package func marginGradient(
        good: [[Int32]], bad: [[Int32]], pairsPerBatch: Int = 32, coefficient: (Double) -> Double = { _ in 1 }
    ) -> (margins: [Double], gradient: [S]) {
        precondition(good.count == bad.count)
        var total = [S](repeating: 0, count: count)
        var margins: [Double] = []
        for start in stride(from: 0, to: good.count, by: pairsPerBatch) {
            let pairs = start..<min(good.count, start + pairsPerBatch)
            let sequences = pairs.flatMap { [good[$0], bad[$0]] }
            let batch = sequences.count, steps = sequences.map(\.count).max()! + 1
            var ids = [Int32](repeating: 0, count: steps * batch)
            for (b, s) in sequences.enumerated() {
                ids[b] = 1
                for (i, w) in s.enumerated() { ids[(i + 1) * batch + b] = w }
            }
            let targets = LSTMModel.nextWordTargets(ids, steps: steps, batch: batch, lengths: sequences.map(\.count))
            let weights = (0..<(steps * batch)).map { S($0 % batch % 2 == 0 ? -1 : 1) }
            var none: SplitMix64? = nil
            let pass = forward(ids: ids, steps: steps, batch: batch, generator: &none)
            var scored = score(pass, targets: targets, weights: weights)
            // ln p(sentence) = −Σ its rows' losses.
            var logP = [Double](repeating: 0, count: batch)
            for (k, row) in scored.rows.enumerated() { logP[row % batch] -= scored.rowLosses[k] }
            let chunk = (0..<pairs.count).map { logP[2 * $0] - logP[2 * $0 + 1] }
            margins += chunk
            let coefficients = chunk.map { S(coefficient($0)) }
            if coefficients.contains(where: { $0 != 1 }) {
                let v = config.outputs
                for (k, row) in scored.rows.enumerated() {
                    let c = coefficients[row % batch / 2]
                    for j in 0..<v { scored.logitGradient[k * v + j] *= c }
                }
            }
            let g = backward(pass, ids: ids, scored: scored)
            for i in total.indices { total[i] += g[i] }
        }
        return (margins, total)
    }
}

/// Which parameters a gradient-differential update may change: indices into the flat parameter
/// vector, ascending.
public struct ParameterMask: Sendable, Equatable {
    public let indices: [Int]
    /// Parameters in all.
    public let parameters: Int

    public var share: Double { Double(indices.count) / Double(max(parameters, 1)) }

    /// The `share` largest |Δg| (at least one): over all parameters, or `perTensor` the same share
    /// of each tensor. Ties are broken by the lower index (a stable sort by |Δg| descending).
    public static func top(_ gradient: [Float], share: Double, perTensor: [Range<Int>]? = nil) -> ParameterMask {
        func chosen(_ range: Range<Int>) -> [Int] {
            let k = max(1, min(range.count, Int((share * Double(range.count)).rounded())))
            if k == range.count { return Array(range) }
            // The k-th largest magnitude, then every index above it and, in index order, as many
            // of those equal to it as fit (a sort of plain Floats: far cheaper than of indices).
            var magnitudes = range.map { abs(gradient[$0]) }
            let threshold = kthLargest(&magnitudes, k)
            let above = range.filter { abs(gradient[$0]) > threshold }
            return above + range.lazy.filter { abs(gradient[$0]) == threshold }.prefix(k - above.count)
        }
        let picked = (perTensor ?? [0..<gradient.count]).flatMap(chosen)
        return ParameterMask(indices: picked.sorted(), parameters: gradient.count)
    }

    /// The k-th largest of `values` (k from 1), by quickselect (it reorders `values`): linear
    /// time, where sorting 3 million magnitudes per mask took a second.
    static func kthLargest(_ values: inout [Float], _ k: Int) -> Float {
        var (low, high, target) = (0, values.count - 1, k - 1)
        var generator = SplitMix64(seed: 1)
        while low < high {
            let pivot = values[low + generator.below(high - low + 1)]
            var (i, j) = (low, high)
            while i <= j {
                while values[i] > pivot { i += 1 }
                while values[j] < pivot { j -= 1 }
                if i <= j { values.swapAt(i, j); i += 1; j -= 1 }
            }
            if target <= j { high = j } else if target >= i { low = i } else { return values[target] }
        }
        return values[target]
    }

    /// `count` parameters drawn uniformly without replacement (the random-mask null).
    public static func random(count: Int, parameters: Int, seed: UInt64) -> ParameterMask {
        var generator = SplitMix64(seed: seed)
        return ParameterMask(indices: Array(generator.shuffled(Array(0..<parameters)).prefix(count)).sorted(), parameters: parameters)
    }

    public static func all(_ parameters: Int) -> ParameterMask { ParameterMask(indices: Array(0..<parameters), parameters: parameters) }
}
