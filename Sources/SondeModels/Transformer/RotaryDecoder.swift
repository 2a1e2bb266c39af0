import Foundation
import SondeLinalg

/// The blocks of the rotary decoder families — Llama, Mistral, Qwen2, Qwen3, OLMo-2, Gemma-2 —
/// which share their math and differ in where the RMSNorms sit, q/k norms, biases, the rotary
/// scaling, sliding windows and soft-capping (`DecoderOptions`). Per block, with n₁…n₄ the norms a
/// family has (absent = identity):
///     x += n₂(o(attention(rotate(qkv(n₁(x))))));   x += n₄(down(act(gate(n₃(x))) · up(n₃(x))))
/// Llama, Mistral, Qwen: n₁ input, n₃ "post-attention"; OLMo-2: n₂ and n₄ only; Gemma-2 all four.
/// q, k and v are one gemm on the concatenated projections, gate and up another.
struct RotaryDecoder {
    struct Block {
        /// Rows [q (H·d) | k (KV·d) | v (KV·d)].
        let qkv: Linear
        let output: Linear
        /// Rows [gate | up].
        let gateUp: Linear
        let down: Linear
        let norms: (input: RMSNorm?, afterAttention: RMSNorm?, beforeMLP: RMSNorm?, afterMLP: RMSNorm?)
        let queryNorm: RMSNorm?
        let keyNorm: RMSNorm?
    }

    let options: DecoderOptions
    let config: ModelConfig
    let blocks: [Block]
    let finalNorm: RMSNorm
    let rotary: Rotary

    init(weights w: ModelWeights, config: ModelConfig) throws {
        guard let options = config.decoder else { preconditionFailure("a rotary decoder without its options") }
        self.options = options
        self.config = config
        let (h, heads, kv, d, inner) = (config.hiddenSize, config.heads, options.keyValueHeads, options.headSize, config.intermediateSize)
        let offset: Float = options.gemmaScaling ? 1 : 0
        func norm(_ name: String, _ size: Int) throws -> RMSNorm {
            RMSNorm(weight: try w.values(name + ".weight", shape: [size]), epsilon: config.layerNormEpsilon, offset: offset)
        }
        /// Projections stacked by rows (one gemm), with their biases (zeros where one has none).
        func stacked(_ names: [String], rows: [Int], columns: Int, bias: Bool) throws -> Linear {
            var weights: [Float] = []
            var biases: [Float] = []
            for (name, count) in zip(names, rows) {
                weights += try w.values(name + ".weight", shape: [count, columns])
                if bias { biases += try w.values(name + ".bias", shape: [count]) }
            }
            return Linear(
                weight: Matrix(rows: rows.reduce(0, +), columns: columns, elements: weights), storedOutByIn: true, bias: bias ? biases : nil)
        }
        blocks = try (0..<config.layers).map { l in
            let p = "layers.\(l)"
            let a = p + ".self_attn"
            let norms: (RMSNorm?, RMSNorm?, RMSNorm?, RMSNorm?)
            switch config.architecture {
            case .olmo2: norms = (nil, try norm(p + ".post_attention_layernorm", h), nil, try norm(p + ".post_feedforward_layernorm", h))
            case .gemma2:
                norms = (
                    try norm(p + ".input_layernorm", h), try norm(p + ".post_attention_layernorm", h), try norm(p + ".pre_feedforward_layernorm", h),
                    try norm(p + ".post_feedforward_layernorm", h)
                )
            default: norms = (try norm(p + ".input_layernorm", h), nil, try norm(p + ".post_attention_layernorm", h), nil)
            }
            let (queryNorm, keyNorm): (RMSNorm?, RMSNorm?)
            switch options.queryKeyNorm {
            case .none: (queryNorm, keyNorm) = (nil, nil)
            case .perHead: (queryNorm, keyNorm) = (try norm(a + ".q_norm", d), try norm(a + ".k_norm", d))
            case .projection: (queryNorm, keyNorm) = (try norm(a + ".q_norm", heads * d), try norm(a + ".k_norm", kv * d))
            }
            return Block(
                qkv: try stacked(
                    [a + ".q_proj", a + ".k_proj", a + ".v_proj"], rows: [heads * d, kv * d, kv * d], columns: h, bias: options.attentionBias),
                output: try stacked([a + ".o_proj"], rows: [h], columns: heads * d, bias: options.outputBias),
                gateUp: try stacked([p + ".mlp.gate_proj", p + ".mlp.up_proj"], rows: [inner, inner], columns: h, bias: options.mlpBias),
                down: try stacked([p + ".mlp.down_proj"], rows: [h], columns: inner, bias: options.mlpBias),
                norms: norms, queryNorm: queryNorm, keyNorm: keyNorm)
        }
        finalNorm = try norm("norm", h)
        rotary = Rotary(options)
    }

