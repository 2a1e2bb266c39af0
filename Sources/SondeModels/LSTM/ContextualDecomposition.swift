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
///
/// Since r + s is the forward pass's own pre-activation z (W·h_in + V·h₋₁, the same for every
/// span of a sentence), only β goes through the products and s = z − r: one gemm per step and
/// layer instead of two. (The forward pass's gates are not reused for f(r + s + b): computed
/// from the same sums as f(r + b) and f(s + b), an empty span's β is exactly 0.)
extension LSTMNetwork {
    /// β and γ of every layer's h and c, per layer k (index k − 1), rows t·B + b (position t,
    /// span b of all the sequences' spans in order), [T·B × H] each, T the longest sequence
    /// (rows past a sequence's end hold nothing of meaning).
    package struct Decomposition {
        package var relevantHidden: [[S]] = [], irrelevantHidden: [[S]] = []
        package var relevantCells: [[S]] = [], irrelevantCells: [[S]] = []
    }

    /// Decomposes one sequence `ids` for `spans` (each a set of positions).
    /// `identity`: σ and tanh replaced by the identity everywhere (a test's linear network, on
    /// which the decomposition is exactly additive when the gates' weights are zero).
    package func decompose(ids: [Int32], spans: [Set<Int>], identity: Bool = false) -> Decomposition {
        decompose(sequences: [(ids, spans)], identity: identity)
    }

    /// Decomposes several sequences, each for its spans, as one batch: per layer and step, the
    /// input and recurrent products of β for every span begun, in two gemms.
    package func decompose(sequences: [(ids: [Int32], spans: [Set<Int>])], identity: Bool = false) -> Decomposition {
        BLASThreads.owned { workers in
            let h = config.hiddenSize, g4 = 4 * h
            let steps = sequences.map(\.ids.count).max() ?? 0
            // Spans in order of their first position: at step t the spans begun are a prefix of
            // the batch, and only those run — before a span begins β is 0 and γ the forward
            // pass's own states. The rows are put back in the caller's order at the end.
            let unordered = sequences.enumerated().flatMap { s, sequence in sequence.spans.map { (s, $0) } }
            let order = unordered.indices.sorted { (unordered[$0].1.min() ?? Int.max, $0) < (unordered[$1].1.min() ?? Int.max, $1) }
            let owner = order.map { unordered[$0] }
            let starts = identity ? owner.map { _ in 0 } : owner.map { $0.1.min() ?? Int.max }
            let batch = owner.count
            var out = Decomposition()
            guard steps > 0, batch > 0 else { return out }
            // Layer 1's input products W·x: once per (sequence, position), then given to each
            // span's relevant or irrelevant side.
            let positions = sequences.flatMap(\.ids)
            var projection = [S](repeating: 0, count: positions.count * g4)
            values.withUnsafeBufferPointer { p in
                var x = [S](repeating: 0, count: positions.count * h)
                for (r, id) in positions.enumerated() { for j in 0..<h { x[r * h + j] = p[Int(id) * h + j] } }
                x.withUnsafeBufferPointer { xp in
                    projection.withUnsafeMutableBufferPointer { pp in
                        BLAS.gemm(
                            parts: workers, transposeB: true, m: positions.count, n: g4, k: h, a: xp.baseAddress!, lda: h,
                            b: p.baseAddress! + offset("rnn.weight_ih_l0"), ldb: h, c: pp.baseAddress!, ldc: g4)
                    }
                }
            }
            var first = [Int](repeating: 0, count: sequences.count)
            for s in 1..<max(1, sequences.count) { first[s] = first[s - 1] + sequences[s - 1].ids.count }
            let input = FirstLayerInput(
                projection: projection, row: owner.map { first[$0.0] }, length: owner.map { sequences[$0.0].ids.count }, spans: owner.map(\.1))
            // The forward pass of the sentences themselves (time-major, rows t·S + s; padding reads <unk>).
            let count = sequences.count
            var padded = [Int32](repeating: 0, count: steps * count)
            for (s, sequence) in sequences.enumerated() { for (t, id) in sequence.ids.enumerated() { padded[t * count + s] = id } }
            var none: SplitMix64? = nil
            let pass = forward(ids: padded, steps: steps, batch: count, generator: &none)
            let sequenceOf = owner.map(\.0)
            var below: (relevant: [S], irrelevant: [S])? = nil
            for k in 0..<config.layers {
                let whole = ForwardLayer(
                    preactivation: preactivations(k, pass, steps: steps, batch: count, workers: workers), hidden: pass.hidden[k], cells: pass.cells[k],
                    sequences: count, sequenceOf: sequenceOf, starts: starts)
                let (layer, hidden) = decomposeLayer(
                    k, first: input, below: below, whole: whole, steps: steps, batch: batch, order: order, workers: workers, identity: identity)
                out.relevantHidden.append(layer.relevantHidden)
                out.irrelevantHidden.append(layer.irrelevantHidden)
                out.relevantCells.append(layer.relevantCells)
                out.irrelevantCells.append(layer.irrelevantCells)
                below = hidden
            }
            return out
        }
    }

