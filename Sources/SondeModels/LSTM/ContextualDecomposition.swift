import RealModule
import SondeBase
import SondeLinalg

/// Contextual decomposition (Murdoch, Liu & Yu, ICLR 2018, "Beyond Word Importance"): every
/// layer's cell c and output h at every position split exactly into β, the part due to a chosen
/// span of positions, and γ, the rest (h = β + γ, c = β_c + γ_c, to rounding).
///
/// Each gate's pre-activation z = W·x + V·h₋₁ + b splits into a relevant part r = W·β_x + V·β_h,
/// an irrelevant part s = W·γ_x + V·γ_h and the bias b (layer 1's input is the word's
/// embedding, relevant inside the span and irrelevant outside it; a higher layer's is the β and
/// γ of the layer below). A nonlinearity f is linearised over the three by their Shapley split:
///   L(r) = ½[f(r + b) − f(b) + f(r + s + b) − f(s + b)],
///   L(s) = ½[f(s + b) − f(b) + f(r + s + b) − f(r + b)],   L(b) = f(b),
/// which sum to f(r + s + b). With i, f, g so split (i_r, i_s, i_b, …), the cell's products are
/// assigned by their factors — relevant × relevant and relevant × bias to β, anything with an
/// irrelevant factor and bias × bias to γ:
///   β_c = i_r·(g_r + g_b) + i_b·g_r + (f_r + f_b)·β_c₋₁
///   γ_c = i_s·(g_r + g_s + g_b) + (i_r + i_b)·g_s + i_b·g_b + (f_r + f_s + f_b)·γ_c₋₁ + f_s·β_c₋₁
/// (bias × bias goes to γ at every position, as the paper writes it; Murdoch's code gives it to β
/// inside the span). The output gate o = σ(z_o) is not split, and tanh(c) is split in two:
///   β_h = o·½[tanh(β_c) + tanh(c) − tanh(γ_c)],   γ_h = o·½[tanh(γ_c) + tanh(c) − tanh(β_c)].
/// An empty span gives β = 0; a span of every position leaves γ the bias-only terms.
extension LSTMNetwork {
    /// β and γ of every layer's h and c, per layer k (index k − 1), rows t·B + b (position t
    /// of `ids`, span b), [T·B × H] each.
    package struct Decomposition {
        package var relevantHidden: [[S]] = [], irrelevantHidden: [[S]] = []
        package var relevantCells: [[S]] = [], irrelevantCells: [[S]] = []
    }

    /// Decomposes one sequence `ids` (T positions) for `spans` (each a set of positions) at once:
    /// per layer the input projections of all spans in one gemm, per step the recurrences of all
    /// spans in two (β and γ).
    /// `identity`: σ and tanh replaced by the identity everywhere (a test's linear network, on
    /// which the decomposition is exactly additive when the gates' weights are zero).
    package func decompose(ids: [Int32], spans: [Set<Int>], identity: Bool = false) -> Decomposition {
        BLASThreads.owned { workers in
            let h = config.hiddenSize, steps = ids.count, batch = spans.count, rows = steps * batch
            var out = Decomposition()
            guard rows > 0 else { return out }
            // Layer 1's input: each position's embedding, on the relevant or the irrelevant side.
            var relevantInput = [S](repeating: 0, count: rows * h), irrelevantInput = relevantInput
            values.withUnsafeBufferPointer { p in
                for t in 0..<steps {
                    for (b, span) in spans.enumerated() {
                        let row = (t * batch + b) * h, embedding = Int(ids[t]) * h
                        if span.contains(t) {
                            for j in 0..<h { relevantInput[row + j] = p[embedding + j] }
                        } else {
                            for j in 0..<h { irrelevantInput[row + j] = p[embedding + j] }
                        }
                    }
                }
            }
            for k in 0..<config.layers {
                let layer = decomposeLayer(k, relevantInput, irrelevantInput, steps: steps, batch: batch, workers: workers, identity: identity)
                out.relevantHidden.append(layer.relevantHidden)
                out.irrelevantHidden.append(layer.irrelevantHidden)
                out.relevantCells.append(layer.relevantCells)
                out.irrelevantCells.append(layer.irrelevantCells)
                (relevantInput, irrelevantInput) = (layer.relevantHidden, layer.irrelevantHidden)
            }
            return out
        }
    }

    private struct LayerDecomposition {
        var relevantHidden: [S], irrelevantHidden: [S], relevantCells: [S], irrelevantCells: [S]
    }