    /// Gemma-2 multiplies the embeddings by √hidden (rounded to Float, as transformers does).
    func scaleEmbeddings(_ x: inout Matrix<Float>) {
        guard options.gemmaScaling else { return }
        let factor = Float(Double(config.hiddenSize).squareRoot())
        x.withUnsafeMutableBufferPointer { p in for i in 0..<p.count { p[i] *= factor } }
    }

    /// Runs every block on the packed `sequences` of `x`; `record(l, &x)` after block l − 1 (the
    /// last after the final norm) may change the state before the next block reads it.
    func run(_ x: inout Matrix<Float>, sequences: [Range<Int>], record: (Int, inout Matrix<Float>) -> Void) {
        let (heads, kv, d) = (config.heads, options.keyValueHeads, options.headSize)
        let queryColumns = (0..<heads).map { $0 * d }, keyColumns = (0..<kv).map { heads * d + $0 * d }
        for (l, block) in blocks.enumerated() {
            var qkv = block.qkv.apply(block.norms.input?.apply(x) ?? x)
            normalizeQueriesAndKeys(&qkv, block, queries: queryColumns, keys: keyColumns)
            rotary.rotate(&qkv, columns: queryColumns + keyColumns, sequences: sequences)
            let mask = AttentionMask(
                causal: true, window: options.slidingLayers[l] ? options.slidingWindow : nil, softcap: options.attentionSoftcap.map { Float($0) })
            var attended = block.output.apply(
                attention(
                    qkv, layout: .grouped(keyValueHeads: kv), heads: heads, headSize: d, sequences: sequences, mask: mask,
                    scale: Float(options.queryScale)))
            block.norms.afterAttention?.applyInPlace(&attended)
            addInPlace(&x, attended)
            var mlp = self.mlp(block, block.norms.beforeMLP?.apply(x) ?? x)
            block.norms.afterMLP?.applyInPlace(&mlp)
            addInPlace(&x, mlp)
            if l == blocks.count - 1 { finalNorm.applyInPlace(&x) }
            record(l + 1, &x)
        }
    }

    /// Qwen3's norm over each head's query and key; OLMo-2's over the whole projections.
    private func normalizeQueriesAndKeys(_ qkv: inout Matrix<Float>, _ block: Block, queries: [Int], keys: [Int]) {
        guard let queryNorm = block.queryNorm, let keyNorm = block.keyNorm else { return }
        let (rows, width) = (qkv.rows, qkv.columns)
        let perHead = options.queryKeyNorm == .perHead
        qkv.withUnsafeMutableBufferPointer { p in
            for r in 0..<rows {
                let row = p.baseAddress! + r * width
                for column in perHead ? queries : [queries[0]] { queryNorm.normalize(row + column) }
                for column in perHead ? keys : [keys[0]] { keyNorm.normalize(row + column) }
            }
        }
    }

    /// down(act(gate(x)) · up(x)).
    private func mlp(_ block: Block, _ input: Matrix<Float>) -> Matrix<Float> {
        let inner = config.intermediateSize
        var gateUp = block.gateUp.apply(input)
        let rows = gateUp.rows
        var gate = Matrix<Float>(rows: rows, columns: inner) { out in
            gateUp.withUnsafeBufferPointer { g in
                for r in 0..<rows { (out.baseAddress! + r * inner).initialize(from: g.baseAddress! + r * 2 * inner, count: inner) }
            }
        }
        config.activation.applyInPlace(&gate)
        gateUp.withUnsafeMutableBufferPointer { g in
            gate.withUnsafeMutableBufferPointer { a in
                for r in 0..<rows {
                    let (up, out) = (g.baseAddress! + r * 2 * inner + inner, a.baseAddress! + r * inner)
                    for j in 0..<inner { out[j] *= up[j] }
                }
            }
        }
        return block.down.apply(gate)
    }
}
