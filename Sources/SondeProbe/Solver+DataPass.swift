import CKernels
import Dispatch
import Glibc
import SondeBase
import SondeLinalg

// One pass over the data: logits by sgemm, the softmax, the loss and its gradient.
extension ProbeProblem {
    struct Evaluation {
        /// Mean cross-entropy.
        var loss: Double
        /// ∂loss/∂W, C × D row-major (empty when not asked for).
        var gradient: [Double]
        var interceptGradient: [Double]
        /// Each row's curvature weight Σ_c γ_c p_ic(1 − p_ic) for the pass's class weights γ:
        /// where the Hessian's mass is (see `curvatureSample`).
        var curvature: [Double]
        /// Each class's mean curvature (1/n) Σ_i p_ic(1 − p_ic).
        var classCurvature: [Double]

        /// Class weights γ_c for the next pass that give every class's block the same share of
        /// the curvature sample: mean/C_c, at most 1,000 (a class confident on every token).
        var balancingWeights: [Double] {
            let mean = classCurvature.reduce(0, +) / Double(max(classCurvature.count, 1))
            guard mean > 0 else { return classCurvature.map { _ in 1 } }
            return classCurvature.map { mean / max($0, 1e-3 * mean) }
        }
    }

    static let blockRows = 4096
    /// At most this many segments of rows, each with its own sums (see `segments(_:unit:)`).
    static let maximumSegments = 16

    /// Segments of `count` rows, at least `unit` each, depending on the count alone: each keeps
    /// its own sums, added in order at the end, so a fit comes out bit for bit the same on any
    /// number of threads (a laptop and a cluster node rank the same neurons).
    static func segments(_ count: Int, unit: Int) -> Int { max(1, min(maximumSegments, count / unit)) }

