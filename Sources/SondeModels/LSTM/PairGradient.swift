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
