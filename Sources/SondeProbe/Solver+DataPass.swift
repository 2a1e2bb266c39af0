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
        /// Each row's total curvature weight Σ_c p_ic(1 − p_ic): where the Hessian's mass is.
        var curvature: [Double]
    }

    static let blockRows = 4096

    /// Loss and (optionally) gradient at (W, b) in one pass over the data: per block of rows the
    /// logits by sgemm, the softmax on two threads (half the rows each), the gradient by sgemm.
    func evaluate(w: [Double], b: [Double], gradient: Bool) -> Evaluation {
        let wf = w.map { Float($0) }
        let zeroWeights = w.allSatisfy { $0 == 0 }
        var g = [Double](repeating: 0, count: gradient ? c * d : 0)
        var logits = [Float](repeating: 0, count: Self.blockRows * c)
        var curvature = [Double](repeating: 0, count: n)
        var blockGradient = [Float](repeating: 0, count: c * d)
        let (c, d) = (self.c, self.d)
        // Per half: loss, intercept gradient.
        var partial = [Double](repeating: 0, count: 2 * (c + 1))
        x.withUnsafeBufferPointer { px in
            wf.withUnsafeBufferPointer { pw in
                logits.withUnsafeMutableBufferPointer { z in
                    for start in stride(from: 0, to: n, by: Self.blockRows) {
                        let rows = min(Self.blockRows, n - start)
                        let block = px.baseAddress! + start * d
                        if zeroWeights {
                            z.baseAddress!.update(repeating: 0, count: rows * c)
                        } else {
                            BLAS.gemm(transposeB: true, m: rows, n: c, k: d, a: block, lda: d, b: pw.baseAddress!, ldb: d, c: z.baseAddress!, ldc: c)
                        }
                        let logitsBuffer = SharedBuffer(z.baseAddress!)
                        curvature.withUnsafeMutableBufferPointer { pc in
                            partial.withUnsafeMutableBufferPointer { pp in
                                let (curvatureBuffer, partialBuffer) = (SharedBuffer(pc.baseAddress!), SharedBuffer(pp.baseAddress!))
                                DispatchQueue.concurrentPerform(iterations: 2) { half in
                                    softmaxResiduals(
                                        logits: logitsBuffer.pointer, rows: (half * rows / 2)..<((half + 1) * rows / 2), start: start, b: b,
                                        curvature: curvatureBuffer.pointer, sums: partialBuffer.pointer + half * (c + 1))
                                }
                            }
                        }
                        if gradient {
                            blockGradient.withUnsafeMutableBufferPointer { bg in
                                // (C × rows) · (rows × D): residualsᵀ · X_block
                                BLAS.gemm(
                                    transposeA: true, m: c, n: d, k: rows, a: z.baseAddress!, lda: c, b: block, ldb: d, c: bg.baseAddress!, ldc: d)
                                g.withUnsafeMutableBufferPointer { pg in
                                    for k in 0..<(c * d) { pg[k] += Double(bg[k]) }
                                }
                            }
                        }
                    }
                }
            }
        }
        let loss = partial[0] + partial[c + 1]
        let gb = (0..<c).map { partial[1 + $0] + partial[c + 2 + $0] }
        let scale = 1 / Double(max(n, 1))
        return Evaluation(
            loss: loss * scale, gradient: g.map { $0 * scale }, interceptGradient: gb.map { $0 * scale },
            curvature: curvature)
    }

    /// For the block rows `rows` (logits without intercepts, starting at data row `start`):
    /// replaces each row's logits by its residuals p − onehot(y), writes its curvature weight and
    /// adds its cross-entropy to sums[0] and its residuals to sums[1...C]. One exp per logit.
    func softmaxResiduals(
        logits z: UnsafeMutablePointer<Float>, rows: Range<Int>, start: Int, b: [Double], curvature: UnsafeMutablePointer<Double>,
        sums: UnsafeMutablePointer<Double>
    ) {
        var exps = [Double](repeating: 0, count: c)
        for i in rows {
            let row = z + i * c
            var top = -Double.infinity
            for k in 0..<c { top = max(top, Double(row[k]) + b[k]) }
            var sum = 0.0
            for k in 0..<c {
                exps[k] = exp(Double(row[k]) + b[k] - top)
                sum += exps[k]
            }
            let label = Int(y[start + i])
            sums[0] += log(sum) + top - (Double(row[label]) + b[label])
            var weight = 0.0
            let inverse = 1 / sum
            for k in 0..<c {
                let p = exps[k] * inverse
                weight += p * (1 - p)
                let r = p - (k == label ? 1 : 0)
                sums[1 + k] += r
                row[k] = Float(r)
            }
            curvature[start + i] = weight
        }
    }

}
