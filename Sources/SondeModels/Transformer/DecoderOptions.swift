import Foundation

/// What the rotary decoder families (Llama, Mistral, Qwen2/3, OLMo-2, Gemma-2) add to a
/// config.json, read under the names their checkpoints use (transformers 5's `rope_parameters` and
/// the older `rope_scaling` with a top-level `rope_theta`; Gemma-2's `hidden_activation`).
public struct DecoderOptions: Sendable, Codable {
    /// Grouped-query attention: every `heads / keyValueHeads` query heads share a key and value head.
    public var keyValueHeads: Int
    public var headSize: Int
    public var rope: RopeScaling
    public var ropeBase: Double
    /// A query sees itself and the `window − 1` tokens before it, on the layers marked sliding.
    public var slidingWindow: Int?
    public var slidingLayers: [Bool]
    /// Biases on the query, key and value projections; on the output projection; on the MLP.
    public var attentionBias: Bool
    public var outputBias: Bool
    public var mlpBias: Bool
    public var queryKeyNorm: QueryKeyNorm
    /// Gemma-2: scores become cap·tanh(score/cap) before the softmax; logits likewise.
    public var attentionSoftcap: Double?
    public var finalSoftcap: Double?
    /// What q·k is multiplied by: 1/√head_dim, Gemma-2's 1/√query_pre_attn_scalar.
    public var queryScale: Double
    /// Gemma-2: the embeddings are multiplied by √hidden, and RMSNorm by (1 + w).
    public var gemmaScaling: Bool
    public var tiedEmbeddings: Bool
    /// `bos_token_id`: what a sentence is scored after (Llama's `<s>`, Gemma's `<bos>`).
    public var startToken: Int?

    public enum QueryKeyNorm: String, Sendable, Codable {
        case none
        /// Qwen3: RMSNorm over each head's query and key.
        case perHead
        /// OLMo-2: RMSNorm over the whole query projection and the whole key projection.
        case projection
    }

    /// The rotary scalings in use (`rope_type`).
    public enum RopeScaling: Sendable, Codable, Equatable {
        case none
        case linear(factor: Double)
        /// NTK scaling for sequences beyond `max_position_embeddings`; Sonde's windows never are,
        /// where transformers uses the unscaled frequencies too.
        case dynamic(factor: Double)
        case yarn(factor: Double, original: Double, attentionFactor: Double, betaFast: Double, betaSlow: Double, truncate: Bool)
        case llama3(factor: Double, lowFrequencyFactor: Double, highFrequencyFactor: Double, original: Double)
    }

    /// The inverse frequencies of the rotating pairs and the factor on cos and sin, as
    /// transformers' `ROPE_INIT_FUNCTIONS` compute them.
    func rotaryFrequencies() -> (frequencies: [Double], scale: Double) {
        let dimensions = headSize  // whole heads rotate in these families
        let d = Double(dimensions)
        let base = (0..<(dimensions / 2)).map { 1 / pow(ropeBase, Double(2 * $0) / d) }
        switch rope {
        case .none, .dynamic: return (base, 1)
        case .linear(let factor): return (base.map { $0 / factor }, 1)
        case let .llama3(factor, low, high, original):
            let (lowWavelength, highWavelength) = (original / low, original / high)
            return (
                base.map { f in
                    let wavelength = 2 * Double.pi / f
                    if wavelength < highWavelength { return f }
                    if wavelength > lowWavelength { return f / factor }
                    let smooth = (original / wavelength - low) / (high - low)
                    return (1 - smooth) * f / factor + smooth * f
                }, 1
            )
        case let .yarn(factor, original, attentionFactor, betaFast, betaSlow, truncate):
            func correction(_ rotations: Double) -> Double { d * log(original / (rotations * 2 * Double.pi)) / (2 * log(ropeBase)) }
            var (low, high) = (correction(betaFast), correction(betaSlow))
            if truncate { (low, high) = (floor(low), ceil(high)) }
            (low, high) = (max(low, 0), min(high, d - 1))
            if low == high { high += 0.001 }
            return (
                base.enumerated().map { i, f in
                    let ramp = min(max((Double(i) - low) / (high - low), 0), 1)
                    let extrapolation = 1 - ramp
                    return f / factor * (1 - extrapolation) + f * extrapolation
                }, attentionFactor
            )
        }
    }
}

