import Foundation
import SondeLinalg

/// A Hugging Face transformer checkpoint's network, run in Float on BLAS: BERT/RoBERTa, GPT-2,
/// GPT-NeoX, or a rotary decoder (`RotaryDecoder`: Llama, Mistral, Qwen2/3, OLMo-2, Gemma-2)
/// (`TransformerModel` adds its tokenizer and makes it a `LanguageModel`). Sequences are packed
/// one after another (no padding): the projections and MLPs of all tokens of a batch are single
/// gemms, attention runs per sequence.
public final class TransformerNetwork {
    public let folder: String
    public let config: ModelConfig
    /// What the checkpoint's head is, when it has one Sonde can score.
    public let head: Head
    /// The architecture, width and fingerprint of this checkpoint.
    public let identity: ModelIdentity

    public enum Head: Sendable, Equatable {
        /// Next-token prediction (GPT-2, GPT-NeoX, the rotary decoders) or masked-token prediction (BERT).
        case languageModel
        /// A sequence classifier over `classes` (GPT-2: last token; BERT: pooled [CLS]).
        case sequenceClassifier(classes: [String])
        case none
    }

    private let tokenEmbedding: Matrix<Float>
    private let positionEmbedding: Matrix<Float>?
    private let tokenTypeRow: [Float]?
    private let embeddingNorm: LayerNorm?
    private let blocks: [Block]
    private let finalNorm: LayerNorm?
    private let rotary: Rotary?
    private let outputProjection: Linear?
    private let maskedLMTransform: (dense: Linear, norm: LayerNorm)?
    private let pooler: Linear?
    /// Llama and its kin: their blocks (`blocks` is empty then).
    private let rotaryDecoder: RotaryDecoder?

    struct Block {
        let qkv: Linear
        let output: Linear
        let norm1: LayerNorm
        let norm2: LayerNorm
        let up: Linear
        let down: Linear
    }

    /// The names of the layers in the activation file: `layer0` (embeddings) … `layerL`.
    public var layerNames: [String] { (0...config.layers).map { "layer\($0)" } }

