import Foundation
import SondeLinalg

/// A certificate of a fitted probe: the gap between its objective P(W, b) and the objective
/// D(Θ) of a feasible point of the Fenchel dual, so P(W, b) − P* ≤ gap. Computed in Double.
///
/// The problem (standardised neurons X̃, n rows, C classes): min F(X̃Wᵀ + 1bᵀ) + G(W), F the mean
/// softmax cross-entropy, G the penalty; its dual: max −F*(Θ) − G*(−ΘᵀX̃) subject to 1ᵀΘ = 0
/// (the free intercepts). Two passes over the rows in blocks. The dual point is built from the probe's own probabilities P:
/// Θ = s·(Q − Y)/n, where Q = (1 − t)(P − 1mᵀ) + t·1πᵀ makes the column sums zero (m the mean
/// residual, which the intercepts' optimality makes small; π the class frequencies; t the least
/// mixing that keeps each row of Q a distribution) and s ≤ 1 scales it into G*'s domain (the
/// lasso's box, NeuroX's ‖soft(·, λ₁)‖_F ≤ λ₂; the elastic net with α < 1 needs none). Then
/// F*(Θ) = (1/n) Σᵢ Σ_c q̂ᵢ_c log q̂ᵢ_c with q̂ᵢ = s·qᵢ + (1 − s)·yᵢ, and G*(V) is
/// Σ (|V| − λα)₊² / (2λ(1 − α)) for the elastic net, 0 inside the domain otherwise.
public struct DualityGap: Codable, Sendable, Equatable {
    public var primal: Double
    public var dual: Double
    /// primal − dual (≥ 0 up to rounding): a bound on the probe's suboptimality.
    public var gap: Double
    /// gap / primal.
    public var relative: Double
}

