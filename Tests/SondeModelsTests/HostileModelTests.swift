import Foundation
import SondeLinalg
import Testing

@testable import SondeModels

/// Model folders and tokenizers from strangers: every value that sizes or scales the forward
/// pass is checked at load with a message naming the file and the field, and nothing in them can
/// make the forward pass read or write out of bounds or hand out NaN.
struct HostileModelTests {
    /// A copy of fixture `name` in a fresh folder, with config.json's keys replaced by `changes`.
    private func variant(_ name: String, _ changes: [String: Any]) throws -> String {
        let folder = NSTemporaryDirectory() + "sonde-hostile-\(UUID().uuidString)"
        try FileManager.default.copyItem(atPath: modelFixtures + "/" + name, toPath: folder)
        let path = folder + "/config.json"
        var json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as! [String: Any]
        for (key, value) in changes { json[key] = value }
        try JSONSerialization.data(withJSONObject: json).write(to: URL(fileURLWithPath: path))
        return folder
    }

    private func loadError(_ folder: String) -> String? {
        defer { try? FileManager.default.removeItem(atPath: folder) }
        do { _ = try TransformerNetwork(folder: folder); return nil } catch { return "\(error)" }
    }

    /// Each (key, value) → the field the message must name. Rotary factors above 1 wrote past
    /// the head's buffer, negative ones crashed, a non-positive base or epsilon gave NaN.
    @Test(
        arguments: [
            ("rotary_pct", 5.0, "partial_rotary_factor"), ("rotary_pct", 1.25, "partial_rotary_factor"),
            ("rotary_pct", -1.0, "partial_rotary_factor"), ("rotary_pct", 0.0, "partial_rotary_factor"),
            ("rotary_emb_base", 0.0, "rope_theta"), ("rotary_emb_base", -10.0, "rope_theta"),
            ("layer_norm_eps", -1e-5, "layer_norm_eps"), ("layer_norm_eps", 0.0, "layer_norm_eps"),
            ("layer_norm_eps", 1e-60, "layer_norm_eps"), ("num_attention_heads", 3.0, "num_attention_heads"),
            ("hidden_size", -16.0, "hidden_size"), ("max_position_embeddings", 1e12, "max_position_embeddings"),
            ("vocab_size", 0.0, "vocab_size"), ("num_hidden_layers", 1e9, "num_hidden_layers"),
        ] as [(String, Double, String)])
    func configValuesAreChecked(key: String, value: Double, field: String) throws {
        // Integers go in as integers (JSONSerialization reads 3.0 as a Double otherwise).
        let json: Any =
            value == value.rounded() && abs(value) < 1e15 && key != "layer_norm_eps" && key != "rotary_pct" && key != "rotary_emb_base"
            ? Int(value) : value
        let message = try #require(loadError(try variant("neox-legacy", [key: json])))
        #expect(message.contains("config.json: \(field)"), "\(message)")
    }

    /// RoBERTa counts positions from pad_token_id + 1: a negative one read before the table.
    @Test func robertaPadTokenIsChecked() throws {
        let message = try #require(loadError(try variant("roberta-sharded", ["pad_token_id": -5])))
        #expect(message.contains("config.json: pad_token_id"), "\(message)")
    }

    /// Shard names in model.safetensors.index.json stay inside the model folder.
    @Test(arguments: ["../../etc/passwd", "/etc/passwd", "a/../../x.safetensors"])
    func shardNamesAreConfined(name: String) throws {
        let folder = try variant("roberta-sharded", [:])
        let index = folder + "/model.safetensors.index.json"
        var json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: index))) as! [String: Any]
        var map = json["weight_map"] as! [String: String]
        map[map.keys.sorted()[0]] = name
        json["weight_map"] = map
        try JSONSerialization.data(withJSONObject: json).write(to: URL(fileURLWithPath: index))
        let message = try #require(loadError(folder))
        #expect(message.contains("model.safetensors.index.json: shard name") && message.contains("leaves the model folder"), "\(message)")
    }

    /// A shard that is a link to a file outside the folder is refused too.
    @Test func shardLinksAreConfined() throws {
        let folder = try variant("roberta-sharded", [:])
        let outside = NSTemporaryDirectory() + "sonde-outside-\(UUID().uuidString).safetensors"
        defer { try? FileManager.default.removeItem(atPath: outside) }
        let shard = folder + "/model-00001-of-00004.safetensors"
        try FileManager.default.moveItem(atPath: shard, toPath: outside)
        try FileManager.default.createSymbolicLink(atPath: shard, withDestinationPath: outside)
        let message = try #require(loadError(folder))
        #expect(message.contains("resolves outside the model folder"), "\(message)")
    }

    /// A NaN in the weights reaches the activations: an error naming the layer, not output.
    @Test func nonFiniteActivationsAreAnError() throws {
        let folder = try variant("neox-legacy", [:])
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let weights = try TensorCollection.read(folder + "/model.safetensors")
        let payloads = weights.tensors.map { t -> TensorPayload in
            var values = t.floats()
            if t.name.hasSuffix("embed_in.weight") { values[16 * 5 + 3] = .nan }  // token 5, neuron 3
            return TensorPayload(name: t.name, shape: t.shape, dtype: .float32, values: .float(values))
        }
        try Safetensors.write(payloads, to: folder + "/model.safetensors")
        let model = try TransformerNetwork(folder: folder)
        #expect(try model.hiddenStates([[1, 2, 3]]).count == 3)
        #expect { try model.hiddenStates([[1, 5, 3]]) } throws: { "\($0)".contains("layer 0 of the forward pass holds NaN") }
    }

    private func tokenizer(_ change: (inout [String: Any]) -> Void) throws -> Tokenizer {
        var json =
            try JSONSerialization.jsonObject(
                with: Data(contentsOf: URL(fileURLWithPath: modelFixtures + "/wordpiece/tokenizer.json"))) as! [String: Any]
        change(&json)
        return try Tokenizer(json: json, path: "tokenizer.json")
    }

    /// Negative ids (in the vocabulary or the added tokens) read before the embedding matrix;
    /// ids at or past the model's vocabulary after it. Both are refused once, at load.
    @Test func tokenIdsAreChecked() throws {
        #expect {
            _ = try self.tokenizer { json in
                var added = json["added_tokens"] as! [[String: Any]]
                added[0]["id"] = -3
                json["added_tokens"] = added
            }
        } throws: { "\($0)".contains("tokenizer.json: token \"[PAD]\" has the negative id -3") }
        #expect {
            _ = try self.tokenizer { json in
                var model = json["model"] as! [String: Any]
                var vocab = model["vocab"] as! [String: Int]
                vocab["the"] = -1
                model["vocab"] = vocab
                json["model"] = model
            }
        } throws: { "\($0)".contains("has the negative id -1") }
        let plain = try tokenizer { _ in }
        try plain.validate(vocabularySize: 388)
        #expect { try plain.validate(vocabularySize: 300) } throws: { "\($0)".contains("outside the model's vocabulary of 300") }
    }
}