    public init(folder: String) throws {
        self.folder = folder
        let config = try ModelConfig.read(folder + "/config.json")
        self.config = config
        let w = try ModelWeights(folder: folder)
        identity = ModelIdentity(
            architecture: config.architecture.rawValue, hidden: config.hiddenSize,
            fingerprint: try ModelIdentity.fingerprint(files: [folder + "/config.json"] + w.files))
        let (h, v, inner) = (config.hiddenSize, config.vocabularySize, config.intermediateSize)
        func norm(_ prefix: String) throws -> LayerNorm {
            let weight = w.first(prefix + ".weight", prefix + ".gamma"), bias = w.first(prefix + ".bias", prefix + ".beta")
            return LayerNorm(gamma: try w.values(weight, shape: [h]), beta: try w.values(bias, shape: [h]), epsilon: config.layerNormEpsilon)
        }
        func linear(_ prefix: String, out: Int, in: Int, bias: Bool = true) throws -> Linear {
            Linear(
                weight: try w.matrix(prefix + ".weight", out, `in`), storedOutByIn: true,
                bias: bias ? try w.values(prefix + ".bias", shape: [out]) : nil)
        }
        func conv1D(_ prefix: String, in: Int, out: Int) throws -> Linear {
            Linear(weight: try w.matrix(prefix + ".weight", `in`, out), storedOutByIn: false, bias: try w.values(prefix + ".bias", shape: [out]))
        }
        var blocks: [Block] = []
        rotaryDecoder = config.architecture.isRotaryDecoder ? try RotaryDecoder(weights: w, config: config) : nil
        switch config.architecture {
        case .bert, .roberta:
            tokenEmbedding = try w.matrix("embeddings.word_embeddings.weight", v, h)
            positionEmbedding = try w.matrix("embeddings.position_embeddings.weight", config.maxPositions, h)
            tokenTypeRow =
                config.tokenTypes > 0
                ? Array(try w.values("embeddings.token_type_embeddings.weight", shape: [config.tokenTypes, h]).prefix(h)) : nil
            embeddingNorm = try norm("embeddings.LayerNorm")
            for l in 0..<config.layers {
                let p = "encoder.layer.\(l)"
                let q = try linear(p + ".attention.self.query", out: h, in: h)
                let k = try linear(p + ".attention.self.key", out: h, in: h)
                let vv = try linear(p + ".attention.self.value", out: h, in: h)
                let fused = Linear(
                    weight: Matrix(rows: 3 * h, columns: h, elements: q.weight.elements + k.weight.elements + vv.weight.elements),
                    storedOutByIn: true, bias: q.bias! + k.bias! + vv.bias!)
                blocks.append(
                    Block(
                        qkv: fused, output: try linear(p + ".attention.output.dense", out: h, in: h),
                        norm1: try norm(p + ".attention.output.LayerNorm"), norm2: try norm(p + ".output.LayerNorm"),
                        up: try linear(p + ".intermediate.dense", out: inner, in: h), down: try linear(p + ".output.dense", out: h, in: inner)))
            }
            finalNorm = nil
            rotary = nil
            // The masked-LM head: BERT's `cls.predictions.*`, RoBERTa's `lm_head.*`.
            let mlm =
                w.has("cls.predictions.transform.dense.weight")
                ? (
                    dense: "cls.predictions.transform.dense", norm: "cls.predictions.transform.LayerNorm", decoder: "cls.predictions.decoder",
                    bias: w.first("cls.predictions.bias", "cls.predictions.decoder.bias")
                )
                : w.has("lm_head.dense.weight")
                    ? (
                        dense: "lm_head.dense", norm: "lm_head.layer_norm", decoder: "lm_head.decoder",
                        bias: w.first("lm_head.bias", "lm_head.decoder.bias")
                    )
                    : nil
            if let mlm {
                maskedLMTransform = (try linear(mlm.dense, out: h, in: h), try norm(mlm.norm))
                let decoder = w.has(mlm.decoder + ".weight") ? try w.matrix(mlm.decoder + ".weight", v, h) : tokenEmbedding
                outputProjection = Linear(weight: decoder, storedOutByIn: true, bias: try w.values(mlm.bias, shape: [v]))
                pooler = nil
                head = .languageModel
            } else if w.has("classifier.weight"), w.has("pooler.dense.weight") {
                maskedLMTransform = nil
                pooler = try linear("pooler.dense", out: h, in: h)
                let classes = w.shape("classifier.weight")?.first ?? 0
                outputProjection = try linear("classifier", out: classes, in: h)
                head = .sequenceClassifier(classes: Self.classNames(config.classLabels, count: classes))
            } else {
                (maskedLMTransform, pooler, outputProjection, head) = (nil, nil, nil, .none)
            }
        case .gpt2:
            tokenEmbedding = try w.matrix("wte.weight", v, h)
            positionEmbedding = try w.matrix("wpe.weight", config.maxPositions, h)
            (tokenTypeRow, embeddingNorm) = (nil, nil)
            for l in 0..<config.layers {
                let p = "h.\(l)"
                blocks.append(
                    Block(
                        qkv: try conv1D(p + ".attn.c_attn", in: h, out: 3 * h), output: try conv1D(p + ".attn.c_proj", in: h, out: h),
                        norm1: try norm(p + ".ln_1"), norm2: try norm(p + ".ln_2"),
                        up: try conv1D(p + ".mlp.c_fc", in: h, out: inner), down: try conv1D(p + ".mlp.c_proj", in: inner, out: h)))
            }
            finalNorm = try norm("ln_f")
            rotary = nil
            (maskedLMTransform, pooler) = (nil, nil)
            if w.has("score.weight") {
                let classes = w.shape("score.weight")?.first ?? 0
                outputProjection = try linear("score", out: classes, in: h, bias: w.has("score.bias"))
                head = .sequenceClassifier(classes: Self.classNames(config.classLabels, count: classes))
            } else {
                let tied = w.has("lm_head.weight") ? try w.matrix("lm_head.weight", v, h) : tokenEmbedding
                outputProjection = Linear(weight: tied, storedOutByIn: true, bias: nil)
                head = .languageModel
            }
        case .llama, .mistral, .qwen2, .qwen3, .olmo2, .gemma2:
            tokenEmbedding = try w.matrix("embed_tokens.weight", v, h)
            (positionEmbedding, tokenTypeRow, embeddingNorm, finalNorm, rotary, maskedLMTransform, pooler) = (nil, nil, nil, nil, nil, nil, nil)
            if w.has("score.weight") {
                let classes = w.shape("score.weight")?.first ?? 0
                outputProjection = try linear("score", out: classes, in: h, bias: w.has("score.bias"))
                head = .sequenceClassifier(classes: Self.classNames(config.classLabels, count: classes))
            } else if w.has("lm_head.weight") || config.decoder?.tiedEmbeddings == false {
                outputProjection = Linear(weight: try w.matrix("lm_head.weight", v, h), storedOutByIn: true, bias: nil)
                head = .languageModel
            } else {
                outputProjection = Linear(weight: tokenEmbedding, storedOutByIn: true, bias: nil)
                head = .languageModel
            }
        case .gptNeoX:
            tokenEmbedding = try w.matrix("embed_in.weight", v, h)
            (positionEmbedding, tokenTypeRow, embeddingNorm) = (nil, nil, nil)
            for l in 0..<config.layers {
                let p = "layers.\(l)"
                blocks.append(
                    Block(
                        qkv: try linear(p + ".attention.query_key_value", out: 3 * h, in: h),
                        output: try linear(p + ".attention.dense", out: h, in: h),
                        norm1: try norm(p + ".input_layernorm"), norm2: try norm(p + ".post_attention_layernorm"),
                        up: try linear(p + ".mlp.dense_h_to_4h", out: inner, in: h), down: try linear(p + ".mlp.dense_4h_to_h", out: h, in: inner)))
            }
            finalNorm = try norm("final_layer_norm")
            rotary = Rotary(headSize: config.headSize, fraction: config.rotaryFraction, base: config.rotaryBase)
            (maskedLMTransform, pooler) = (nil, nil)
            // transformers 4 names the output embedding `embed_out`, transformers 5 `lm_head`.
            if w.has("embed_out.weight") || w.has("lm_head.weight") {
                outputProjection = Linear(weight: try w.matrix(w.first("embed_out.weight", "lm_head.weight"), v, h), storedOutByIn: true, bias: nil)
                head = .languageModel
            } else if w.has("score.weight") {
                let classes = w.shape("score.weight")?.first ?? 0
                outputProjection = try linear("score", out: classes, in: h, bias: w.has("score.bias"))
                head = .sequenceClassifier(classes: Self.classNames(config.classLabels, count: classes))
            } else {
                outputProjection = nil
                head = .none
            }
        }
        self.blocks = blocks
    }

