import Foundation
import SondeBase
import SondeLinalg
import Testing

@testable import SondeModels

let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
let sharedFolder = URL(fileURLWithPath: repositoryRoot).deletingLastPathComponent().path + "/shared"
let zoo = sharedFolder + "/zoo"
let zooAvailable = FileManager.default.fileExists(atPath: zoo + "/README.md")
let zooMissing = "../shared/zoo is absent beside the repository: the tests on real models are skipped"

/// The 25 test sentences of the zoo's reference activations, as their words.
func referenceSentences() throws -> [[String]] {
    let text = try String(contentsOfFile: zoo + "/reference/sentences.tsv", encoding: .utf8)
    return text.split(separator: "\n").map { line in line.split(separator: "\t")[1].split(separator: " ").map(String.init) }
}

/// Every layer's word vectors for `sentences`, stacked: [layer][word, hidden].
func extractAll(
    _ extractor: TransformerModel, _ sentences: [[String]], aggregate: SubwordAggregation = .last, ablations: [NeuronAblation] = []
) throws -> [Matrix<Float>] {
    let layers = Array(0...extractor.network.config.layers)
    var rows = [[Float]](repeating: [], count: layers.count)
    try extractor.extract(sentences, layers: layers, aggregate: aggregate, ablations: ablations) { _, vectors in
        for (l, v) in vectors.enumerated() { rows[l] += v.elements }
    }
    let h = extractor.network.config.hiddenSize
    return rows.map { Matrix(rows: $0.count / h, columns: h, elements: $0) }
}

@Suite(.enabled(if: zooAvailable, Comment(rawValue: zooMissing)))
struct ZooReferenceTests {
    /// Sonde's hidden states against the PyTorch references of ../shared/zoo/reference (every
    /// layer, every word at its last subword): within 1e-3 absolute, as the zoo's README asks.
    @Test(arguments: ["gpt-step0", "gpt-step1200", "gpt-genre", "bert-step0", "bert-step1200", "bert-genre", "neox-step0", "neox-step1200"])
    func matchesPyTorch(model name: String) throws {
        let model = try TransformerNetwork(folder: zoo + "/" + name)
        let extractor = try TransformerModel(network: model, tokenizer: try Tokenizer.read(zoo + "/tokenizer/tokenizer.json"))
        let sentences = try referenceSentences()
        let ours = try extractAll(extractor, sentences)
        let reference = try TensorCollection.read(zoo + "/reference/\(name).test.npy").tensors[0]
        #expect(reference.shape == [5, 434, 128])
        var worst: Float = 0
        for layer in 0..<5 {
            let expected = try reference.slice(layer).matrix()
            #expect(ours[layer].rows == expected.rows)
            for (a, b) in zip(ours[layer].elements, expected.elements) { worst = max(worst, abs(a - b)) }
        }
        print("\(name): largest difference from PyTorch \(worst)")
        #expect(worst < 1e-3)
    }
}

@Suite(.enabled(if: zooAvailable, Comment(rawValue: zooMissing)))
struct ZooScoreTests {
    func extractor(_ name: String) throws -> TransformerModel {
        try TransformerModel(
            network: try TransformerNetwork(folder: zoo + "/" + name), tokenizer: try Tokenizer.read(zoo + "/tokenizer/tokenizer.json"))
    }

    func genres() throws -> [String] {
        let text = try String(contentsOfFile: zoo + "/reference/sentences.tsv", encoding: .utf8)
        return text.split(separator: "\n").map { String($0.prefix { $0 != "-" }) }
    }

    /// The models' own loss against transformers (benchmarks/references/zoo_scores.py).
    @Test(arguments: [("gpt-step1200", 5.320341), ("neox-step1200", 5.623409)])
    func nextTokenLossMatchesPyTorch(model name: String, expected: Double) throws {
        let score = try extractor(name).score(try referenceSentences())
        #expect(score.task == "next-token" && score.predictions == 552)
        #expect(abs(score.loss - expected) < 1e-5)
    }

    @Test(arguments: [("gpt-genre", 2.621122, 7), ("bert-genre", 2.258026, 4)])
    func classifierMatchesPyTorch(model name: String, loss: Double, correct: Int) throws {
        let score = try extractor(name).score(try referenceSentences(), labels: try genres().map { [$0] })
        #expect(score.task == "classification" && score.predictions == 25)
        #expect(abs(score.loss - loss) < 1e-5)
        #expect(score.accuracy == Double(correct) / 25)
    }

