import Foundation
import SondeLinalg
import Testing

@testable import SondeModels

let modelFixtures = repositoryRoot + "/Tests/Fixtures/models"

/// Tiny random checkpoints made by transformers (Tests/Fixtures/models/make_fixtures.py) for the
/// variants the zoo lacks; their hidden states and head logits as transformers computed them.
struct FixtureModelTests {
    @Test(arguments: [
        "neox-legacy", "roberta-sharded", "bert-bf16", "gpt2-inverse-scale", "llama-gqa-llama3", "llama-yarn-tied-legacy", "mistral-window",
        "qwen2-dynamic", "qwen3-qknorm", "olmo2", "gemma2-bf16", "llama-gqa-llama3-bf16", "mistral-window-bf16", "qwen2-dynamic-bf16",
        "qwen3-qknorm-bf16", "olmo2-bf16",
    ])
    func matchesTransformers(fixture name: String) throws {
        let model = try TransformerNetwork(folder: modelFixtures + "/" + name)
        let reference = try TensorCollection.read(modelFixtures + "/\(name)/reference.npz")
        let sequences = (0..<3).map { reference["ids\($0)"]!.integers()! }
        // All three sequences in one packed batch: packing must not leak between sequences.
        let states = try model.hiddenStates(sequences)
        var ranges: [Range<Int>] = []
        var start = 0
        for s in sequences { ranges.append(start..<(start + s.count)); start += s.count }
        var worst: Float = 0
        for (k, range) in ranges.enumerated() {
            let hidden = reference["hidden\(k)"]!
            #expect(hidden.shape == [model.config.layers + 1, range.count, model.config.hiddenSize])
            for layer in 0...model.config.layers {
                let expected = try hidden.slice(layer).matrix()
                let ours = states[layer].rows(range)
                worst = max(worst, relativeDifference(ours.elements, expected.elements))
            }
        }
        #expect(worst < 1e-5, "hidden states differ by \(worst) of the largest value (per layer)")
        var worstLogit: Float = 0
        for (k, range) in ranges.enumerated() {
            let expected = try reference["logits\(k)"]!.matrix()
            let rows = model.head == .languageModel ? Array(range) : [model.pooledRow(of: range)]
            let ours = try #require(model.headLogits(states.last!, rows: rows))
            #expect(ours.rows == expected.rows && ours.columns == expected.columns)
            worstLogit = max(worstLogit, relativeDifference(ours.elements, expected.elements))
        }
        #expect(worstLogit < 1e-5, "head logits differ by \(worstLogit) of the largest value")
    }

    /// max|ours − reference| / max|reference| (the issue's measure of agreement).
    private func relativeDifference(_ ours: [Float], _ reference: [Float]) -> Float {
        let scale = max(reference.map(abs).max() ?? 0, Float.leastNormalMagnitude)
        return zip(ours, reference).map { abs($0 - $1) }.max().map { $0 / scale } ?? 0
    }

    /// An erasure at layer 1: that layer's states are exactly the plain ones erased, the layer
    /// below is untouched, and the layers above change.
    @Test func erasureInsideATransformer() throws {
        let model = try TransformerNetwork(folder: modelFixtures + "/gpt2-inverse-scale")
        let h = model.config.hiddenSize
        let sequences = [[1, 5, 9, 2], [7, 3]]
        // E = a 2-dimensional orthogonal projection (columns 0 and 3), μ a ramp.
        let mean = (0..<h).map { Float($0) * 0.01 }
        let map = (0..<h * h).map { i -> Float in i / h == i % h && (i % h == 0 || i % h == 3) ? 1 : 0 }
        let plain = try model.hiddenStates(sequences)
        let erased = try model.hiddenStates(sequences, ablations: [NeuronAblation(layer: 1, erasureMap: map, mean: mean)])
        for r in 0..<plain[1].rows {
            for j in 0..<h {
                let expected = j == 0 || j == 3 ? mean[j] : plain[1][r, j]
                #expect(abs(erased[1][r, j] - expected) <= 1e-6 * max(1, abs(expected)))
            }
        }
        #expect(erased[0].elements == plain[0].elements)
        #expect(zip(erased[2].elements, plain[2].elements).contains { abs($0 - $1) > 1e-4 })
    }

    @Test func legacyRotaryKeysAreRead() throws {
        let config = try ModelConfig.read(modelFixtures + "/neox-legacy/config.json")
        #expect(config.rotaryFraction == 0.5 && config.rotaryBase == 500 && !config.parallelResidual)
    }