extension DecoderOptions {
    /// Reads the decoder fields of `json` for `architecture`; `fail(field, message)` makes the error.
    init(json: [String: Any], architecture: Architecture, hidden: Int, heads: Int, layers: Int, positions: Int, path: String) throws {
        func fail(_ field: String, _ message: String) -> ModelError { ModelError(.malformed, path, "\(field): \(message)") }
        func number(_ value: Any?) -> Double? { (value as? Double) ?? (value as? Int).map(Double.init) }
        keyValueHeads = (json["num_key_value_heads"] as? Int) ?? heads
        guard keyValueHeads >= 1, heads % keyValueHeads == 0 else {
            throw fail("num_key_value_heads", "\(keyValueHeads) key-value heads do not divide the \(heads) query heads")
        }
        if let explicit = json["head_dim"] as? Int {
            headSize = explicit
        } else if architecture == .gemma2 || architecture == .qwen3 {
            headSize = architecture == .gemma2 ? 256 : 128  // their config classes' defaults
        } else {
            guard hidden % heads == 0 else {
                throw fail("num_attention_heads", "\(heads) heads do not divide the hidden size \(hidden); give head_dim")
            }
            headSize = hidden / heads
        }
        guard (2...65_536).contains(headSize), headSize % 2 == 0 else { throw fail("head_dim", "\(headSize) is not an even number in 2…65536") }
        // transformers 5: rope_parameters {rope_type, rope_theta, factor, …}; before: rope_scaling
        // {type or rope_type, factor, …} and a top-level rope_theta. With both, transformers
        // reads rope_scaling.
        let parameters = (json["rope_scaling"] as? [String: Any]) ?? (json["rope_parameters"] as? [String: Any]) ?? [:]
        let field = json["rope_scaling"] is [String: Any] ? "rope_scaling" : "rope_parameters"
        ropeBase = number(parameters["rope_theta"]) ?? number(json["rope_theta"]) ?? 10_000
        guard ropeBase.isFinite, ropeBase > 1 else {
            throw fail(parameters["rope_theta"] != nil ? "\(field).rope_theta" : "rope_theta", "\(ropeBase) is not a finite number above 1")
        }
        // These families rotate whole heads; transformers has no partial rotation for them.
        if let partial = number(parameters["partial_rotary_factor"]) ?? number(json["partial_rotary_factor"]), partial != 1 {
            throw ModelError(
                .unsupported, path,
                "partial_rotary_factor: \(partial); \(architecture.rawValue) rotates whole heads in transformers, and Sonde will not guess")
        }
        func positive(_ key: String, default value: Double? = nil) throws -> Double {
            guard let v = number(parameters[key]) ?? value else { throw fail("\(field).\(key)", "missing") }
            guard v.isFinite, v > 0 else { throw fail("\(field).\(key)", "\(v) is not a positive number") }
            return v
        }
        let kind = (parameters["rope_type"] as? String) ?? (parameters["type"] as? String) ?? "default"
        switch kind {
        case "default": rope = .none
        case "linear": rope = .linear(factor: try positive("factor"))
        case "dynamic": rope = .dynamic(factor: try positive("factor"))
        case "llama3":
            let (low, high) = (try positive("low_freq_factor"), try positive("high_freq_factor"))
            guard high > low else { throw fail("\(field).high_freq_factor", "\(high) is not above low_freq_factor \(low)") }
            rope = .llama3(
                factor: try positive("factor"), lowFrequencyFactor: low, highFrequencyFactor: high,
                original: try positive("original_max_position_embeddings", default: Double(positions)))
        case "yarn":
            let factor = try positive("factor"), original = try positive("original_max_position_embeddings", default: Double(positions))
            func mscale(_ scale: Double, _ m: Double) -> Double { scale <= 1 ? 1 : 0.1 * m * log(scale) + 1 }
            var attention = try positive("attention_factor", default: mscale(factor, 1))
            if parameters["attention_factor"] == nil, let m = number(parameters["mscale"]), let all = number(parameters["mscale_all_dim"]), m != 0,
                all != 0
            {
                attention = mscale(factor, m) / mscale(factor, all)
            }
            rope = .yarn(
                factor: factor, original: original, attentionFactor: attention, betaFast: try positive("beta_fast", default: 32),
                betaSlow: try positive("beta_slow", default: 1), truncate: (parameters["truncate"] as? Bool) ?? true)
        default:
            throw ModelError(
                .unsupported, path, "\(field).rope_type: '\(kind)' is not supported (default, linear, dynamic, yarn, llama3)")
        }
        // Sliding windows as each family's modelling code applies them: Llama and OLMo-2 never;
        // Mistral on every layer when sliding_window is not null (layer_types ignored); Qwen2/3
        // only with use_sliding_window, then by layer_types or from max_window_layers on; Gemma-2
        // by layer_types or every other layer from the first. A missing window is 4,096.
        let windowKey = json["sliding_window"]
        let window = windowKey == nil ? 4096 : windowKey as? Int
        if let w = window, w < 1 { throw fail("sliding_window", "\(w) is not a positive number of tokens") }
        func typed() throws -> [Bool]? {
            guard let types = json["layer_types"] as? [Any] else { return nil }
            guard types.count == layers else { throw fail("layer_types", "\(types.count) entries for \(layers) layers") }
            return try types.map { type in
                switch type as? String {
                case "sliding_attention": return true
                case "full_attention": return false
                default: throw fail("layer_types", "'\(type)' is not sliding_attention or full_attention")
                }
            }
        }
        switch architecture {
        case .mistral:
            slidingWindow = window
            slidingLayers = Array(repeating: window != nil, count: layers)
        case .qwen2, .qwen3:
            let on = (json["use_sliding_window"] as? Bool) ?? false, first = (json["max_window_layers"] as? Int) ?? 28
            slidingWindow = on ? window : nil
            slidingLayers = try typed() ?? (0..<layers).map { $0 >= first }
            if !on { slidingLayers = Array(repeating: false, count: layers) }
        case .gemma2:
            slidingWindow = window
            slidingLayers = try typed() ?? (0..<layers).map { $0 % 2 == 0 }
        default:
            slidingWindow = nil
            slidingLayers = Array(repeating: false, count: layers)
        }
        if slidingLayers.contains(true), slidingWindow == nil {
            throw fail("sliding_window", "null, yet some layers attend through a sliding window")
        }
        if !slidingLayers.contains(true) { slidingWindow = nil }
        // Biases as the families' modules have them: Qwen2 on q/k/v; Mistral none; mlp_bias Llama's.
        let bias = (json["attention_bias"] as? Bool) ?? false
        switch architecture {
        case .qwen2: (attentionBias, outputBias) = (true, false)
        case .mistral: (attentionBias, outputBias) = (false, false)
        default: (attentionBias, outputBias) = (bias, bias)
        }
        mlpBias = architecture == .llama ? (json["mlp_bias"] as? Bool) ?? false : false
        queryKeyNorm = architecture == .qwen3 ? .perHead : architecture == .olmo2 ? .projection : .none
        gemmaScaling = architecture == .gemma2
        func softcap(_ key: String, default fallback: Double) throws -> Double? {
            guard architecture == .gemma2 else { return nil }
            guard let value = json[key] else { return fallback }  // Gemma2Config's defaults
            if value is NSNull { return nil }
            guard let v = number(value), v.isFinite, v > 0 else { throw fail(key, "\(value) is not a positive number") }
            return v
        }
        attentionSoftcap = try softcap("attn_logit_softcapping", default: 50)
        finalSoftcap = try softcap("final_logit_softcapping", default: 30)
        if architecture == .gemma2 {
            let scalar = number(json["query_pre_attn_scalar"]) ?? 256
            guard scalar.isFinite, scalar > 0 else { throw fail("query_pre_attn_scalar", "\(scalar) is not a positive number") }
            queryScale = 1 / scalar.squareRoot()
        } else {
            queryScale = 1 / Double(headSize).squareRoot()
        }
        tiedEmbeddings = (json["tie_word_embeddings"] as? Bool) ?? (architecture == .gemma2)
        startToken = json["bos_token_id"] as? Int
    }
}