    /// config.json's id2label when it names every class, else the class numbers.
    private static func classNames(_ labels: [String], count: Int) -> [String] {
        labels.count == count ? labels : (0..<count).map(String.init)
    }

    /// The longest sequence (special tokens included) one forward pass takes.
    public var window: Int { config.maxPositions - config.positionOffset }

    /// Runs `sequences` (token ids, each at most `window` long) packed into one batch and
    /// returns the hidden states of every layer, [tokens of all sequences, hidden] each,
    /// as `output_hidden_states` does: layer 0 the embeddings (after BERT's LayerNorm),
    /// the last with GPT's final LayerNorm applied. A non-finite value in any layer is an error
    /// (broken weights or config), never output.
    public func hiddenStates(_ sequences: [[Int]], ablations: [NeuronAblation] = []) throws -> [Matrix<Float>] {
        var ranges: [Range<Int>] = []
        var start = 0
        for s in sequences {
            precondition(s.count <= window, "sequence of \(s.count) tokens exceeds the window of \(window)")
            ranges.append(start..<(start + s.count))
            start += s.count
        }
        let h = config.hiddenSize
        let tokens = sequences.flatMap { $0 }
        var x = Matrix<Float>(rows: tokens.count, columns: h) { out in
            tokenEmbedding.withUnsafeBufferPointer { e in
                for (r, id) in tokens.enumerated() { (out.baseAddress! + r * h).initialize(from: e.baseAddress! + id * h, count: h) }
            }
        }
        x.withUnsafeMutableBufferPointer { xp in
            if let positionEmbedding {
                positionEmbedding.withUnsafeBufferPointer { pp in
                    for range in ranges {
                        for (p, r) in range.enumerated() {
                            let row = xp.baseAddress! + r * h, position = pp.baseAddress! + (p + config.positionOffset) * h
                            for j in 0..<h { row[j] += position[j] }
                        }
                    }
                }
            }
            if let tokenTypeRow {
                for r in 0..<tokens.count { for j in 0..<h { xp[r * h + j] += tokenTypeRow[j] } }
            }
        }
        embeddingNorm?.applyInPlace(&x)
        rotaryDecoder?.scaleEmbeddings(&x)
        var states: [Matrix<Float>] = []
        states.reserveCapacity(config.layers + 1)
        func record(_ layer: Int, _ x: inout Matrix<Float>) {
            for a in ablations where a.layer == layer {
                let rows = x.rows
                x.withUnsafeMutableBufferPointer { xp in a.apply(to: xp.baseAddress!, rows: rows, width: h) }
            }
            states.append(x)
        }
        record(0, &x)
        rotaryDecoder?.run(&x, sequences: ranges, record: record)
        let scale = 1 / Float(config.headSize).squareRoot()
        for (l, block) in blocks.enumerated() {
            switch config.architecture {
            case .llama, .mistral, .qwen2, .qwen3, .olmo2, .gemma2:
                preconditionFailure("the rotary decoders run in RotaryDecoder")
            case .bert, .roberta:
                let context = attention(
                    block.qkv.apply(x), layout: .blocks, heads: config.heads, headSize: config.headSize, sequences: ranges,
                    mask: AttentionMask(causal: false), scale: scale)
                addInPlace(&x, block.output.apply(context))
                block.norm1.applyInPlace(&x)
                addInPlace(&x, mlp(block, x))
                block.norm2.applyInPlace(&x)
            case .gpt2:
                let layerScale = config.scaleByInverseLayer ? scale / Float(l + 1) : scale
                let context = attention(
                    block.qkv.apply(block.norm1.apply(x)), layout: .blocks, heads: config.heads, headSize: config.headSize, sequences: ranges,
                    mask: AttentionMask(causal: true), scale: layerScale)
                addInPlace(&x, block.output.apply(context))
                addInPlace(&x, mlp(block, block.norm2.apply(x)))
            case .gptNeoX:
                var qkv = block.qkv.apply(block.norm1.apply(x))
                if let rotary {
                    let columns = (0..<config.heads).flatMap { head in
                        let c = QKVLayout.interleaved.columns(head: head, headSize: config.headSize, heads: config.heads)
                        return [c.q, c.k]
                    }
                    rotary.rotate(&qkv, columns: columns, sequences: ranges)
                }
                let attended = block.output.apply(
                    attention(
                        qkv, layout: .interleaved, heads: config.heads, headSize: config.headSize, sequences: ranges,
                        mask: AttentionMask(causal: true), scale: scale))
                if config.parallelResidual {
                    let m = mlp(block, block.norm2.apply(x))
                    addInPlace(&x, attended)
                    addInPlace(&x, m)
                } else {
                    addInPlace(&x, attended)
                    addInPlace(&x, mlp(block, block.norm2.apply(x)))
                }
            }
            if l == blocks.count - 1 { finalNorm?.applyInPlace(&x) }
            record(l + 1, &x)
        }
        for (layer, state) in states.enumerated() where !state.allFinite {
            throw ModelError(
                .malformed, folder, "layer \(layer) of the forward pass holds NaN or infinity: the checkpoint's weights or config.json are broken")
        }
        return states
    }

