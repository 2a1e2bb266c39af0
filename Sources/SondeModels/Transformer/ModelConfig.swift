import Foundation

/// The transformer families Sonde runs, by their `model_type` in `config.json`.
public enum Architecture: String, Sendable, CaseIterable, Codable {
    /// BERT and its post-LayerNorm encoders (MiniLM and sentence-transformers exports).
    case bert
    /// RoBERTa: BERT's layers, positions counted from `pad_token_id + 1`.
    case roberta
    /// GPT-2: pre-LayerNorm decoder, Conv1D weights stored [in, out], final `ln_f`.
    case gpt2
    /// GPT-NeoX / Pythia: rotary positions on part of each head, parallel attention + MLP.
    case gptNeoX = "gpt_neox"
    /// The rotary decoders with RMSNorm and gated MLPs (`DecoderOptions` has their differences):
    /// Llama 1–3, Mistral (sliding window), Qwen2/2.5 (q/k/v biases), Qwen3 (per-head q/k norm),
    /// OLMo-2 (norms after attention and MLP), Gemma-2 (soft-capping, sandwich norms).
    case llama, mistral, qwen2, qwen3, olmo2, gemma2

    var isEncoder: Bool { self == .bert || self == .roberta }
    var isRotaryDecoder: Bool { [.llama, .mistral, .qwen2, .qwen3, .olmo2, .gemma2].contains(self) }
}

/// The activation inside the MLP.
public enum Activation: String, Sendable, Codable {
    /// x·Φ(x) with the error function (BERT's and GPT-NeoX's "gelu").
    case gelu
    /// The tanh approximation (GPT-2's "gelu_new", "gelu_pytorch_tanh").
    case geluTanh
    case relu
    /// x·σ(x): the gated MLPs of Llama and its kin ("silu", "swish").
    case silu
}

/// The hyper-parameters of a Hugging Face `config.json` that the forward pass needs, under one
/// set of names whatever the family calls them.
public struct ModelConfig: Sendable, Codable {
    public var architecture: Architecture
    public var hiddenSize: Int
    public var layers: Int
    public var heads: Int
    public var intermediateSize: Int
    public var maxPositions: Int
    public var vocabularySize: Int
    public var layerNormEpsilon: Float
    public var activation: Activation
    /// BERT: how many token types (segment embeddings) exist; the probe feeds type 0.
    public var tokenTypes: Int
    /// RoBERTa counts positions from `padTokenID + 1`; 0 elsewhere.
    public var positionOffset: Int
    /// GPT-NeoX: the share of each head's dimensions that rotate, and the rotary base.
    public var rotaryFraction: Double
    public var rotaryBase: Double
    /// GPT-NeoX: attention and MLP read the same input (Pythia) or run one after the other.
    public var parallelResidual: Bool
    /// GPT-2: attention scores also divided by the layer number (`scale_attn_by_inverse_layer_idx`).
    public var scaleByInverseLayer: Bool
    /// Class names of a sequence-classification head, by index (empty without one).
    public var classLabels: [String]
    /// The rotary decoder families' fields; nil for BERT, RoBERTa, GPT-2 and GPT-NeoX.
    public var decoder: DecoderOptions?

    public var headSize: Int { decoder?.headSize ?? hiddenSize / heads }

    /// The largest sizes a config.json may declare: well above every published checkpoint
    /// (GPT-3's 12,288 hidden, 96 layers, 256k vocabularies), far below what would exhaust
    /// memory from the config alone.
    static let limits = (hidden: 65_536, layers: 1_024, inner: 262_144, positions: 1 << 20, vocabulary: 1 << 22, tokenTypes: 1_024)

    /// Reads `config.json`.
    public static func read(_ path: String) throws -> ModelConfig {
        let json = try readJSONObject(path, missing: "cannot read the model's config.json; point --model at a Hugging Face model folder")
        return try ModelConfig(json: json, path: path)
    }

