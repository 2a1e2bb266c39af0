import SondeBase
import SondeLinalg

extension LSTMNetwork {
    /// The gradient of the mean loss with respect to every parameter, in the layout of `values`.
    /// `stateGradients`, when given, receives ∂loss/∂state for states 0 (the embeddings) … L,
    /// each rows × H: what reaches each layer's output from above and through the recurrence.
    package func backward(_ pass: Pass, ids: [Int32], scored: Scored, stateGradients: UnsafeMutablePointer<[[S]]>? = nil) -> [S] {
        BLASThreads.owned { workers in
            let (h, v, n, rows) = (config.hiddenSize, config.outputs, scored.rows.count, pass.steps * pass.batch)
            var grad = [S](repeating: 0, count: count)
            let decoder = offset(config.tiedEmbeddings ? "encoder.weight" : "decoder.weight"), bias = offset("decoder.bias")
            var dTop = [S](repeating: 0, count: n * h)
            grad.withUnsafeMutableBufferPointer { gp in
                values.withUnsafeBufferPointer { p in
                    scored.logitGradient.withUnsafeBufferPointer { d in
                        // Decoder: dW += dzᵀ·x, db = Σ dz, dx = dz·W.
                        scored.states.withUnsafeBufferPointer { x in
                            BLAS.gemm(
                                parts: workers, transposeA: true, m: v, n: h, k: n, a: d.baseAddress!, lda: v, b: x.baseAddress!, ldb: h, beta: 1,
                                c: gp.baseAddress! + decoder, ldc: h)
                        }
                        for k in 0..<n { for j in 0..<v { gp[bias + j] += d[k * v + j] } }
                        dTop.withUnsafeMutableBufferPointer { o in
                            BLAS.gemm(
                                parts: workers, m: n, n: h, k: v, a: d.baseAddress!, lda: v, b: p.baseAddress! + decoder, ldb: h, c: o.baseAddress!,
                                ldc: h)
                        }
                    }
                }
            }
            var dx = [S](repeating: 0, count: rows * h)
            for (k, r) in scored.rows.enumerated() { for j in 0..<h { dx[r * h + j] = dTop[k * h + j] } }
            if !pass.masks.isEmpty { for i in dx.indices { dx[i] *= pass.masks[config.layers][i] } }
            for k in (0..<config.layers).reversed() {
                let (dInput, dState) = layerBackward(k, pass: pass, outputGradient: dx, into: &grad, workers: workers)
                stateGradients?.pointee.insert(dState, at: 0)
                dx = dInput
                if !pass.masks.isEmpty { for i in dx.indices { dx[i] *= pass.masks[k][i] } }
            }
            stateGradients?.pointee.insert(dx, at: 0)
            // Embedding rows gather their words' gradients.
            let encoder = offset("encoder.weight")
            for r in 0..<rows { for j in 0..<h { grad[encoder + Int(ids[r]) * h + j] += dx[r * h + j] } }
            return grad
        }
    }

