import Foundation
import SondeLinalg
import Testing

@testable import SondeModels

/// The rotary decoder families' config fields: each one is read (changing it changes what the
/// model computes, so a forward pass that ignored it would fail `FixtureModelTests`), and each
/// hostile value is refused with the field's name.
struct DecoderConfigTests {
    /// A copy of fixture `name` with `edit` applied to its config.json.
    private func edited(_ name: String, _ edit: (inout [String: Any]) -> Void, _ body: (String) throws -> Void) throws {
        let folder = NSTemporaryDirectory() + "sonde-decoder-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try FileManager.default.copyItem(atPath: modelFixtures + "/\(name)/model.safetensors", toPath: folder + "/model.safetensors")
        var config =
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: modelFixtures + "/\(name)/config.json"))) as! [String: Any]
        edit(&config)
        try JSONSerialization.data(withJSONObject: config).write(to: URL(fileURLWithPath: folder + "/config.json"))
        try body(folder)
    }

    /// The last layer's states and the logits of a 13-token sequence (longer than every window).
    private func outputs(_ folder: String) throws -> [Float] {
        let network = try TransformerNetwork(folder: folder)
        let ids = [5, 17, 3, 60, 22, 9, 41, 8, 30, 12, 55, 2, 19]
        let states = try network.hiddenStates([ids])
        return states.last!.elements + (network.headLogits(states.last!, rows: Array(ids.indices))?.elements ?? [])
    }

    static let fields: [(fixture: String, field: String, edit: @Sendable (inout [String: Any]) -> Void)] = [
        ("llama-gqa-llama3", "rms_norm_eps", { $0["rms_norm_eps"] = 0.5 }),
        (
            "llama-gqa-llama3", "rope_parameters.rope_theta",
            { c in
                var r = c["rope_parameters"] as! [String: Any]; r["rope_theta"] = 50.0; c["rope_parameters"] = r
            }
        ),
        (
            "llama-gqa-llama3", "rope_parameters.factor (llama3)",
            { c in
                var r = c["rope_parameters"] as! [String: Any]; r["factor"] = 2.0; c["rope_parameters"] = r
            }
        ),
        (
            "llama-gqa-llama3", "rope_parameters.high_freq_factor",
            { c in
                var r = c["rope_parameters"] as! [String: Any]; r["high_freq_factor"] = 1.5; c["rope_parameters"] = r
            }
        ),
        ("llama-yarn-tied-legacy", "rope_theta (top level)", { $0["rope_theta"] = 100.0 }),
        (
            "llama-yarn-tied-legacy", "rope_scaling.factor (yarn)",
            { c in
                var r = c["rope_scaling"] as! [String: Any]; r["factor"] = 16.0; c["rope_scaling"] = r
            }
        ),
        ("mistral-window", "sliding_window", { $0["sliding_window"] = 2 }),
        (
            "mistral-window", "rope_parameters.factor (linear)",
            { c in
                var r = c["rope_parameters"] as! [String: Any]; r["factor"] = 5.0; c["rope_parameters"] = r
            }
        ),
        ("qwen3-qknorm", "layer_types", { $0["layer_types"] = ["full_attention", "full_attention"] }),
        ("gemma2-bf16", "attn_logit_softcapping", { $0["attn_logit_softcapping"] = 0.5 }),
        ("gemma2-bf16", "final_logit_softcapping", { $0["final_logit_softcapping"] = 1.0 }),
        ("gemma2-bf16", "query_pre_attn_scalar", { $0["query_pre_attn_scalar"] = 64 }),
        ("gemma2-bf16", "hidden_activation", { $0["hidden_activation"] = "silu" }),
        ("gemma2-bf16", "rms_norm_eps", { $0["rms_norm_eps"] = 0.5 }),
    ]

    @Test(arguments: fields.indices)
    func everyFieldIsRead(_ index: Int) throws {
        let (fixture, field, edit) = Self.fields[index]
        let plain = try outputs(modelFixtures + "/" + fixture)
        try edited(fixture, edit) { folder in
            let changed = try outputs(folder)
            let scale = plain.map(abs).max()!
            let difference = zip(plain, changed).map { abs($0 - $1) }.max()! / scale
            #expect(difference > 1e-4, "\(fixture): changing \(field) moved the outputs by only \(difference)")
        }
    }

    static let hostile: [(fixture: String, field: String, edit: @Sendable (inout [String: Any]) -> Void)] = [
        ("mistral-window", "sliding_window", { $0["sliding_window"] = -3 }),
        (
            "llama-yarn-tied-legacy", "num_attention_heads",
            { c in
                c["num_attention_heads"] = 3; c["num_key_value_heads"] = 3; c.removeValue(forKey: "head_dim")
            }
        ),
        ("llama-gqa-llama3", "num_key_value_heads", { $0["num_key_value_heads"] = 3 }),
        ("llama-gqa-llama3", "head_dim", { $0["head_dim"] = 7 }),
        ("gemma2-bf16", "attn_logit_softcapping", { $0["attn_logit_softcapping"] = 0 }),
        ("gemma2-bf16", "final_logit_softcapping", { $0["final_logit_softcapping"] = -30.0 }),
        ("gemma2-bf16", "query_pre_attn_scalar", { $0["query_pre_attn_scalar"] = -1 }),
        (
            "llama-gqa-llama3", "rope_parameters.rope_type",
            { c in
                var r = c["rope_parameters"] as! [String: Any]; r["rope_type"] = "longrope"; c["rope_parameters"] = r
            }
        ),
        (
            "llama-gqa-llama3", "rope_parameters.high_freq_factor",
            { c in
                var r = c["rope_parameters"] as! [String: Any]; r["high_freq_factor"] = 1.0; c["rope_parameters"] = r
            }
        ),
        (
            "llama-yarn-tied-legacy", "rope_scaling.factor",
            { c in
                var r = c["rope_scaling"] as! [String: Any]; r["factor"] = -4.0; c["rope_scaling"] = r
            }
        ),
        ("qwen3-qknorm", "layer_types", { $0["layer_types"] = ["full_attention"] }),
        (
            "olmo2", "rope_parameters.rope_theta",
            { c in
                var r = c["rope_parameters"] as! [String: Any]; r["rope_theta"] = 0.5; c["rope_parameters"] = r
            }
        ),
        ("llama-gqa-llama3", "partial_rotary_factor", { $0["partial_rotary_factor"] = 0.5 }),
    ]

    /// Fields a family's modelling code ignores or defaults, read as it does: Llama never uses a
    /// window whatever layer_types says; Gemma-2 without soft-cap keys caps at 50 and 30.
    @Test func familyDefaultsAndIgnoredFields() throws {
        let plainLlama = try outputs(modelFixtures + "/llama-gqa-llama3")
        try edited(
            "llama-gqa-llama3",
            { c in
                c["layer_types"] = ["sliding_attention", "sliding_attention"]
                c["sliding_window"] = 2
            }
        ) { folder in
            let windowed = try outputs(folder)
            #expect(windowed == plainLlama)
        }
        var explicit: [Float] = []
        try edited(
            "gemma2-bf16",
            { c in
                c["attn_logit_softcapping"] = 50.0
                c["final_logit_softcapping"] = 30.0
            }
        ) { explicit = try outputs($0) }
        try edited(
            "gemma2-bf16",
            { c in
                c.removeValue(forKey: "attn_logit_softcapping")
                c.removeValue(forKey: "final_logit_softcapping")
            }
        ) { folder in
            let defaulted = try outputs(folder)
            #expect(defaulted == explicit)
        }
    }

    @Test(arguments: hostile.indices)
    func hostileFieldsAreRefusedByName(_ index: Int) throws {
        let (fixture, field, edit) = Self.hostile[index]
        try edited(fixture, edit) { folder in
            let error = try #require(throws: ModelError.self) { try TransformerNetwork(folder: folder) }
            #expect(error.description.contains(field), "\(error.description) does not name \(field)")
            #expect(error.description.contains(folder + "/config.json"))
        }
    }
}