    /// Layer 1's input products and, per span, where its sequence's rows start, its length and
    /// its positions.
    private struct FirstLayerInput {
        var projection: [S]
        var row: [Int], length: [Int], spans: [Set<Int>]
    }

    /// A layer of the forward pass, rows t·S + s: its pre-activations W·h_in + V·h₋₁ (no bias),
    /// outputs and cells; and the sequence and first position of each span.
    private struct ForwardLayer {
        var preactivation: [S], hidden: [S], cells: [S]
        var sequences: Int, sequenceOf: [Int]
        /// Each span's first position, ascending (0 for every span of the linear test network,
        /// which has no forward pass of its own to stand for its states before a span).
        var starts: [Int]
    }

    /// z = W_ih·x + W_hh·h₋₁ of layer k over a forward pass's rows (two gemms).
    private func preactivations(_ k: Int, _ pass: Pass, steps: Int, batch: Int, workers: Int) -> [S] {
        let h = config.hiddenSize, g4 = 4 * h, rows = steps * batch
        var z = [S](repeating: 0, count: rows * g4)
        values.withUnsafeBufferPointer { p in
            let w = p.baseAddress!
            z.withUnsafeMutableBufferPointer { zp in
                pass.inputs[k].withUnsafeBufferPointer { x in
                    BLAS.gemm(
                        parts: workers, transposeB: true, m: rows, n: g4, k: h, a: x.baseAddress!, lda: h, b: w + offset("rnn.weight_ih_l\(k)"), ldb: h,
                        c: zp.baseAddress!, ldc: g4)
                }
                pass.hidden[k].withUnsafeBufferPointer { hp in
                    BLAS.gemm(
                        parts: workers, transposeB: true, m: rows - batch, n: g4, k: h, a: hp.baseAddress!, lda: h,
                        b: w + offset("rnn.weight_hh_l\(k)"), ldb: h, beta: 1, c: zp.baseAddress! + batch * g4, ldc: g4)
                }
            }
        }
        return z
    }

    private struct LayerDecomposition {
        var relevantHidden: [S], irrelevantHidden: [S], relevantCells: [S], irrelevantCells: [S]
    }

