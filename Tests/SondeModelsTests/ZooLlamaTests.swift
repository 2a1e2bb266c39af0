import Foundation
import SondeLinalg
import Testing

@testable import SondeModels

/// The small Llama trained on EWT (benchmarks/references/zoo_llama.py; step 0, step 1200 and its
/// genre classifier in Tests/Fixtures/models/zoo-llama, F16) against transformers on the first 40
/// EWT dev sentences: every layer's word vectors (last subword; max, sum, sum of squares and 64
/// sampled entries) within 1e-4 of the layer's largest value, and each sentence's log-probability
/// after `<|endoftext|>` within 1e-4 (relative).
@Suite(.enabled(if: zooAvailable, Comment(rawValue: zooMissing)))
struct ZooLlamaTests {
    static let folder = modelFixtures + "/zoo-llama"

    @Test(arguments: ["llama-step0", "llama-step1200", "llama-genre"])
    func matchesTransformers(model name: String) throws {
        let reference =
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: Self.folder + "/reference.json"))) as! [String: Any]
        let count = reference["count"] as! Int
        // The FORM column of the word lines (integer ids; ranges and empty nodes skipped).
        let text = try String(contentsOfFile: sharedFolder + "/corpora/ud-english-ewt/en_ewt-ud-dev.conllu", encoding: .utf8)
        var sentences: [[String]] = []
        for block in text.components(separatedBy: "\n\n").prefix(count) {
            var words: [String] = []
            for line in block.split(separator: "\n") {
                let columns = line.split(separator: "\t", omittingEmptySubsequences: false)
                if columns.count == 10, Int(columns[0]) != nil { words.append(String(columns[1])) }
            }
            sentences.append(words)
        }
        let model = try TransformerModel(folder: Self.folder + "/" + name, tokenizer: zoo + "/tokenizer/tokenizer.json")
        // The zoo's models were trained and referenced on words encoded one by one.
        #expect(model.alignment == .text)
        model.alignment = .words
        let states = try extractAll(model, sentences)
        let expected = (reference[name] as! [String: Any])
        for (layer, entry) in (expected["layers"] as! [[String: Any]]).enumerated() {
            let values = states[layer].elements.map(Double.init)
            let largest = entry["max"] as! Double
            #expect(states[layer].rows == entry["words"] as! Int)
            #expect(abs((values.map(abs).max() ?? 0) - largest) <= 1e-4 * largest, "layer \(layer): largest value")
            #expect(abs(values.reduce(0, +) - (entry["sum"] as! Double)) <= 1e-4 * largest * Double(values.count).squareRoot(), "layer \(layer): sum")
            let squares = values.reduce(0) { $0 + $1 * $1 }
            #expect(abs(squares - (entry["squares"] as! Double)) <= 1e-4 * squares, "layer \(layer): sum of squares")
            let step = max(1, values.count / 64)
            let sampled = stride(from: 0, to: values.count, by: step).prefix(64).map { values[$0] }
            let worst = zip(sampled, entry["sampled"] as! [Double]).map { abs($0 - $1) }.max()!
            #expect(worst <= 1e-4 * largest, "layer \(layer): sampled entries differ by \(worst / largest) of the largest value")
        }
        if let logProbabilities = expected["logProbabilities"] as? [Double] {
            let scored = try model.logProbabilities(sentences.map { SentenceText(text: $0.joined(separator: " "), words: $0) })
            let worst = zip(scored, logProbabilities).map { abs($0.total - $1) / abs($1) }.max()!
            #expect(worst <= 1e-4, "sentence log-probabilities differ by \(worst) (relative)")
        }
    }
}