/// The unembedding gradient's row: ±∂ ln softmax(cap·tanh(z/cap))_t / ∂z against central
/// differences in Double, with and without a soft-cap.
@Test(arguments: [nil, 3.0] as [Double?])
func logProbabilityGradientMatchesFiniteDifferences(softcap: Double?) {
    let z: [Double] = [0.3, -1.2, 2.5, 0.0, 4.1, -3.3, 1.7]
    let target = 2
    func logProbability(_ z: [Double]) -> Double {
        let l = z.map { v in softcap.map { $0 * tanh(v / $0) } ?? v }
        let top = l.max()!
        return l[target] - top - log(l.reduce(0) { $0 + exp($1 - top) })
    }
    var row = z.map { v in Float(softcap.map { $0 * tanh(v / $0) } ?? v) }
    row.withUnsafeMutableBufferPointer { p in
        TransformerModel.logProbabilityGradient(p.baseAddress!, width: z.count, target: target, sign: -1, softcap: softcap.map { Float($0) })
    }
    for j in z.indices {
        var (up, down) = (z, z)
        up[j] += 1e-5
        down[j] -= 1e-5
        let numeric = -(logProbability(up) - logProbability(down)) / 2e-5
        #expect(abs(Double(row[j]) - numeric) < 1e-5, "coordinate \(j): \(row[j]) against \(numeric)")
    }
}

