import Foundation
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
func extractAll(_ extractor: ActivationExtractor, _ sentences: [[String]], aggregate: SubwordAggregation = .last, ablations: [NeuronAblation] = []) throws -> [Matrix<Float>] {
    let layers = Array(0...extractor.model.config.layers)
    var rows = [[Float]](repeating: [], count: layers.count)
    try extractor.extract(sentences, layers: layers, aggregate: aggregate, ablations: ablations) { _, vectors in
        for (l, v) in vectors.enumerated() { rows[l] += v.elements }
    }
    let h = extractor.model.config.hiddenSize
    return rows.map { Matrix(rows: $0.count / h, columns: h, elements: $0) }
}

@Suite(.enabled(if: zooAvailable, Comment(rawValue: zooMissing)))
struct ZooReferenceTests {
    /// Sonde's hidden states against the PyTorch references of ../shared/zoo/reference (every
    /// layer, every word at its last subword): within 1e-3 absolute, as the zoo's README asks.
    @Test(arguments: ["gpt-step0", "gpt-step1200", "gpt-genre", "bert-step0", "bert-step1200", "bert-genre", "neox-step0", "neox-step1200"])
    func matchesPyTorch(model name: String) throws {
        let model = try TransformerModel(folder: zoo + "/" + name)
        let extractor = try ActivationExtractor(model: model, tokenizer: try Tokenizer.read(zoo + "/tokenizer/tokenizer.json"))
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
