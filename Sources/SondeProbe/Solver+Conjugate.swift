import Dispatch
import SondeBase
import SondeLinalg

// A start for the Gauss–Seidel minimisation of the Newton model, by preconditioned conjugate
// gradients on the model with the current signs.
//
// Gauss–Seidel over classes converges slowly when the classes are strongly coupled (the
// softmax's −p_c p_c′ terms): on 17 UPOS classes over 128 real neurons it took 10–55 rounds, each
// a coordinate descent per class, and stopped at 1% of the model's decrease. Where the penalty
// has a ridge (the elastic net with α < 1), the model with every coordinate's sign fixed — its
// weight's, or the descent direction's where a zero weight's gradient exceeds κ₁; the other zero
// weights stay 0 — is a strictly convex quadratic in every direction but the classes' common
// shift, which the loss does not see (the re-centring decides it). A few steps of conjugate
// gradients on it, preconditioned by the class blocks and orthogonal to the common shift of
// every fully free column, give a start from which Gauss–Seidel needs few rounds, and the
// Newton iterations fewer steps (real activations, λ = 1e-4, α = 0.5: 18 iterations instead of
// 22, 2.6 s instead of 6.2 s; BENCHMARKS.md). The start is not projected onto the orthant of the signs: that
// zeroed hundreds of weights that merely crossed zero and stalled the solve; Gauss–Seidel
// settles the signs. Not used for NeuroX's penalty: its Frobenius majoriser's ridge is tiny, and
// solving the model further along its flat directions cost iterations (28 instead of 23).
extension ProbeProblem {
    /// The residual, relative to the first, at which the conjugate gradients stop, and their cap.
    static let conjugateTolerance = 0.05
    static let conjugateSteps = 10
    /// The relative KKT violation below which the model is solved the plainest way — no conjugate
    /// start, no classes side by side — as that lands lowest near the Float gradient's floor (see `solve`).
    static let precisionFloor = 1e-5

    /// The start (each class's working-set weights and intercept), or nil when the penalty has no
    /// ridge (κ₂ = 0: the lasso, NeuroX's penalty) or a class block is singular.
    func conjugateGradientStart(
        g: [Double], gb: [Double], w: [Double], b: [Double], set: WorkingSet, blocks: [[Double]], sample: CurvatureSample, scale: Double,
        k1: Double, k2: Double, workers: Int, tolerance: Double = conjugateTolerance, steps: Int = conjugateSteps
    ) -> [[Double]]? {
        guard k2 > 0, set.size > 0 else { return nil }
        let (size, e, classes) = (set.size, set.size + 1, c)
        let ridge = k2
        let rows = (0..<classes).map { k in set.columns.map { w[k * d + $0] } + [b[k]] }
        // The free coordinates and the right-hand side −∇(model) at Δ = 0 with the signs fixed.
        var free = [Bool](repeating: false, count: classes * e)
        // Signs only set the model's linear term κ₁σ; the start is not projected onto them.
        var rhs = [Double](repeating: 0, count: classes * e)
        for k in 0..<classes {
            for (a, j) in set.columns.enumerated() {
                let (value, gradient) = (w[k * d + j], g[k * d + j])
                let sign: Double = value != 0 ? (value > 0 ? 1 : -1) : (abs(gradient) > k1 ? (gradient > 0 ? -1 : 1) : 0)
                guard sign != 0 else { continue }
                free[k * e + a] = true
                rhs[k * e + a] = -(gradient + k1 * sign + k2 * value)
            }
            free[k * e + size] = true
            rhs[k * e + size] = -gb[k]
        }
        // Columns free in every class carry the common-shift direction: work orthogonally to it.
        let shifted = (0..<e).filter { a in (0..<classes).allSatisfy { free[$0 * e + a] } }
        func project(_ v: inout [Double]) {
            for a in shifted {
                var mean = 0.0
                for k in 0..<classes { mean += v[k * e + a] }
                mean /= Double(classes)
                for k in 0..<classes { v[k * e + a] -= mean }
            }
        }
        // The preconditioner: each class's block (scaled, with the penalty's ridge) on its free
        // coordinates, factored by potrf (lower triangle of the row-major buffer; the blocks are
        // finite by construction).
        var factors: [(indices: [Int], factor: [Double])] = []
        for k in 0..<classes {
            let indices = (0..<e).filter { free[k * e + $0] }
            let f = indices.count
            var block = [Double](repeating: 0, count: f * f)
            blocks[k].withUnsafeBufferPointer { h in
                for (r, i) in indices.enumerated() {
                    for (q, j) in indices.enumerated() where q <= r { block[r * f + q] = scale * h[i * e + j] }
                    if i < size { block[r * f + r] += ridge }
                }
            }
            let info = block.withUnsafeMutableBufferPointer { Double._potrf(n: f, a: $0.baseAddress!, lda: f) }
            guard info == 0 else { return nil }
            factors.append((indices, block))
        }
        func precondition(_ r: [Double]) -> [Double]? {
            var z = [Double](repeating: 0, count: classes * e)
            for k in 0..<classes {
                let (indices, factor) = factors[k]
                var part = indices.map { r[k * e + $0] }
                let info = factor.withUnsafeBufferPointer { l in
                    part.withUnsafeMutableBufferPointer {
                        Double._potrs(n: indices.count, nrhs: 1, a: l.baseAddress!, lda: indices.count, b: $0.baseAddress!, ldb: 1)
                    }
                }
                guard info == 0 else { return nil }
                for (q, i) in indices.enumerated() { z[k * e + i] = part[q] }
            }
            project(&z)
            return z
        }
        let operatorProduct = ModelOperator(problem: self, set: set, sample: sample, workers: workers)
        func apply(_ v: [Double]) -> [Double] {
            var out = operatorProduct.hessianProduct(v)
            for i in out.indices {
                if !free[i] {
                    out[i] = 0
                } else {
                    out[i] = scale * out[i] + (i % e < size ? ridge * v[i] : 0)
                }
            }
            project(&out)
            return out
        }
        // Preconditioned conjugate gradients from Δ = 0.
        var x = [Double](repeating: 0, count: classes * e)
        var r = rhs
        project(&r)
        let initial = r.reduce(0) { $0 + $1 * $1 }.squareRoot()
        guard initial > 0, var z = precondition(r) else { return nil }
        var p = z
        var rz = zip(r, z).reduce(0) { $0 + $1.0 * $1.1 }
        for _ in 0..<steps {
            let ap = apply(p)
            let curvature = zip(p, ap).reduce(0) { $0 + $1.0 * $1.1 }
            guard curvature > 0 else { break }
            let step = rz / curvature
            for i in x.indices {
                x[i] += step * p[i]
                r[i] -= step * ap[i]
            }
            if r.reduce(0, { $0 + $1 * $1 }).squareRoot() <= tolerance * initial { break }
            guard let next = precondition(r) else { break }
            z = next
            let rzNext = zip(r, z).reduce(0) { $0 + $1.0 * $1.1 }
            let beta = rzNext / rz
            rz = rzNext
            for i in p.indices { p[i] = z[i] + beta * p[i] }
        }
        return (0..<classes).map { k in (0..<e).map { rows[k][$0] + x[k * e + $0] } }
    }
}