    init(json: [String: Any], path: String) throws {
        func fail(_ message: String) -> ModelError { ModelError(.malformed, path, message) }
        func int(_ keys: String...) throws -> Int {
            for key in keys { if let v = json[key] as? Int { return v } }
            throw fail("missing integer \(keys.joined(separator: " or "))")
        }
        func number(_ keys: [String], in dictionary: [String: Any]? = nil, default value: Double) -> Double {
            for key in keys { if let v = (dictionary ?? json)[key] as? Double { return v } }
            return value
        }
        guard let type = json["model_type"] as? String else { throw fail("no model_type") }
        guard let architecture = Architecture(rawValue: type) else {
            throw ModelError(
                .unsupported, path,
                "model_type '\(type)' is not supported; Sonde runs \(Architecture.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        self.architecture = architecture
        hiddenSize = try int("hidden_size", "n_embd")
        layers = try int("num_hidden_layers", "n_layer")
        heads = try int("num_attention_heads", "n_head")
        intermediateSize = (json["intermediate_size"] as? Int) ?? (json["n_inner"] as? Int) ?? 4 * hiddenSize
        maxPositions = try int("max_position_embeddings", "n_positions")
        vocabularySize = try int("vocab_size")
        // Defaults as transformers' config classes: OLMo-2 1e-5, the other rotary decoders 1e-6.
        let epsilon = number(
            ["layer_norm_eps", "layer_norm_epsilon", "rms_norm_eps"],
            default: architecture == .olmo2 ? 1e-5 : architecture.isRotaryDecoder ? 1e-6 : 1e-12)
        layerNormEpsilon = Float(epsilon)
        let act =
            (json["hidden_activation"] as? String) ?? (json["hidden_act"] as? String) ?? (json["activation_function"] as? String)
            ?? (architecture.isRotaryDecoder ? "silu" : "gelu")
        switch act {
        case "gelu": activation = .gelu
        case "gelu_new", "gelu_pytorch_tanh", "gelu_fast": activation = .geluTanh
        case "relu": activation = .relu
        case "silu", "swish": activation = .silu
        default: throw ModelError(.unsupported, path, "activation '\(act)' is not supported (gelu, gelu_new, gelu_pytorch_tanh, relu, silu)")
        }
        tokenTypes = (json["type_vocab_size"] as? Int) ?? 0
        let padTokenID = (json["pad_token_id"] as? Int) ?? 1
        positionOffset = architecture == .roberta ? padTokenID + 1 : 0
        // transformers 5 writes rope_parameters {partial_rotary_factor, rope_theta}; Pythia's own
        // configs say rotary_pct and rotary_emb_base.
        let rope = json["rope_parameters"] as? [String: Any]
        rotaryFraction =
            rope.map { number(["partial_rotary_factor"], in: $0, default: 1) }
            ?? number(["rotary_pct", "partial_rotary_factor"], default: 1)
        rotaryBase =
            rope.map { number(["rope_theta"], in: $0, default: 10000) }
            ?? number(["rotary_emb_base", "rope_theta"], default: 10000)
        if !architecture.isRotaryDecoder, let kind = rope?["rope_type"] as? String, kind != "default" {
            throw ModelError(.unsupported, path, "rope_type '\(kind)' is not supported (only the default rotary embedding)")
        }
        // Every value that sizes a buffer or scales a computation, checked once: a file from a
        // stranger must not make the forward pass read or write out of bounds or yield NaN.
        let limits = ModelConfig.limits
        func require(_ condition: Bool, _ field: String, _ message: String) throws {
            guard condition else { throw fail("\(field): \(message)") }
        }
        try require((1...limits.hidden).contains(hiddenSize), "hidden_size", "\(hiddenSize) is not in 1…\(limits.hidden)")
        try require((1...limits.layers).contains(layers), "num_hidden_layers", "\(layers) is not in 1…\(limits.layers)")
        try require(
            heads >= 1 && (architecture.isRotaryDecoder || hiddenSize % heads == 0), "num_attention_heads",
            "\(heads) heads do not divide the hidden size \(hiddenSize)")
        try require((1...limits.inner).contains(intermediateSize), "intermediate_size", "\(intermediateSize) is not in 1…\(limits.inner)")
        try require((1...limits.positions).contains(maxPositions), "max_position_embeddings", "\(maxPositions) is not in 1…\(limits.positions)")
        try require((1...limits.vocabulary).contains(vocabularySize), "vocab_size", "\(vocabularySize) is not in 1…\(limits.vocabulary)")
        try require(
            epsilon.isFinite && epsilon > 0 && layerNormEpsilon > 0 && epsilon < 1, "layer_norm_eps",
            "\(epsilon) is not a positive number below 1 (in Float)")
        try require((0...limits.tokenTypes).contains(tokenTypes), "type_vocab_size", "\(tokenTypes) is not in 0…\(limits.tokenTypes)")
        if architecture == .roberta {
            try require(
                padTokenID >= 0 && positionOffset + 2 < maxPositions, "pad_token_id",
                "\(padTokenID) leaves no positions: RoBERTa counts them from pad_token_id + 1, below max_position_embeddings \(maxPositions)")
        }
        if architecture == .gptNeoX {
            let rotated = Double(hiddenSize / heads) * rotaryFraction
            try require(
                rotaryFraction.isFinite && rotaryFraction > 0 && rotaryFraction <= 1 && rotated >= 2, "partial_rotary_factor (rotary_pct)",
                "\(rotaryFraction) is not in (0, 1] with at least 2 of the head's \(hiddenSize / heads) dimensions rotated")
            try require(rotaryBase.isFinite && rotaryBase > 1, "rope_theta (rotary_emb_base)", "\(rotaryBase) is not a finite number above 1")
        }
        decoder =
            architecture.isRotaryDecoder
            ? try DecoderOptions(
                json: json, architecture: architecture, hidden: hiddenSize, heads: heads, layers: layers, positions: maxPositions, path: path) : nil
        if let start = decoder?.startToken {
            try require((0..<vocabularySize).contains(start), "bos_token_id", "\(start) is not in 0…\(vocabularySize - 1)")
        }
        parallelResidual = (json["use_parallel_residual"] as? Bool) ?? true
        scaleByInverseLayer = (json["scale_attn_by_inverse_layer_idx"] as? Bool) ?? false
        if let labels = json["id2label"] as? [String: String] {
            classLabels = labels.sorted { Int($0.key) ?? 0 < Int($1.key) ?? 0 }.map(\.value)
        } else {
            classLabels = []
        }
    }
}