extension FittedProbe {
    /// The duality gap of this probe on the data it was fitted on (its labels indexed by the
    /// probe's classes); nil when some row's label is not one of them.
    public func dualityGap(_ data: ProbeDataset) -> DualityGap? {
        let (n, c, d) = (data.count, classes.count, neurons)
        guard n > 0, c >= 2, data.labels.allSatisfy({ $0 >= 0 && $0 < c }), data.x.columns == d else { return nil }
        let standardized = standardizedWeights
        // Intercepts in the standardised problem: logits are unchanged, z = W̃x̃ + b̃.
        var b = intercepts
        for k in 0..<c { for j in 0..<d { b[k] += weights[k, j] * means[j] } }
        /// Calls `body` with each block of rows (X̃ = (X − μ)/scale, in Double) and its softmax
        /// probabilities; the loss of the block's rows is added to `loss` when given.
        func blocks(_ body: (Range<Int>, Matrix<Double>, Matrix<Double>) -> Void, loss: UnsafeMutablePointer<Double>? = nil) {
            for start in stride(from: 0, to: n, by: 4096) {
                let rows = start..<min(n, start + 4096)
                var xt = Matrix<Double>(rows: rows.count, columns: d)
                data.x.withUnsafeBufferPointer { x in
                    xt.withUnsafeMutableBufferPointer { out in
                        for (r, i) in rows.enumerated() { for j in 0..<d { out[r * d + j] = (Double(x[i * d + j]) - means[j]) / scales[j] } }
                    }
                }
                var p = Matrix<Double>.product(xt, standardized, transposeB: true)
                for (r, i) in rows.enumerated() {
                    var top = -Double.infinity
                    for k in 0..<c {
                        p[r, k] += b[k]
                        top = max(top, p[r, k])
                    }
                    let label = p[r, data.labels[i]]
                    var total = 0.0
                    for k in 0..<c {
                        p[r, k] = Foundation.exp(p[r, k] - top)
                        total += p[r, k]
                    }
                    for k in 0..<c { p[r, k] /= total }
                    loss?.pointee += Foundation.log(total) + top - label
                }
                body(rows, xt, p)
            }
        }
        // Pass 1: the loss, the mean residual m, the class frequencies π and each class's
        // smallest probability (what the mixing below depends on).
        var loss = 0.0
        var m = [Double](repeating: 0, count: c), pi = [Double](repeating: 0, count: c)
        var smallest = [Double](repeating: 1, count: c)
        blocks(
            { rows, _, p in
                for (r, i) in rows.enumerated() {
                    for k in 0..<c {
                        m[k] += p[r, k] / Double(n)
                        smallest[k] = min(smallest[k], p[r, k])
                    }
                    pi[data.labels[i]] += 1 / Double(n)
                }
            }, loss: &loss)
        for k in 0..<c { m[k] -= pi[k] }
        let primal = loss / Double(n) + settings.penalty.value(standardized.elements)
        // The least mixing t with π that keeps every row of P − 1mᵀ a distribution: the bound
        // (m − p)/(π + m − p) grows as p falls, so each class's smallest p decides it.
        var t = 0.0
        for k in 0..<c where smallest[k] - m[k] < 0 { t = max(t, (m[k] - smallest[k]) / (pi[k] + m[k] - smallest[k])) }
        // Pass 2: V = (Q − Y)ᵀX̃ / n (C × D) and the rows of Q, kept as they are needed for F*.
        var q = Matrix<Double>(rows: n, columns: c)
        var v = Matrix<Double>(rows: c, columns: d)
        blocks { rows, xt, p in
            var residual = Matrix<Double>(rows: rows.count, columns: c)
            for (r, i) in rows.enumerated() {
                for k in 0..<c {
                    q[i, k] = max(0, (1 - t) * (p[r, k] - m[k]) + t * pi[k])
                    residual[r, k] = q[i, k] - (k == data.labels[i] ? 1 : 0)
                }
            }
            v.addProduct(residual, xt, transposeA: true, alpha: 1 / Double(n), beta: 1)
        }
        let (s, conjugate) = settings.penalty.dualScale(v.elements)
        var entropy = 0.0
        for i in 0..<n {
            for k in 0..<c {
                let value = s * q[i, k] + (k == data.labels[i] ? 1 - s : 0)
                if value > 0 { entropy += value * Foundation.log(value) }
            }
        }
        let dual = -entropy / Double(n) - conjugate
        return DualityGap(primal: primal, dual: dual, gap: primal - dual, relative: (primal - dual) / primal)
    }
}

extension Penalty {
    /// The largest s ≤ 1 that puts s·v in the conjugate's domain, and the conjugate's value there.
    func dualScale(_ v: [Double]) -> (s: Double, conjugate: Double) {
        switch self {
        case .elasticNet(let lambda, let alpha) where alpha < 1 && lambda > 0:
            let k1 = lambda * alpha, k2 = lambda * (1 - alpha)
            return (1, v.reduce(0) { $0 + Swift.max(0, abs($1) - k1) * Swift.max(0, abs($1) - k1) } / (2 * k2))
        case .elasticNet(let lambda, _):
            // The lasso's box; also λ = 0 (a path over neurons that are all constant), whose
            // domain is {0}: the ridge part's v²/(2λ(1 − α)) would be 0/0 there.
            let largest = v.reduce(0) { Swift.max($0, abs($1)) }
            return (largest > lambda ? lambda / largest : 1, 0)
        case .neurox(let a, let b):
            // ‖soft(s·v, a)‖_F grows with s: the largest s with it ≤ b, by bisection.
            func norm(_ s: Double) -> Double { v.reduce(0) { $0 + Swift.max(0, s * abs($1) - a) * Swift.max(0, s * abs($1) - a) }.squareRoot() }
            if norm(1) <= b { return (1, 0) }
            var (lo, hi) = (0.0, 1.0)
            for _ in 0..<80 {
                let mid = (lo + hi) / 2
                if norm(mid) <= b { lo = mid } else { hi = mid }
            }
            return (lo, 0)
        }
    }
}