/// A decoder family through the model contract with a tokenizer Sonde reads (a 60-token
/// WordPiece over letters, made here): extraction with an ablation inside the forward pass, the
/// sentence log-probabilities after `bos_token_id` as the network's own head gives them (with
/// Gemma-2's final soft-capping), minimal pairs and the model's own loss.
@Test func decoderFamilyThroughTheModelContract() throws {
    let folder = NSTemporaryDirectory() + "sonde-decoder-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: folder) }
    let letters = "abcdefghijklmnopqrstuvwxyz".map(String.init)
    let vocabulary = ["[PAD]", "[UNK]", "[BOS]", "[EOS]"] + letters + letters.map { "##" + $0 }
    let tokenizer: [String: Any] = [
        "version": "1.0", "normalizer": ["type": "BertNormalizer", "lowercase": true], "pre_tokenizer": ["type": "BertPreTokenizer"],
        "model": [
            "type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##", "max_input_chars_per_word": 100,
            "vocab": Dictionary(uniqueKeysWithValues: vocabulary.enumerated().map { ($1, $0) }),
        ],
    ]
    try JSONSerialization.data(withJSONObject: tokenizer).write(to: URL(fileURLWithPath: folder + "/tokenizer.json"))
    let model = try TransformerModel(folder: modelFixtures + "/gemma2-bf16", tokenizer: folder + "/tokenizer.json")
    let sentences = [["The", "cat", "sat"], ["a", "dog"]]
    var plain: [[Matrix<Float>]] = [], ablated: [[Matrix<Float>]] = []
    try model.extract(sentences, layers: [1, 2], aggregate: .last) { _, v in plain.append(v) }
    let ablation = NeuronAblation(layer: 1, neurons: [0, 5], values: [0, 0])
    try model.extract(sentences, layers: [1, 2], aggregate: .last, ablations: [ablation], progress: { _ in }) { _, v in ablated.append(v) }
    #expect(plain.map { $0[0].rows } == [3, 2] && plain[0][0].columns == 16)
    #expect(ablated.allSatisfy { v in (0..<v[0].rows).allSatisfy { v[0][$0, 0] == 0 && v[0][$0, 5] == 0 } })
    #expect(zip(plain[0][1].elements, ablated[0][1].elements).contains { abs($0 - $1) > 1e-4 })

    // "the cat sat" after [BOS]: each token's log-probability from the head's logits.
    let scored = try model.logProbabilities([SentenceText(text: "the cat sat", words: [])])[0]
    let ids = try ["the", "cat", "sat"].flatMap { try model.tokenizer.encode(word: $0) }
    let start = try #require(model.network.config.decoder?.startToken)
    let sequence = [start] + ids
    let states = try model.network.hiddenStates([sequence])
    let logits = try #require(model.network.headLogits(states.last!, rows: Array(0..<ids.count)))
    var expected = 0.0
    for (i, target) in ids.enumerated() {
        let row = (0..<logits.columns).map { Double(logits[i, $0]) }
        let top = row.max()!
        expected += row[target] - top - log(row.reduce(0) { $0 + exp($1 - top) })
    }
    #expect(scored.logProbabilities.count == ids.count && abs(scored.total - expected) < 1e-4)
    // Soft-capped logits stay inside ±3 (final_logit_softcapping).
    #expect(logits.elements.allSatisfy { abs($0) <= 3 })
    let pairs = try model.pairLogProbabilities([
        (good: SentenceText(text: "the cat sat", words: []), bad: SentenceText(text: "cat the sat", words: []))
    ])
    #expect(abs(pairs[0].good.total - scored.total) < 1e-4)
    let score = try model.score(sentences)
    #expect(score.task == "next-token" && score.loss.isFinite && score.predictions > 0)
}