    /// Layer k over the batch in start order; returns its β and γ in the caller's order (`order`:
    /// each row's place there), and β_h (with γ_h for the linear test network) in start order for
    /// the layer above.
    private func decomposeLayer(
        _ k: Int, first: FirstLayerInput, below: (relevant: [S], irrelevant: [S])?, whole forward: ForwardLayer, steps: Int, batch: Int,
        order: [Int], workers: Int, identity: Bool
    ) -> (LayerDecomposition, (relevant: [S], irrelevant: [S])) {
        let h = config.hiddenSize, g4 = 4 * h, rows = steps * batch
        let (wih, whh, bih, bhh) = (
            offset("rnn.weight_ih_l\(k)"), offset("rnn.weight_hh_l\(k)"), offset("rnn.bias_ih_l\(k)"), offset("rnn.bias_hh_l\(k)")
        )
        func buffer(_ n: Int) -> UnsafeMutablePointer<S> {
            let p = UnsafeMutablePointer<S>.allocate(capacity: max(n, 1))
            adviseHugePages(UnsafeMutableRawBufferPointer(start: p, count: max(n, 1) * MemoryLayout<S>.stride))
            p.initialize(repeating: 0, count: max(n, 1))
            return p
        }
        // β and γ of h and c over all rows; one step's scratch over the B × 4H gate block (the
        // relevant products r, then f(r + b), f(s + b), f(r + s + b)) and over B × H (tanh of
        // β_c, γ_c and c).
        let out = StepBuffers(
            betaH: buffer(rows * h), gammaH: buffer(rows * h), betaC: buffer(rows * h), gammaC: buffer(rows * h), fr: buffer(batch * g4),
            fs: buffer(batch * g4), fw: buffer(batch * g4), fb: buffer(g4), tanhBeta: buffer(batch * h), tanhGamma: buffer(batch * h),
            tanhWhole: buffer(batch * h))
        let r = buffer(batch * g4), s = buffer(batch * g4)
        defer {
            for p in [out.betaH, out.gammaH, out.betaC, out.gammaC, out.fr, out.fs, out.fw, out.fb, out.tanhBeta, out.tanhGamma, out.tanhWhole, r, s] {
                p.deallocate()
            }
        }
        values.withUnsafeBufferPointer { wp in
            let w = wp.baseAddress!
            let bias = (0..<g4).map { w[bih + $0] + w[bhh + $0] }
            for j in 0..<g4 { out.fb[j] = bias[j] }
            if !identity { Self.activate(out.fb, rows: 1, h: h) }
            var active = 0
            for t in 0..<steps {
                let row = t * batch
                while active < batch && forward.starts[active] <= t { active += 1 }
                // Spans not begun: β stays 0, γ is the forward pass's state.
                for b in active..<batch {
                    let source = (t * forward.sequences + forward.sequenceOf[b]) * h
                    for j in 0..<h { (out.gammaH[(row + b) * h + j], out.gammaC[(row + b) * h + j]) = (forward.hidden[source + j], forward.cells[source + j]) }
                }
                guard active > 0 else { continue }
                // r = W·β_in + V·β_h₋₁ (layer 1's β_in: the span's embeddings).
                if let below {
                    below.relevant.withUnsafeBufferPointer { x in
                        BLAS.gemm(parts: workers, transposeB: true, m: active, n: g4, k: h, a: x.baseAddress! + row * h, lda: h, b: w + wih, ldb: h, c: r, ldc: g4)
                    }
                } else {
                    first.projection.withUnsafeBufferPointer { p in
                        for b in 0..<active {
                            if t < first.length[b] && first.spans[b].contains(t) {
                                (r + b * g4).update(from: p.baseAddress! + (first.row[b] + t) * g4, count: g4)
                            } else {
                                (r + b * g4).update(repeating: 0, count: g4)
                            }
                        }
                    }
                }
                if t > 0 {
                    BLAS.gemm(parts: workers, transposeB: true, m: active, n: g4, k: h, a: out.betaH + (row - batch) * h, lda: h, b: w + whh, ldb: h, beta: 1, c: r, ldc: g4)
                }
                // s: the forward pass's z − r, or, for the linear test network, its own products.
                if identity {
                    s.update(repeating: 0, count: batch * g4)
                    if let below {
                        below.irrelevant.withUnsafeBufferPointer { x in
                            BLAS.gemm(transposeB: true, m: batch, n: g4, k: h, a: x.baseAddress! + row * h, lda: h, b: w + wih, ldb: h, c: s, ldc: g4)
                        }
                    } else {
                        for b in 0..<batch where t < first.length[b] && !first.spans[b].contains(t) {
                            for j in 0..<g4 { s[b * g4 + j] = first.projection[(first.row[b] + t) * g4 + j] }
                        }
                    }
                    if t > 0 {
                        BLAS.gemm(transposeB: true, m: batch, n: g4, k: h, a: out.gammaH + (row - batch) * h, lda: h, b: w + whh, ldb: h, beta: 1, c: s, ldc: g4)
                    }
                } else {
                    forward.preactivation.withUnsafeBufferPointer { z in
                        for b in 0..<active {
                            let source = (t * forward.sequences + forward.sequenceOf[b]) * g4
                            for j in 0..<g4 { s[b * g4 + j] = z[source + j] - r[b * g4 + j] }
                        }
                    }
                }
                // The rest is row by row: the spans split over the workers.
                let (shared, rs, ss) = (out, SharedBuffer(r), SharedBuffer(s))
                bias.withUnsafeBufferPointer { biasPointer in
                    let bp = SharedBuffer(biasPointer.baseAddress!)
                    inParts(active, parts: workers, minimum: 16) { part in
                        Self.finishStep(t, part, batch: batch, h: h, r: rs.pointer, s: ss.pointer, bias: bp.pointer, identity: identity, shared)
                    }
                }
            }
        }
        /// Rows t·B + b of `p` in the caller's order: row b goes to `order[b]`.
        func callers(_ p: UnsafeMutablePointer<S>) -> [S] {
            [S](hugeCapacity: rows * h) { o in
                for t in 0..<steps {
                    for (b, original) in order.enumerated() { (o.baseAddress! + (t * batch + original) * h).update(from: p + (t * batch + b) * h, count: h) }
                }
            }
        }
        func sorted(_ p: UnsafeMutablePointer<S>) -> [S] { [S](hugeCapacity: rows * h) { $0.baseAddress!.update(from: p, count: rows * h) } }
        return (
            LayerDecomposition(
                relevantHidden: callers(out.betaH), irrelevantHidden: callers(out.gammaH), relevantCells: callers(out.betaC),
                irrelevantCells: callers(out.gammaC)),
            (sorted(out.betaH), identity ? sorted(out.gammaH) : [])
        )
    }