    /// Back through one layer in reverse time: returns ∂loss/∂(layer input) and ∂loss/∂h of every
    /// step (from above and the recurrence).
    private func layerBackward(_ k: Int, pass: Pass, outputGradient dhTop: [S], into grad: inout [S], workers: Int) -> ([S], [S]) {
        let (h, g4, steps, batch) = (config.hiddenSize, 4 * config.hiddenSize, pass.steps, pass.batch)
        let rows = steps * batch
        let (wih, whh, bih, bhh) = (
            offset("rnn.weight_ih_l\(k)"), offset("rnn.weight_hh_l\(k)"), offset("rnn.bias_ih_l\(k)"), offset("rnn.bias_hh_l\(k)")
        )
        let (gates, cells, cellTanh, hidden, input) = (pass.gates[k], pass.cells[k], pass.cellTanh[k], pass.hidden[k], pass.inputs[k])
        var da = [S](repeating: 0, count: rows * g4)  // ∂loss/∂ pre-activations
        var dh = dhTop
        var dc = [S](repeating: 0, count: batch * h)
        var dInput = [S](repeating: 0, count: rows * h)
        values.withUnsafeBufferPointer { p in
            da.withUnsafeMutableBufferPointer { dap in
                dh.withUnsafeMutableBufferPointer { dhp in
                    dc.withUnsafeMutableBufferPointer { dcp in
                        let (wp, das, dhs, dcs) = (
                            SharedBuffer(p.baseAddress!), SharedBuffer(dap.baseAddress!), SharedBuffer(dhp.baseAddress!),
                            SharedBuffer(dcp.baseAddress!)
                        )
                        gates.withUnsafeBufferPointer { gp in
                            cells.withUnsafeBufferPointer { cp in
                                cellTanh.withUnsafeBufferPointer { tp in
                                    let (gs, cs, ts) = (SharedBuffer(gp.baseAddress!), SharedBuffer(cp.baseAddress!), SharedBuffer(tp.baseAddress!))
                                    inParts(batch, parts: workers, minimum: 8) { part in
                                        let (g, c, tanhC, daP, dhP, dcP) = (gs.pointer, cs.pointer, ts.pointer, das.pointer, dhs.pointer, dcs.pointer)
                                        let zeros = UnsafeMutablePointer<S>.allocate(capacity: h)  // the cell before step 0
                                        zeros.initialize(repeating: 0, count: h)
                                        defer { zeros.deallocate() }
                                        for t in (0..<steps).reversed() {
                                            let row = t * batch + part.lowerBound
                                            for r in row..<(row + part.count) {
                                                let (gr, dar, tr, dhr) = (g + r * g4, daP + r * g4, tanhC + r * h, dhP + r * h)
                                                let dcr = dcP + (r - t * batch) * h
                                                let previous = t > 0 ? c + (r - batch) * h : zeros
                                                for j in 0..<h {
                                                    let i = gr[j], f = gr[h + j], gg = gr[2 * h + j], o = gr[3 * h + j]
                                                    let tc = tr[j], dhv = dhr[j]
                                                    let dcv = dcr[j] + dhv * o * (1 - tc * tc)
                                                    dar[j] = dcv * gg * i * (1 - i)
                                                    dar[h + j] = dcv * previous[j] * f * (1 - f)
                                                    dar[2 * h + j] = dcv * i * (1 - gg * gg)
                                                    dar[3 * h + j] = dhv * tc * o * (1 - o)
                                                    dcr[j] = dcv * f
                                                }
                                            }
                                            // dh_{t−1} += da_t · W_hh
                                            if t > 0 {
                                                BLAS.gemm(
                                                    m: part.count, n: h, k: g4, a: daP + row * g4, lda: g4, b: wp.pointer + whh, ldb: h, beta: 1,
                                                    c: dhP + (row - batch) * h, ldc: h)
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        grad.withUnsafeMutableBufferPointer { gp in
            da.withUnsafeBufferPointer { dap in
                // dW_ih = daᵀ·x; dW_hh = Σ_t da_tᵀ·h_{t−1} (rows of step 0 have no predecessor).
                input.withUnsafeBufferPointer { x in
                    BLAS.gemm(
                        parts: workers, transposeA: true, m: g4, n: h, k: rows, a: dap.baseAddress!, lda: g4, b: x.baseAddress!, ldb: h, beta: 1,
                        c: gp.baseAddress! + wih, ldc: h)
                }
                if steps > 1 {
                    hidden.withUnsafeBufferPointer { hp in
                        BLAS.gemm(
                            parts: workers, transposeA: true, m: g4, n: h, k: rows - batch, a: dap.baseAddress! + batch * g4, lda: g4,
                            b: hp.baseAddress!, ldb: h,
                            beta: 1, c: gp.baseAddress! + whh, ldc: h)
                    }
                }
                for r in 0..<rows {
                    for j in 0..<g4 {
                        gp[bih + j] += dap[r * g4 + j]
                        gp[bhh + j] += dap[r * g4 + j]
                    }
                }
                values.withUnsafeBufferPointer { p in
                    dInput.withUnsafeMutableBufferPointer { o in
                        BLAS.gemm(
                            parts: workers, m: rows, n: h, k: g4, a: dap.baseAddress!, lda: g4, b: p.baseAddress! + wih, ldb: h, c: o.baseAddress!,
                            ldc: h)
                    }
                }
            }
        }
        return (dInput, dh)
    }
}
