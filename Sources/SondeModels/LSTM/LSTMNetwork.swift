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
/// The forward pass is here, the loss in LSTMNetwork+Score, the backward pass in
/// LSTMNetwork+Backward.
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
    /// state number (0 = embeddings, k = layer k's output) to the changes made to it (neurons
    /// fixed, a concept erased), applied inside the recurrence at every step. `dropout` masks come from `generator` when given.
    /// `initial`, per layer, the hidden states and cells [batch × H] the sequences start from
    /// (for scoring a continuation; a backward pass assumes zero starts).
    package func forward(
        ids: [Int32], steps: Int, batch: Int, ablate: [Int: [NeuronAblation]] = [:], dropout: Double = 0, generator: inout SplitMix64?,
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
            func applyAblation(_ state: Int, _ m: inout [S], rows count: Int) {
                guard let list = ablate[state] else { return }
                m.withUnsafeMutableBufferPointer { p in for a in list { a.apply(to: p.baseAddress!, rows: count, width: h) } }
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
        _ k: Int, input x: [S], steps: Int, batch: Int, ablate: [NeuronAblation]?, workers: Int, initial: (hidden: [S], cells: [S])? = nil
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
                                            }
                                            for a in ablate ?? [] { a.apply(to: h0 + row * h, rows: part.count, width: h) }
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

    @inline(__always) static func exp(_ p: UnsafeMutablePointer<S>, _ n: Int) {
        if S.self == Float.self {
            FastMath.exp(UnsafeMutableRawPointer(p).assumingMemoryBound(to: Float.self), count: n)
        } else {
            for k in 0..<n { p[k] = S.exp(p[k]) }
        }
    }
}