    /// A layer's outputs and one step's scratch (see `decomposeLayer`); the workers of a step
    /// write disjoint rows of each.
    private struct StepBuffers: @unchecked Sendable {
        let betaH: UnsafeMutablePointer<S>, gammaH: UnsafeMutablePointer<S>, betaC: UnsafeMutablePointer<S>, gammaC: UnsafeMutablePointer<S>
        let fr: UnsafeMutablePointer<S>, fs: UnsafeMutablePointer<S>, fw: UnsafeMutablePointer<S>, fb: UnsafeMutablePointer<S>
        let tanhBeta: UnsafeMutablePointer<S>, tanhGamma: UnsafeMutablePointer<S>, tanhWhole: UnsafeMutablePointer<S>
    }

    /// Step t for spans `part`: the gates' nonlinearities, each gate's Shapley split, β_c and γ_c
    /// as the type's comment writes them, and the split of tanh(c) into β_h and γ_h.
    private static func finishStep(
        _ t: Int, _ part: Range<Int>, batch: Int, h: Int, r: UnsafeMutablePointer<S>, s: UnsafeMutablePointer<S>, bias: UnsafeMutablePointer<S>,
        identity: Bool, _ o: StepBuffers
    ) {
        let g4 = 4 * h, row = t * batch
        for b in part {
            let q0 = b * g4
            for j in 0..<g4 {
                let (rv, sv) = (r[q0 + j], s[q0 + j])
                (o.fr[q0 + j], o.fs[q0 + j], o.fw[q0 + j]) = (rv + bias[j], sv + bias[j], rv + sv + bias[j])
            }
            if !identity {
                activate(o.fr + q0, rows: 1, h: h)
                activate(o.fs + q0, rows: 1, h: h)
                activate(o.fw + q0, rows: 1, h: h)
            }
            let c = (row + b) * h, previous = c - batch * h
            for j in 0..<h {
                @inline(__always) func split(_ gate: Int) -> (S, S, S) {
                    let q = q0 + gate * h + j, fb = o.fb[gate * h + j]
                    let (fr, fs, fw) = (o.fr[q], o.fs[q], o.fw[q])
                    return ((fr - fb + fw - fs) / 2, (fs - fb + fw - fr) / 2, fb)
                }
                let (ir, is_, ib) = split(0), (gr, gs, gb) = split(2)
                var relevant = ir * (gr + gb) + ib * gr
                var irrelevant = is_ * (gr + gs + gb) + (ir + ib) * gs + ib * gb
                if t > 0 {
                    let (forgetR, forgetS, forgetB) = split(1)
                    let (betaBefore, gammaBefore) = (o.betaC[previous + j], o.gammaC[previous + j])
                    relevant += (forgetR + forgetB) * betaBefore
                    irrelevant += (forgetR + forgetS + forgetB) * gammaBefore + forgetS * betaBefore
                }
                (o.betaC[c + j], o.gammaC[c + j]) = (relevant, irrelevant)
                (o.tanhBeta[b * h + j], o.tanhGamma[b * h + j], o.tanhWhole[b * h + j]) = (relevant, irrelevant, relevant + irrelevant)
            }
            if !identity {
                tanh(o.tanhBeta + b * h, h)
                tanh(o.tanhGamma + b * h, h)
                tanh(o.tanhWhole + b * h, h)
            }
            for j in 0..<h {
                let gate = o.fw[q0 + 3 * h + j], q = b * h + j
                o.betaH[c + j] = gate * (o.tanhBeta[q] + o.tanhWhole[q] - o.tanhGamma[q]) / 2
                o.gammaH[c + j] = gate * (o.tanhGamma[q] + o.tanhWhole[q] - o.tanhBeta[q]) / 2
            }
        }
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