    /// Closed forms: zeroing every neuron of the last layer leaves logits of 0 (GPT-2's head has
    /// no bias), so the loss is log(vocabulary) for the LM and log(classes) for the classifier;
    /// ablating no neuron changes nothing.
    @Test func ablationClosedForms() throws {
        let lm = try extractor("gpt-step1200")
        let sentences = Array(try referenceSentences().prefix(5))
        let everything = NeuronAblation(layer: 4, neurons: Array(0..<128), values: Array(repeating: 0, count: 128))
        #expect(abs(try lm.score(sentences, ablations: [everything]).loss - log(4096)) < 1e-9)
        let plain = try lm.score(sentences)
        // Not bit-equal: tests run in parallel and change OpenBLAS's thread count, and so the
        // order of its Float sums (ARCHITECTURE.md, threads); the same to Float rounding.
        let unablated = try lm.score(sentences, ablations: [NeuronAblation(layer: 2, neurons: [], values: [])])
        #expect(abs(unablated.loss - plain.loss) <= 1e-5 * plain.loss && unablated.predictions == plain.predictions)
        let middle = try lm.score(sentences, ablations: [NeuronAblation(layer: 2, neurons: Array(0..<64), values: Array(repeating: 0, count: 64))])
        #expect(middle.loss > plain.loss + 0.1)
        let classifier = try extractor("gpt-genre")
        let score = try classifier.score(sentences, labels: try genres().prefix(5).map { [$0] }, ablations: [everything])
        #expect(abs(score.loss - log(5)) < 1e-9)
    }

    /// A transformer's predictions counted by word (GPT-2's next tokens; BERT's masked tokens, the
    /// same seeded masks): the two halves' losses, weighted, are the loss over every word's tokens.
    @Test(arguments: ["gpt-step1200", "bert-step1200"])
    func scoresCountedByWordSplitTheLoss(model name: String) throws {
        let e = try extractor(name)
        let sentences = Array(try referenceSentences().prefix(8))
        let even = sentences.map { $0.indices.map { $0 % 2 == 0 } }
        func score(_ words: [[Bool]]) throws -> ModelScore {
            try e.score(sentences, labels: nil, ablations: [], seed: 7, words: words, progress: { _ in })
        }
        let (a, b) = (try score(even), try score(even.map { $0.map { !$0 } }))
        let all = try score(sentences.map { $0.map { _ in true } })
        #expect(a.predictions + b.predictions == all.predictions && a.predictions > 0 && b.predictions > 0)
        let weighted = (Double(a.predictions) * a.loss + Double(b.predictions) * b.loss) / Double(all.predictions)
        // Float logits: batches of other lengths take other gemm tilings, so a token's loss may
        // differ in its last Float bits between the three runs (seen: 1.4e-7 relative).
        #expect(abs(weighted - all.loss) < 2e-6 * max(1, all.loss))
    }

    /// Mean-ablation at layer l replaces the neurons by their corpus means: the ablated
    /// activations hold exactly those values there, and the other neurons of layer l are untouched.
    @Test func meanAblationWritesTheMeans() throws {
        let e = try extractor("bert-step1200")
        let sentences = Array(try referenceSentences().prefix(6))
        let means = try e.tokenMeans(sentences, layer: 2)
        let plain = try extractAll(e, sentences)
        let ablated = try extractAll(e, sentences, ablations: [NeuronAblation(layer: 2, neurons: [3, 70], values: [means[3], means[70]])])
        // The untouched values agree to Float rounding, not bit for bit: parallel tests change
        // OpenBLAS's thread count and with it the order of its sums.
        func close(_ a: Float, _ b: Float) -> Bool { abs(a - b) <= 1e-5 * max(1, abs(b)) }
        for r in 0..<plain[2].rows {
            #expect(ablated[2][r, 3] == means[3] && ablated[2][r, 70] == means[70])
            #expect(close(ablated[2][r, 5], plain[2][r, 5]))
        }
        #expect(zip(ablated[1].elements, plain[1].elements).allSatisfy(close))
        #expect(zip(ablated[3].elements, plain[3].elements).contains { !close($0, $1) })
    }