/// v ↦ Hv for the Newton model's loss Hessian on the curvature sample, H = Σ_t ω_t (diag p_t −
/// p_t p_tᵀ) ⊗ x̃_t x̃_tᵀ, with v laid out class by class over the working set and intercept:
/// U = X̃Vᵀ and HV = Rᵀ X̃ with R_tc = ω_t p_tc (u_tc − Σ_c′ p_tc′ u_tc′), two sgemms per segment of the
/// sample's rows (`ProbeProblem.segments`: the same sums on any number of threads).
struct ModelOperator {
    let problem: ProbeProblem
    let set: ProbeProblem.WorkingSet
    let sample: ProbeProblem.CurvatureSample
    let workers: Int

    func hessianProduct(_ v: [Double]) -> [Double] {
        let (m, e, c) = (sample.count, set.size + 1, problem.c)
        let segments = ProbeProblem.segments(m, unit: 1024), parts = min(workers, segments)
        let vf = v.map { Float($0) }
        var partial = [Float](repeating: 0, count: segments * c * e)
        let (probabilities, weights) = (sample.probabilities, sample.weights)
        set.x.withUnsafeBufferPointer { px in
            vf.withUnsafeBufferPointer { pv in
                partial.withUnsafeMutableBufferPointer { pp in
                    let (xs, vs, ps) = (SharedBuffer(px.baseAddress!), SharedBuffer(pv.baseAddress!), SharedBuffer(pp.baseAddress!))
                    DispatchQueue.concurrentPerform(iterations: parts) { part in
                        for segment in stride(from: part, to: segments, by: parts) {
                            let range = (segment * m / segments)..<((segment + 1) * m / segments)
                            var u = [Float](repeating: 0, count: range.count * c)
                            u.withUnsafeMutableBufferPointer { pu in
                                let rowsX = xs.pointer + range.lowerBound * e
                                BLAS.gemm(
                                    transposeB: true, m: range.count, n: c, k: e, a: rowsX, lda: e, b: vs.pointer, ldb: e, c: pu.baseAddress!, ldc: c)
                                for (r, t) in range.enumerated() {
                                    var mixed = 0.0
                                    for k in 0..<c { mixed += probabilities[t * c + k] * Double(pu[r * c + k]) }
                                    for k in 0..<c {
                                        let p = probabilities[t * c + k]
                                        pu[r * c + k] = Float(weights[t] * p * (Double(pu[r * c + k]) - mixed))
                                    }
                                }
                                BLAS.gemm(
                                    transposeA: true, m: c, n: e, k: range.count, a: pu.baseAddress!, lda: c, b: rowsX, ldb: e,
                                    c: ps.pointer + segment * c * e, ldc: e)
                            }
                        }
                    }
                }
            }
        }
        return (0..<(c * e)).map { i in (0..<segments).reduce(0.0) { $0 + Double(partial[$1 * c * e + i]) } }
    }
}