    private func mlp(_ block: Block, _ input: Matrix<Float>) -> Matrix<Float> {
        var inner = block.up.apply(input)
        config.activation.applyInPlace(&inner)
        return block.down.apply(inner)
    }

    /// The head's scores for rows `rows` of the last layer's hidden states: vocabulary logits
    /// (language models) or class logits (classifiers: pass each sequence's pooled row,
    /// `pooledRow(of:)`). Nil when the checkpoint has no head Sonde runs.
    func headLogits(_ last: Matrix<Float>, rows: [Int]) -> Matrix<Float>? {
        guard let outputProjection else { return nil }
        var selected = last.rows(rows)
        switch head {
        case .languageModel:
            if let (dense, norm) = maskedLMTransform {
                selected = dense.apply(selected)
                config.activation.applyInPlace(&selected)
                norm.applyInPlace(&selected)
            }
        case .sequenceClassifier:
            if let pooler {
                selected = pooler.apply(selected)
                selected.withUnsafeMutableBufferPointer { p in for i in 0..<p.count { p[i] = tanhf(p[i]) } }
            }
        case .none:
            return nil
        }
        var logits = outputProjection.apply(selected)
        if case .languageModel = head, let cap = config.decoder?.finalSoftcap.map({ Float($0) }) {
            logits.withUnsafeMutableBufferPointer { p in for i in 0..<p.count { p[i] = cap * tanhf(p[i] / cap) } }
        }
        return logits
    }

    /// The row a sequence classifier reads: BERT's first token ([CLS]), GPT's last.
    func pooledRow(of sequence: Range<Int>) -> Int {
        config.architecture.isEncoder ? sequence.lowerBound : sequence.upperBound - 1
    }
}