    private func decomposeLayer(_ k: Int, _ relevantInput: [S], _ irrelevantInput: [S], steps: Int, batch: Int, workers: Int, identity: Bool)
        -> LayerDecomposition
    {
        let h = config.hiddenSize, g4 = 4 * h, rows = steps * batch
        let (wih, whh, bih, bhh) = (
            offset("rnn.weight_ih_l\(k)"), offset("rnn.weight_hh_l\(k)"), offset("rnn.bias_ih_l\(k)"), offset("rnn.bias_hh_l\(k)")
        )
        var relevant = [S](repeating: 0, count: rows * g4), irrelevant = relevant
        var result = LayerDecomposition(
            relevantHidden: [S](repeating: 0, count: rows * h), irrelevantHidden: [S](repeating: 0, count: rows * h),
            relevantCells: [S](repeating: 0, count: rows * h), irrelevantCells: [S](repeating: 0, count: rows * h))
        // Scratch for one step: f(r + b), f(s + b), f(r + s + b) over the B × 4H gate block.
        var withRelevant = [S](repeating: 0, count: batch * g4), withIrrelevant = withRelevant, whole = withRelevant
        values.withUnsafeBufferPointer { p in
            let w = p.baseAddress!
            let bias = (0..<g4).map { w[bih + $0] + w[bhh + $0] }
            var biasPart = bias
            if !identity { biasPart.withUnsafeMutableBufferPointer { bp in Self.activate(bp.baseAddress!, rows: 1, h: h) } }
            relevantInput.withUnsafeBufferPointer { x in
                relevant.withUnsafeMutableBufferPointer { r in
                    BLAS.gemm(parts: workers, transposeB: true, m: rows, n: g4, k: h, a: x.baseAddress!, lda: h, b: w + wih, ldb: h, c: r.baseAddress!, ldc: g4)
                }
            }
            irrelevantInput.withUnsafeBufferPointer { x in
                irrelevant.withUnsafeMutableBufferPointer { s in
                    BLAS.gemm(parts: workers, transposeB: true, m: rows, n: g4, k: h, a: x.baseAddress!, lda: h, b: w + wih, ldb: h, c: s.baseAddress!, ldc: g4)
                }
            }
            for t in 0..<steps {
                let first = t * batch
                relevant.withUnsafeMutableBufferPointer { r in
                    irrelevant.withUnsafeMutableBufferPointer { s in
                        result.relevantHidden.withUnsafeBufferPointer { bh in
                            result.irrelevantHidden.withUnsafeBufferPointer { gh in
                                if t > 0 {
                                    BLAS.gemm(
                                        parts: workers, transposeB: true, m: batch, n: g4, k: h, a: bh.baseAddress! + (first - batch) * h, lda: h, b: w + whh,
                                        ldb: h, beta: 1, c: r.baseAddress! + first * g4, ldc: g4)
                                    BLAS.gemm(
                                        parts: workers, transposeB: true, m: batch, n: g4, k: h, a: gh.baseAddress! + (first - batch) * h, lda: h, b: w + whh,
                                        ldb: h, beta: 1, c: s.baseAddress! + first * g4, ldc: g4)
                                }
                            }
                        }
                        for b in 0..<batch {
                            for j in 0..<g4 {
                                let (rv, sv) = (r[(first + b) * g4 + j], s[(first + b) * g4 + j])
                                withRelevant[b * g4 + j] = rv + bias[j]
                                withIrrelevant[b * g4 + j] = sv + bias[j]
                                whole[b * g4 + j] = rv + sv + bias[j]
                            }
                        }
                    }
                }
                if !identity {
                    withRelevant.withUnsafeMutableBufferPointer { Self.activate($0.baseAddress!, rows: batch, h: h) }
                    withIrrelevant.withUnsafeMutableBufferPointer { Self.activate($0.baseAddress!, rows: batch, h: h) }
                    whole.withUnsafeMutableBufferPointer { Self.activate($0.baseAddress!, rows: batch, h: h) }
                }
                for b in 0..<batch {
                    let row = (first + b) * h, previous = row - batch * h
                    for j in 0..<h {
                        /// The Shapley split of gate `gate`'s unit j: (relevant, irrelevant, bias).
                        func split(_ gate: Int) -> (S, S, S) {
                            let q = b * g4 + gate * h + j, fb = biasPart[gate * h + j]
                            let (fr, fs, fw) = (withRelevant[q], withIrrelevant[q], whole[q])
                            return ((fr - fb + fw - fs) / 2, (fs - fb + fw - fr) / 2, fb)
                        }
                        let (ir, is_, ib) = split(0), (gr, gs, gb) = split(2)
                        var beta = ir * (gr + gb) + ib * gr
                        var gamma = is_ * (gr + gs + gb) + (ir + ib) * gs + ib * gb
                        if t > 0 {
                            let (fr, fs, fb) = split(1)
                            let (betaBefore, gammaBefore) = (result.relevantCells[previous + j], result.irrelevantCells[previous + j])
                            beta += (fr + fb) * betaBefore
                            gamma += (fr + fs + fb) * gammaBefore + fs * betaBefore
                        }
                        result.relevantCells[row + j] = beta
                        result.irrelevantCells[row + j] = gamma
                        let o = whole[b * g4 + 3 * h + j]
                        let (tb, tg, tc) = identity ? (beta, gamma, beta + gamma) : (S.tanh(beta), S.tanh(gamma), S.tanh(beta + gamma))
                        result.relevantHidden[row + j] = o * (tb + tc - tg) / 2
                        result.irrelevantHidden[row + j] = o * (tg + tc - tb) / 2
                    }
                }
            }
        }
        return result
    }

    /// The gates' nonlinearities in place over `rows` rows of 4H: σ for i, f and o, tanh for g.
    private static func activate(_ p: UnsafeMutablePointer<S>, rows: Int, h: Int) {
        for r in 0..<rows {
            let row = p + r * 4 * h
            logistic(row, 2 * h)
            tanh(row + 2 * h, h)
            logistic(row + 3 * h, h)
        }
    }
}
