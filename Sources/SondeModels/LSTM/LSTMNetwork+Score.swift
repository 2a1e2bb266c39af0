import RealModule
import SondeBase
import SondeLinalg

extension LSTMNetwork {
    /// The loss of a forward pass on the rows that have a target (the decoder, the costliest
    /// product, skips padding): their top states, ∂(mean loss)/∂logits, and the counts.
    package struct Scored {
        package var loss: Double
        package var count: Int
        package var correct: Int
        /// Rows of the pass with a target, and their top-layer inputs (rows.count × H).
        package var rows: [Int]
        /// Each of those rows' loss, −ln p(target).
        package var rowLosses: [Double]
        var states: [S]
        var logitGradient: [S]
    }

    /// Softmax cross-entropy of the decoder's logits against `targets` (one per row of the
    /// pass; −1 = none), with its gradient with respect to the logits: of the mean loss, or of
    /// Σ weight(row)·loss(row) when `weights` (one per row of the pass) are given.
    package func score(_ pass: Pass, targets: [Int32], weights: [S]? = nil) -> Scored {
        BLASThreads.owned { workers in
            let (h, v) = (config.hiddenSize, config.outputs)
            let rows = targets.indices.filter { targets[$0] >= 0 }
            let top = pass.inputs[config.layers]
            var states = [S](repeating: 0, count: rows.count * h)
            for (k, r) in rows.enumerated() { for j in 0..<h { states[k * h + j] = top[r * h + j] } }
            let decoder = offset(config.tiedEmbeddings ? "encoder.weight" : "decoder.weight"), bias = offset("decoder.bias")
            var z = [S](repeating: 0, count: rows.count * v)
            var (loss, correct) = (0.0, 0)
            var rowLosses: [Double] = []
            values.withUnsafeBufferPointer { p in
                z.withUnsafeMutableBufferPointer { o in
                    for k in rows.indices { for j in 0..<v { o[k * v + j] = p[bias + j] } }
                    states.withUnsafeBufferPointer { x in
                        BLAS.gemm(
                            parts: workers, transposeB: true, m: rows.count, n: v, k: h, a: x.baseAddress!, lda: h, b: p.baseAddress! + decoder,
                            ldb: h, beta: 1,
                            c: o.baseAddress!, ldc: v)
                    }
                    let scale = S(1 / Double(max(rows.count, 1)))
                    // Per row: its loss and whether its target scored highest (summed in row order).
                    var rowLoss = [Double](repeating: 0, count: rows.count), rowCorrect = [Bool](repeating: false, count: rows.count)
                    rowLoss.withUnsafeMutableBufferPointer { lp in
                        rowCorrect.withUnsafeMutableBufferPointer { cp in
                            rows.withUnsafeBufferPointer { rp in
                                targets.withUnsafeBufferPointer { tp in
                                    let rowWeights = weights.map { w in rows.map { w[$0] } }
                                    let (logits, losses, hits, rowIndex, target) = (
                                        SharedBuffer(o.baseAddress!), SharedBuffer(lp.baseAddress!), SharedBuffer(cp.baseAddress!),
                                        SharedBuffer(rp.baseAddress!),
                                        SharedBuffer(tp.baseAddress!)
                                    )
                                    inParts(rows.count, parts: workers, minimum: 32) { part in
                                        for k in part {
                                            let row = logits.pointer + k * v, t = Int(target.pointer[rowIndex.pointer[k]])
                                            var largest = row[0]
                                            for j in 1..<v { largest = max(largest, row[j]) }
                                            hits.pointer[k] = row[t] == largest && (0..<t).allSatisfy({ row[$0] < largest })
                                            for j in 0..<v { row[j] -= largest }
                                            Self.exp(row, v)
                                            var sum: S = 0
                                            for j in 0..<v { sum += row[j] }
                                            losses.pointer[k] = -Double(S.log(row[t] / sum))
                                            let weight = rowWeights?[k] ?? scale
                                            let factor = weight / sum
                                            for j in 0..<v { row[j] *= factor }
                                            row[t] -= weight
                                        }
                                    }
                                }
                            }
                        }
                    }
                    loss = rowLoss.reduce(0, +)
                    rowLosses = rowLoss
                    correct = rowCorrect.reduce(0) { $0 + ($1 ? 1 : 0) }
                }
            }
            return Scored(
                loss: loss, count: rows.count, correct: correct, rows: rows, rowLosses: rowLosses, states: states, logitGradient: z)
        }
    }
}
