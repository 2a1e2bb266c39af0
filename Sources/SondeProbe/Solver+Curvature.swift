import Dispatch
import Glibc
import SondeBase
import SondeLinalg

// The Newton model's curvature: the sample of rows, the working set and the class blocks.
extension ProbeProblem {
    /// The rows the Hessian is estimated on in one iteration, with their weights (the estimate
    /// is Σ_t ω_t p_t(1 − p_t) x̃_t x̃_tᵀ for (1/n) Σ_i of the same), the rows with a trailing 1
    /// (m × (d + 1)) and their probabilities (m × C).
    struct CurvatureSample {
        let weights: [Double]
        let x: Matrix<Float>
        let probabilities: [Double]
        var count: Int { weights.count }
    }

    /// All rows when there are few. Otherwise `curvatureRows` draws by systematic sampling with
    /// probabilities π_i ∝ ½·curvature_i/Σcurvature + ½/n, weighted 1/(m·n·π_i) (unbiased): where
    /// most tokens are already confident (near-separable classes, weak penalties) the few that
    /// are not carry the curvature, and a uniform sample would miss them. The data pass weighs
    /// each class's p(1 − p) in curvature_i so that every class's block gets about the same
    /// share of the sample (`Evaluation.balancingWeights`): by total curvature alone, in the
    /// real-activation tail the rarest class's block rested on an effective 120–200 rows
    /// ((Σc)²/Σc² of its contributions) for 129 coordinates — its weakest curvature understated,
    /// steps along it failing — and a third of the classes on under 400; balanced, every class
    /// on over 500. Repeated draws of a row are merged into one with their weights summed.
    func curvatureSample(_ e: Evaluation, w: [Double], b: [Double]) -> CurvatureSample {
        var rows: [Int] = []
        var weights: [Double] = []
        if n <= Self.curvatureRows {
            rows = Array(0..<n)
            weights = [Double](repeating: 1 / Double(max(n, 1)), count: n)
        } else {
            let total = e.curvature.reduce(0, +)
            let m = Self.curvatureRows
            func probability(_ i: Int) -> Double { 0.5 * (total > 0 ? e.curvature[i] / total : 1 / Double(n)) + 0.5 / Double(n) }
            var cumulative = 0.0
            var next = 0.5 / Double(m)  // systematic: fixed offset, then every 1/m
            for i in 0..<n {
                let pi = probability(i)
                cumulative += pi
                var draws = 0
                while next < cumulative && next < 1 { draws += 1; next += 1 / Double(m) }
                if draws > 0 {
                    rows.append(i)
                    weights.append(Double(draws) / (Double(m) * Double(n) * pi))
                }
            }
        }
        let (columns, classes) = (d, c)
        let sampleX = x.withUnsafeBufferPointer { px in
            Matrix<Float>(rows: rows.count, columns: columns + 1) { out in
                for (t, i) in rows.enumerated() {
                    for j in 0..<columns { out[t * (columns + 1) + j] = px[i * columns + j] }
                    out[t * (columns + 1) + columns] = 1
                }
            }
        }
        // The sampled rows' probabilities as the data pass computes them: x̃·Wᵀ by sgemm, the
        // intercepts and the softmax in Double.
        let wf = w.map { Float($0) }
        var logits = [Float](repeating: 0, count: rows.count * classes)
        sampleX.withUnsafeBufferPointer { px in
            wf.withUnsafeBufferPointer { pw in
                logits.withUnsafeMutableBufferPointer { pz in
                    BLAS.gemm(
                        transposeB: true, m: rows.count, n: classes, k: columns, a: px.baseAddress!, lda: columns + 1,
                        b: pw.baseAddress!, ldb: columns, c: pz.baseAddress!, ldc: classes)
                }
            }
        }
        var probabilities = [Double](repeating: 0, count: rows.count * classes)
        for t in 0..<rows.count {
            var top = -Double.infinity
            for k in 0..<classes { top = max(top, Double(logits[t * classes + k]) + b[k]) }
            var sum = 0.0
            for k in 0..<classes { sum += exp(Double(logits[t * classes + k]) + b[k] - top) }
            for k in 0..<classes { probabilities[t * classes + k] = exp(Double(logits[t * classes + k]) + b[k] - top) / sum }
        }
        return CurvatureSample(weights: weights, x: sampleX, probabilities: probabilities)
    }

    /// The neurons one iteration's Newton model covers, with the sample's columns for them and a
    /// trailing 1 for the intercept (m × (size + 1)).
    struct WorkingSet {
        let columns: [Int]
        let x: Matrix<Float>
        var size: Int { columns.count }
    }

    func workingSet(_ columns: [Int], sample: CurvatureSample) -> WorkingSet {
        let m = sample.count
        let (e, full) = (columns.count + 1, d + 1)
        let x = sample.x.withUnsafeBufferPointer { px in
            Matrix<Float>(rows: m, columns: e) { out in
                for t in 0..<m {
                    for (a, j) in columns.enumerated() { out[t * e + a] = px[t * full + j] }
                    out[t * e + e - 1] = 1
                }
            }
        }
        return WorkingSet(columns: columns, x: x)
    }

