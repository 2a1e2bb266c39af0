import Dispatch
import RealModule
import SondeBase
import SondeLinalg

/// A word-level LSTM language model's parameters and its forward and backward passes:
/// embedding → L LSTM layers → softmax over the vocabulary. Generic over the scalar so that
/// gradients can be checked in Double against finite differences; models run in Float.
///
/// Parameters live in one flat buffer, tensor by tensor in PyTorch's names and layouts
/// (`encoder.weight` [V, H]; `rnn.weight_ih_l{k}`, `rnn.weight_hh_l{k}` [4H, H] with gates in
/// the order i, f, g, o; `rnn.bias_ih_l{k}`, `rnn.bias_hh_l{k}` [4H]; `decoder.weight` [V, H]
/// unless tied to the embedding; `decoder.bias` [V]), so an optimiser, gradient clipping and a
/// checkpoint see one vector and a PyTorch `nn.LSTM` loads the file as it is.
///
/// Sequences run time-major in batches: row t·B + b holds step t of sequence b. Per layer, the
/// input projection of the whole block is one gemm; the recurrence is one gemm per step.
package struct LSTMNetwork<S: LinalgScalar & Real> {
    package let config: LSTMConfig
    package var values: [S]
    package let tensors: [(name: String, shape: [Int], offset: Int)]

    package init(config: LSTMConfig, values: [S]? = nil) {
        self.config = config
        let (v, h) = (config.vocabularySize, config.hiddenSize)
        var list: [(String, [Int])] = [("encoder.weight", [v, h])]
        for k in 0..<config.layers {
            list += [
                ("rnn.weight_ih_l\(k)", [4 * h, h]), ("rnn.weight_hh_l\(k)", [4 * h, h]), ("rnn.bias_ih_l\(k)", [4 * h]),
                ("rnn.bias_hh_l\(k)", [4 * h]),
            ]
        }
        if !config.tiedEmbeddings { list.append(("decoder.weight", [config.outputs, h])) }
        list.append(("decoder.bias", [config.outputs]))
        var offset = 0
        tensors = list.map { name, shape in
            defer { offset += shape.reduce(1, *) }
            return (name, shape, offset)
        }
        self.values = values ?? [S](repeating: 0, count: offset)
        precondition(self.values.count == offset, "\(self.values.count) parameters for a layout of \(offset)")
    }

    package var count: Int { values.count }

    package func offset(_ name: String) -> Int { tensors.first { $0.name == name }!.offset }

    /// PyTorch's initialisation for this model, seeded: embedding and decoder U(−0.1, 0.1)
    /// (its word-language-model example), LSTM weights and biases U(−1/√H, 1/√H), decoder bias 0.
    package mutating func initialize(seed: UInt64) {
        var generator = SplitMix64(seed: seed)
        let bound = 1 / Double(config.hiddenSize).squareRoot()
        for t in tensors {
            let r = t.name.hasPrefix("rnn.") ? bound : (t.name == "decoder.bias" ? 0 : 0.1)
            for i in t.offset..<(t.offset + t.shape.reduce(1, *)) { values[i] = S((2 * generator.unit() - 1) * r) }
        }
    }

    // MARK: Forward

    /// What the backward pass needs of a forward pass over one batch.
    package struct Pass {
        package let steps: Int
        package let batch: Int
        /// Per layer k: its input (T·B × H), gate activations i, f, g, o (T·B × 4H), cells and
        /// hidden states (T·B × H). `inputs[L]` is the top layer's output after dropout.
        package var inputs: [[S]] = []
        package var gates: [[S]] = []
        package var cells: [[S]] = []
        /// tanh of the cells (the backward pass reuses it).
        package var cellTanh: [[S]] = []
        package var hidden: [[S]] = []
        /// Dropout masks (already scaled by 1/(1−p)) applied to inputs[k], empty without dropout.
        package var masks: [[S]] = []
    }

    /// Runs `ids` (T·B, time-major) through the network. States start at zero. `ablate` maps a
    /// state number (0 = embeddings, k = layer k's output) to neurons and their fixed values,
    /// applied inside the recurrence. `dropout` masks come from `generator` when given.
    /// `initial`, per layer, the hidden states and cells [batch × H] the sequences start from
    /// (for scoring a continuation; a backward pass assumes zero starts).
    package func forward(
        ids: [Int32], steps: Int, batch: Int, ablate: [Int: [(Int, S)]] = [:], dropout: Double = 0, generator: inout SplitMix64?,
        initial: [(hidden: [S], cells: [S])]? = nil
    ) -> Pass {
        BLASThreads.owned { workers in
            let h = config.hiddenSize, rows = steps * batch
            var pass = Pass(steps: steps, batch: batch)
            var x = [S](repeating: 0, count: rows * h)
            values.withUnsafeBufferPointer { p in
                x.withUnsafeMutableBufferPointer { out in
                    for r in 0..<rows { for j in 0..<h { out[r * h + j] = p[Int(ids[r]) * h + j] } }
                }
            }
            func applyAblation(_ state: Int, _ m: inout [S], from: Int = 0, rows count: Int) {
                guard let list = ablate[state] else { return }
                for r in from..<(from + count) { for (n, value) in list { m[r * h + n] = value } }
            }
            func applyDropout(_ m: inout [S]) {
                guard dropout > 0, generator != nil else { return }
                let keep = S(1 / (1 - dropout))
                let mask = (0..<m.count).map { _ in generator!.unit() < dropout ? S(0) : keep }
                for i in m.indices { m[i] *= mask[i] }
                pass.masks.append(mask)
            }
            applyAblation(0, &x, rows: rows)
            for k in 0..<config.layers {
                applyDropout(&x)
                pass.inputs.append(x)
                let (g, c, tc, hOut) = layerForward(
                    k, input: x, steps: steps, batch: batch, ablate: ablate[k + 1], workers: workers, initial: initial?[k])
                pass.gates.append(g)
                pass.cells.append(c)
                pass.cellTanh.append(tc)
                pass.hidden.append(hOut)
                x = hOut
            }
            applyDropout(&x)
            pass.inputs.append(x)
            return pass
        }
    }

    /// One LSTM layer over the block: gates = x·W_ihᵀ + b_ih + b_hh (one gemm), then per step
    /// gates += h_{t−1}·W_hhᵀ (one gemm), c = f⊙c + i⊙g, h = o⊙tanh(c).
    private func layerForward(
        _ k: Int, input x: [S], steps: Int, batch: Int, ablate: [(Int, S)]?, workers: Int, initial: (hidden: [S], cells: [S])? = nil
    ) -> ([S], [S], [S], [S]) {
        let h = config.hiddenSize, g4 = 4 * h, rows = steps * batch
        let (wih, whh, bih, bhh) = (
            offset("rnn.weight_ih_l\(k)"), offset("rnn.weight_hh_l\(k)"), offset("rnn.bias_ih_l\(k)"), offset("rnn.bias_hh_l\(k)")
        )
        // Every element is written below (gates from the biases first): no zero-filling.
        func uninitialized(_ n: Int) -> [S] { [S](unsafeUninitializedCapacity: n) { _, count in count = n } }
        var gates = uninitialized(rows * g4), cells = uninitialized(rows * h), cellTanh = uninitialized(rows * h), hidden = uninitialized(rows * h)
        values.withUnsafeBufferPointer { p in
            let w = p.baseAddress!
            gates.withUnsafeMutableBufferPointer { gp in
                for r in 0..<rows { for j in 0..<g4 { gp[r * g4 + j] = w[bih + j] + w[bhh + j] } }
                x.withUnsafeBufferPointer { xp in
                    BLAS.gemm(
                        parts: workers, transposeB: true, m: rows, n: g4, k: h, a: xp.baseAddress!, lda: h, b: w + wih, ldb: h, beta: 1,
                        c: gp.baseAddress!, ldc: g4)
                }
                cells.withUnsafeMutableBufferPointer { cp in
                    cellTanh.withUnsafeMutableBufferPointer { tp in
                        hidden.withUnsafeMutableBufferPointer { hp in
                            let (wp, gs, cs, ts, hs) = (
                                SharedBuffer(w), SharedBuffer(gp.baseAddress!), SharedBuffer(cp.baseAddress!), SharedBuffer(tp.baseAddress!),
                                SharedBuffer(hp.baseAddress!)
                            )
                            let start = initial ?? (hidden: [S](repeating: 0, count: 1), cells: [S](repeating: 0, count: 1))
                            start.hidden.withUnsafeBufferPointer { sh in
                                start.cells.withUnsafeBufferPointer { sc in
                                    let (startHidden, startCells) = (SharedBuffer(sh.baseAddress!), SharedBuffer(sc.baseAddress!))
                                    inParts(batch, parts: workers, minimum: 8) { part in
                                        let (g0, c0, t0, h0) = (gs.pointer, cs.pointer, ts.pointer, hs.pointer)
                                        for t in 0..<steps {
                                            let row = t * batch + part.lowerBound
                                            if t > 0 || initial != nil {
                                                BLAS.gemm(
                                                    transposeB: true, m: part.count, n: g4, k: h,
                                                    a: t > 0 ? h0 + (row - batch) * h : startHidden.pointer + row * h, lda: h, b: wp.pointer + whh,
                                                    ldb: h, beta: 1, c: g0 + row * g4, ldc: g4)
                                            }
                                            for r in row..<(row + part.count) {
                                                let gr = g0 + r * g4, cr = c0 + r * h, tr = t0 + r * h, hr = h0 + r * h
                                                Self.logistic(gr, 2 * h)
                                                Self.tanh(gr + 2 * h, h)
                                                Self.logistic(gr + 3 * h, h)
                                                if t > 0 || initial != nil {
                                                    let previous = t > 0 ? c0 + (r - batch) * h : startCells.pointer + r * h
                                                    for j in 0..<h { cr[j] = gr[h + j] * previous[j] + gr[j] * gr[2 * h + j] }
                                                } else {
                                                    for j in 0..<h { cr[j] = gr[j] * gr[2 * h + j] }
                                                }
                                                tr.update(from: cr, count: h)
                                                Self.tanh(tr, h)
                                                for j in 0..<h { hr[j] = gr[3 * h + j] * tr[j] }
                                                if let ablate { for (n, value) in ablate { hr[n] = value } }
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
        return (gates, cells, cellTanh, hidden)
    }

    // Vector exp, logistic and tanh for Float (`FastMath`); libm's, one by one, for Double.
    @inline(__always) static func logistic(_ p: UnsafeMutablePointer<S>, _ n: Int) {
        if S.self == Float.self {
            FastMath.logistic(UnsafeMutableRawPointer(p).assumingMemoryBound(to: Float.self), count: n)
        } else {
            for k in 0..<n { p[k] = 1 / (1 + S.exp(-p[k])) }
        }
    }

    @inline(__always) static func tanh(_ p: UnsafeMutablePointer<S>, _ n: Int) {
        if S.self == Float.self {
            FastMath.tanh(UnsafeMutableRawPointer(p).assumingMemoryBound(to: Float.self), count: n)
        } else {
            for k in 0..<n { p[k] = S.tanh(p[k]) }
        }
    }

    @inline(__always) private static func exp(_ p: UnsafeMutablePointer<S>, _ n: Int) {
        if S.self == Float.self {
            FastMath.exp(UnsafeMutableRawPointer(p).assumingMemoryBound(to: Float.self), count: n)
        } else {
            for k in 0..<n { p[k] = S.exp(p[k]) }
        }
    }

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

    // MARK: Backward

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

    /// Back through one layer in reverse time; returns ∂loss/∂(layer input).
    /// Returns ∂loss/∂(layer input) and ∂loss/∂h of every step (from above and the recurrence).
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