    @Test func unknownModelTypeListsTheSupportedOnes() throws {
        let folder = NSTemporaryDirectory() + "sonde-config-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try #"{"model_type": "mamba", "hidden_size": 8}"#.write(toFile: folder + "/config.json", atomically: true, encoding: .utf8)
        let error = try #require(throws: ModelError.self) { try TransformerNetwork(folder: folder) }
        #expect(error.kind == .unsupported)
        #expect(
            error.description.contains(
                "'mamba' is not supported; Sonde runs bert, roberta, gpt2, gpt_neox, llama, mistral, qwen2, qwen3, olmo2, gemma2"))
    }

    @Test func missingTensorNamesTheTensor() throws {
        let folder = NSTemporaryDirectory() + "sonde-model-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        // A GPT-NeoX config over GPT-2 weights: the first tensor it looks for is missing.
        try FileManager.default.copyItem(atPath: modelFixtures + "/neox-legacy/config.json", toPath: folder + "/config.json")
        try FileManager.default.copyItem(atPath: modelFixtures + "/gpt2-inverse-scale/model.safetensors", toPath: folder + "/model.safetensors")
        let error = try #require(throws: ModelError.self) { try TransformerNetwork(folder: folder) }
        #expect(error.description.contains("no tensor 'embed_in.weight'"))
    }
}

/// Tokenizers against the `tokenizers` package's own encodings of the same words.
struct TokenizerTests {
    func check(_ tokenizer: Tokenizer, _ encodings: String) throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: encodings))
        let pairs = try #require(try JSONSerialization.jsonObject(with: data) as? [[Any]])
        var mismatches: [String] = []
        for pair in pairs {
            let word = pair[0] as! String, expected = pair[1] as! [Int]
            let ours = try tokenizer.encode(word: word)
            // tokenizers gives no ids for a word that normalises to nothing; Sonde gives [UNK].
            if expected.isEmpty { continue }
            if ours != expected { mismatches.append("\(word.debugDescription): \(ours) vs \(expected)") }
        }
        #expect(mismatches.isEmpty, "\(mismatches.count) of \(pairs.count) words differ: \(mismatches.prefix(5))")
        #expect(pairs.count > 50)
    }

    @Test func wordPieceMatchesTokenizers() throws {
        let tokenizer = try Tokenizer.read(modelFixtures + "/wordpiece/tokenizer.json")
        try check(tokenizer, modelFixtures + "/wordpiece/encodings.json")
        #expect(try tokenizer.encode(word: "\u{200B}") == [tokenizer.ids["[UNK]"]!])
        #expect(try tokenizer.specialTokens(for: .bert).prefix == [tokenizer.ids["[CLS]"]!])
    }

    @Test(.enabled(if: zooAvailable, Comment(rawValue: zooMissing)))
    func byteLevelBPEMatchesTokenizers() throws {
        let tokenizer = try Tokenizer.read(zoo + "/tokenizer/tokenizer.json")
        try check(tokenizer, modelFixtures + "/zoo-encodings.json")
        #expect(try tokenizer.specialTokens(for: .gpt2).prefix.isEmpty)
        #expect(try tokenizer.specialTokens(for: .bert) == ([2], [3]))
    }

    @Test func gpt2SplitPattern() {
        func split(_ text: String) -> [String] {
            let s = Array(text.unicodeScalars)
            return gpt2Split(s).map { String(String.UnicodeScalarView(s[$0])) }
        }
        #expect(split(" don't stop") == [" don", "'t", " stop"])
        #expect(split("a  b   ") == ["a", " ", " b", "   "])
        #expect(split(" 3.14$$ x") == [" 3", ".", "14", "$$", " x"])
    }
}

/// The LanguageModel protocol over a transformer: what the study layer sees agrees with the
/// checkpoint it wraps.
@Test func languageModelProtocol() throws {
    let folder = NSTemporaryDirectory() + "sonde-lm-\(UUID().uuidString)"
    try FileManager.default.copyItem(atPath: modelFixtures + "/bert-bf16", toPath: folder)
    defer { try? FileManager.default.removeItem(atPath: folder) }
    var vocab = ["[PAD]": 0, "[UNK]": 1, "[CLS]": 2, "[SEP]": 3]
    for c in "abcdefghijklmnopqrstuvwxyz" { vocab[String(c)] = vocab.count }
    let tokenizer: [String: Any] = [
        "normalizer": ["type": "BertNormalizer"], "pre_tokenizer": ["type": "BertPreTokenizer"],
        "model": ["type": "WordPiece", "unk_token": "[UNK]", "vocab": vocab],
    ]
    try JSONSerialization.data(withJSONObject: tokenizer).write(to: URL(fileURLWithPath: folder + "/tokenizer.json"))
    let model: any LanguageModel = try loadLanguageModel(folder)
    let transformer = try TransformerNetwork(folder: folder)
    #expect(model.layerCount == transformer.config.layers && model.hiddenSize == transformer.config.hiddenSize)
    #expect(model.identity == transformer.identity && model.identity.architecture == "bert" && model.identity.fingerprint?.count == 16)
    var shapes: [[Int]] = []
    try model.extract([["a", "b"], ["c"]], layers: [0, model.layerCount], aggregate: .mean) { _, vectors in
        shapes.append(vectors.map { $0.rows * 1000 + $0.columns })
    }
    #expect(shapes == [[2 * 1000 + model.hiddenSize, 2 * 1000 + model.hiddenSize], [1000 + model.hiddenSize, 1000 + model.hiddenSize]])
}