    /// A sentence longer than the window runs in overlapping windows; a causal model's tokens in
    /// the first window see exactly the left context of a single run, so their vectors agree
    /// with the unwindowed prefix; every word still gets a vector.
    @Test func longSentencesRunInWindows() throws {
        let e = try extractor("gpt-step1200")
        let words = try referenceSentences().flatMap { $0 }  // 434 words, far beyond 128 positions
        let encoded = try e.encode(words)
        let (sequences, source) = e.windows(encoded)
        #expect(sequences.count > 3 && sequences.allSatisfy { $0.count <= 128 })
        #expect(source.count == encoded.tokens.count)
        #expect(source.dropFirst().allSatisfy { $0.position >= 64 || $0.sequence == 0 })
        let whole = try extractAll(e, [words])
        #expect(whole[0].rows == 434)
        let firstWords = encoded.words.prefix { $0.upperBound <= 128 }.count
        let prefix = try extractAll(e, [Array(words.prefix(firstWords))])
        for layer in 0...4 {
            let a = whole[layer].rows(0..<firstWords), b = prefix[layer]
            #expect(zip(a.elements, b.elements).allSatisfy { abs($0 - $1) < 1e-5 })
        }
    }
}

let minilm = repositoryRoot + "/benchmarks/.data/minilm"
let minilmAvailable = FileManager.default.fileExists(atPath: minilm + "/reference.npz")

/// A real pre-trained model: all-MiniLM-L6-v2 (BERT architecture, WordPiece), unpacked and
/// referenced by benchmarks/run.sh (benchmarks/peers/minilm_reference.py).
@Suite(.enabled(if: minilmAvailable, "all-MiniLM-L6-v2 is not unpacked (run benchmarks/run.sh extract): skipped"))
struct PretrainedModelTests {
    @Test func miniLMMatchesTransformers() throws {
        let extractor = try TransformerModel(
            network: try TransformerNetwork(folder: minilm), tokenizer: try Tokenizer.read(minilm + "/tokenizer.json"))
        let text = try String(contentsOfFile: minilm + "/reference-sentences.txt", encoding: .utf8)
        let sentences = text.split(separator: "\n").map { $0.split(separator: "\t").map(String.init) }
        let reference = try TensorCollection.read(minilm + "/reference.npz")
        let ids = try #require(reference["ids"]?.integers())
        let ours = try sentences.flatMap { words in [101] + (try extractor.encode(words).tokens) + [102] }
        let firstDifference = (0..<min(ours.count, ids.count)).first { ours[$0] != ids[$0] }
        #expect(ours.count == ids.count && firstDifference == nil, "token ids differ from the tokenizers package at \(firstDifference ?? -1)")
        let hidden = try #require(reference["hidden"])
        let states = try extractAll(extractor, sentences)
        var worst: Float = 0
        for layer in 0...6 {
            for (a, b) in zip(states[layer].elements, try hidden.slice(layer).matrix().elements) { worst = max(worst, abs(a - b)) }
        }
        print("all-MiniLM-L6-v2: largest difference from transformers \(worst)")
        #expect(worst < 1e-3)
    }
}

@Suite(.enabled(if: zooAvailable, Comment(rawValue: zooMissing)))
struct MaskedScoreTests {
    /// The masked-token score against the computation written out sentence by sentence: the same
    /// seeded masks, [CLS] masked words [SEP] through the model alone, cross-entropy of the masked
    /// positions from the head's logits (which FixtureModelTests checks against transformers).
    @Test func maskedTokenLossByHand() throws {
        let e = try TransformerModel(
            network: try TransformerNetwork(folder: zoo + "/bert-step1200"), tokenizer: try Tokenizer.read(zoo + "/tokenizer/tokenizer.json"))
        let sentences = Array(try referenceSentences().prefix(8))
        let score = try e.score(sentences, seed: 7)
        var total = 0.0, count = 0
        for (index, words) in sentences.enumerated() {
            let tokens = try e.encode(words).tokens
            var generator = SplitMix64(seed: 7 ^ UInt64(index))
            let masked = Array(generator.shuffled(Array(0..<tokens.count)).prefix(max(1, Int((Double(tokens.count) * 0.15).rounded()))))
            var input = tokens
            for p in masked { input[p] = e.tokenizer.ids["[MASK]"]! }
            let sequence = [e.tokenizer.ids["[CLS]"]!] + input + [e.tokenizer.ids["[SEP]"]!]
            let last = try e.network.hiddenStates([sequence]).last!
            let logits = e.network.headLogits(last, rows: masked.map { $0 + 1 })!
            for (r, p) in masked.enumerated() {
                let row = (0..<logits.columns).map { Double(logits[r, $0]) }
                let top = row.max()!
                total += log(row.reduce(0) { $0 + exp($1 - top) }) + top - row[tokens[p]]
                count += 1
            }
        }
        #expect(score.task == "masked-token" && score.predictions == count)
        // score() packs all eight sentences into one batch, this runs them one by one: Float sums in
        // another order (a few 1e-8 here); a wrong row or mask would be off by whole nats.
        #expect(abs(score.loss - total / Double(count)) < 1e-6)
    }
}