    /// Loss and (optionally) gradient at (W, b) in one pass over the data: the rows cut into
    /// segments (`segments`), the segments shared among `workers` threads, each segment walked in
    /// blocks — logits by a single-threaded sgemm, the softmax, the gradient by sgemm into the
    /// segment's own Double sum — and the segments added in order at the end (callers own
    /// OpenBLAS's threads: `BLASThreads.owned`). `classWeights` (γ, all 1 when nil) weigh the
    /// rows' curvature only.
    func evaluate(w: [Double], b: [Double], gradient: Bool, classWeights: [Double]? = nil, workers: Int) -> Evaluation {
        let wf = w.map { Float($0) }
        let zeroWeights = w.allSatisfy { $0 == 0 }
        let (c, d, n) = (self.c, self.d, self.n)
        let segments = Self.segments(n, unit: Self.blockRows)
        let parts = min(workers, segments)
        // Per segment: the Double gradient (C × D), then the loss, the intercept gradient and the
        // classes' curvature (1 + 2C).
        let stride = (gradient ? c * d : 0) + 2 * c + 1
        let gamma = classWeights ?? [Double](repeating: 1, count: c)
        var sums = [Double](repeating: 0, count: segments * stride)
        var curvature = [Double](repeating: 0, count: n)
        x.withUnsafeBufferPointer { px in
            wf.withUnsafeBufferPointer { pw in
                curvature.withUnsafeMutableBufferPointer { pc in
                    sums.withUnsafeMutableBufferPointer { ps in
                        let (xs, ws, cs, ss) = (
                            SharedBuffer(px.baseAddress!), SharedBuffer(pw.baseAddress!), SharedBuffer(pc.baseAddress!), SharedBuffer(ps.baseAddress!)
                        )
                        DispatchQueue.concurrentPerform(iterations: parts) { part in
                            var logits = [Float](repeating: 0, count: Self.blockRows * c)
                            // The softmax's scratch: a block's shifted logits (then their exps), and its rows' maxima.
                            let exps = UnsafeMutablePointer<Double>.allocate(capacity: Self.blockRows * (c + 1))
                            defer { exps.deallocate() }
                            var blockGradient = [Float](repeating: 0, count: gradient ? c * d : 0)
                            logits.withUnsafeMutableBufferPointer { z in
                                blockGradient.withUnsafeMutableBufferPointer { bg in
                                    for segment in Swift.stride(from: part, to: segments, by: parts) {
                                        let own = ss.pointer + segment * stride
                                        let (g, totals) = (own, own + (gradient ? c * d : 0))
                                        let range = (segment * n / segments)..<((segment + 1) * n / segments)
                                        for start in Swift.stride(from: range.lowerBound, to: range.upperBound, by: Self.blockRows) {
                                            let rows = min(Self.blockRows, range.upperBound - start)
                                            let block = xs.pointer + start * d
                                            if zeroWeights {
                                                z.baseAddress!.update(repeating: 0, count: rows * c)
                                            } else {
                                                BLAS.gemm(
                                                    transposeB: true, m: rows, n: c, k: d, a: block, lda: d, b: ws.pointer, ldb: d, c: z.baseAddress!,
                                                    ldc: c)
                                            }
                                            softmaxResiduals(
                                                logits: z.baseAddress!, rows: 0..<rows, start: start, b: b, classWeights: gamma,
                                                curvature: cs.pointer, sums: totals, scratch: exps)
                                            guard gradient else { continue }
                                            // (C × rows) · (rows × D): residualsᵀ · X_block
                                            BLAS.gemm(
                                                transposeA: true, m: c, n: d, k: rows, a: z.baseAddress!, lda: c, b: block, ldb: d,
                                                c: bg.baseAddress!,
                                                ldc: d)
                                            for k in 0..<(c * d) { g[k] += Double(bg[k]) }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        let scale = 1 / Double(max(n, 1))
        let offset = gradient ? c * d : 0
        func total(_ k: Int) -> Double { (0..<segments).reduce(0) { $0 + sums[$1 * stride + k] } * scale }
        return Evaluation(
            loss: total(offset), gradient: (0..<(gradient ? c * d : 0)).map(total), interceptGradient: (0..<c).map { total(offset + 1 + $0) },
            curvature: curvature, classCurvature: (0..<c).map { total(offset + 1 + c + $0) })
    }

    /// For the block rows `rows` (logits without intercepts, starting at data row `start`):
    /// replaces each row's logits by its residuals p − onehot(y), writes its curvature weight and
    /// adds its cross-entropy to sums[0], its residuals to sums[1...C] and its p_c(1 − p_c) to
    /// sums[C+1...2C]. One exp per logit, all of the block's at once in `scratch` (rows × C
    /// Doubles, then the rows' maxima) by the vectorised exp (`sonde_exp`).
    func softmaxResiduals(
        logits z: UnsafeMutablePointer<Float>, rows: Range<Int>, start: Int, b: [Double], classWeights gamma: [Double],
        curvature: UnsafeMutablePointer<Double>,
        sums: UnsafeMutablePointer<Double>, scratch: UnsafeMutablePointer<Double>
    ) {
        let tops = scratch + rows.count * c
        for (r, i) in rows.enumerated() {
            let row = z + i * c, shifted = scratch + r * c
            var top = -Double.infinity
            for k in 0..<c { top = max(top, Double(row[k]) + b[k]) }
            for k in 0..<c { shifted[k] = Double(row[k]) + b[k] - top }
            tops[r] = top
        }
        sonde_exp(scratch, Int64(rows.count * c))
        for (r, i) in rows.enumerated() {
            let row = z + i * c, exps = scratch + r * c
            var sum = 0.0
            for k in 0..<c { sum += exps[k] }
            let label = Int(y[start + i])
            sums[0] += log(sum) + tops[r] - (Double(row[label]) + b[label])
            var weight = 0.0
            let inverse = 1 / sum
            for k in 0..<c {
                let p = exps[k] * inverse
                weight += gamma[k] * p * (1 - p)
                let r = p - (k == label ? 1 : 0)
                sums[1 + k] += r
                sums[1 + c + k] += p * (1 - p)
                row[k] = Float(r)
            }
            curvature[start + i] = weight
        }
    }

}