    /// Class c's diagonal Hessian block over the sample and the working set, (size+1) × (size+1)
    /// row-major, the last coordinate being the intercept: Σ_t ω_t p_tc(1 − p_tc) x̃_t x̃_tᵀ + ridge·I.
    /// Every class's block. Where each class has the same probability in every sampled row — the
    /// intercept-only start of every cold fit — the blocks are p_k(1 − p_k) times one weighted
    /// Gram matrix: one syrk instead of C (exactly, not an approximation).
    /// The classes' blocks are computed `workers` at a time, each by a single-threaded syrk.
    func hessianBlocks(sample: CurvatureSample, set: WorkingSet, workers: Int) -> [[Double]] {
        let m = sample.count
        let uniform = (0..<c).allSatisfy { k in
            let first = sample.probabilities[k]
            return (0..<m).allSatisfy { abs(sample.probabilities[$0 * c + k] - first) <= 1e-12 }
        }
        guard uniform, m > 0 else {
            var blocks = [[Double]](repeating: [], count: c)
            blocks.withUnsafeMutableBufferPointer { out in
                let shared = SharedBuffer(out.baseAddress!)
                DispatchQueue.concurrentPerform(iterations: workers) { part in
                    for k in stride(from: part, to: c, by: workers) { shared.pointer[k] = hessianBlock(k, sample: sample, set: set) }
                }
            }
            return blocks
        }
        let shared = weightedGram(set: set, rows: Array(0..<m), weights: sample.weights)
        return (0..<c).map { k in
            let p = sample.probabilities[k]
            return withRidge(shared.map { $0 * p * (1 - p) }, size: set.size + 1)
        }
    }

    /// Σ_t weights_t x̃_t x̃_tᵀ over `rows` of the working set's sample (syrk in Float).
    func weightedGram(set: WorkingSet, rows: [Int], weights: [Double]) -> [Double] {
        let e = set.size + 1
        var scaled = [Float](repeating: 0, count: rows.count * e)
        set.x.withUnsafeBufferPointer { px in
            for (r, t) in rows.enumerated() {
                let factor = Float(weights[t].squareRoot())
                for j in 0..<e { scaled[r * e + j] = px[t * e + j] * factor }
            }
        }
        return Matrix(rows: rows.count, columns: e, elements: scaled).gram().elements.map { Double($0) }
    }

    /// A relative 1e-8 ridge on the diagonal, so every block is positive definite.
    func withRidge(_ block: [Double], size e: Int) -> [Double] {
        var h = block
        var trace = 0.0
        for j in 0..<e { trace += h[j * e + j] }
        let ridge = 1e-8 * max(trace / Double(e), 1e-12)
        for j in 0..<e { h[j * e + j] += ridge }
        return h
    }

    /// The rows a class's Hessian block is summed over: enough that the C blocks cost about two
    /// passes over the data (8·n·d/e² rows for e coordinates), and never fewer than four per
    /// coordinate. Thinning pays only where the blocks would dominate an iteration (many neurons);
    /// where they are cheap the whole sample is used, as its curvature is the more accurate. A
    /// Gram matrix of e coordinates over r rows understates the curvature in its weakest
    /// direction by about (1 − √(e/r))² (Marchenko–Pastur): a quarter at r = 4e, which the line
    /// search absorbs; at r = 1.3e the 768-neuron benchmark diverged.
    func classBlockRows(coordinates e: Int) -> Int {
        max(4 * e, 8 * n * d / max(e * e, 1))
    }

    /// Class k's block Σ_t c_t x̃_t x̃_tᵀ, c_t = ω_t p_tk(1 − p_tk), estimated on a thinned
    /// subsample of the curvature sample when that is larger than `classBlockRows`: row t is
    /// kept with probability q_t = min(1, c_t/τ) (systematic sampling) and weighted c_t/q_t, which
    /// keeps the estimate unbiased; the rows that carry the block are kept whole. On the
    /// 768-neuron, 17-class benchmark each block costs 2.7× less and the iterations are the same.
    func hessianBlock(_ k: Int, sample: CurvatureSample, set: WorkingSet) -> [Double] {
        let contribution = (0..<sample.count).map { t -> Double in
            let p = sample.probabilities[t * c + k]
            return p * (1 - p) * sample.weights[t]
        }
        let (rows, weights) = thinned(contribution, to: classBlockRows(coordinates: set.size + 1))
        return withRidge(weightedGram(set: set, rows: rows, weights: weights), size: set.size + 1)
    }

    /// Rows of `contribution` kept by systematic sampling with inclusion probabilities
    /// min(1, c_t/τ) summing to `target`, with weights c_t/q_t (all positive rows when there are
    /// no more than `target`). The weights are indexed like `contribution`; `offset` ∈ (0, 1) is
    /// the systematic sample's start.
    func thinned(_ contribution: [Double], to target: Int, offset: Double = 0.5) -> (rows: [Int], weights: [Double]) {
        let positive = contribution.indices.filter { contribution[$0] > 0 }
        guard positive.count > target else { return (positive, contribution) }
        // τ: with the r largest rows certain, τ = (sum of the rest) / (target − r), valid once
        // the (r+1)-th largest is below τ.
        let sorted = positive.map { contribution[$0] }.sorted(by: >)
        var rest = sorted.reduce(0, +)
        var tau = 0.0
        for r in 0..<target {
            tau = rest / Double(target - r)
            if sorted[r] < tau { break }
            rest -= sorted[r]
        }
        var rows: [Int] = []
        var weights = contribution
        var cumulative = 0.0
        var next = offset
        for t in positive {
            let q = min(1, contribution[t] / tau)
            cumulative += q
            if next < cumulative {
                rows.append(t)
                weights[t] = contribution[t] / q
                while next < cumulative { next += 1 }
            }
        }
        return (rows, weights)
    }

}
