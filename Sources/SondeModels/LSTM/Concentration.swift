import Foundation
import SondeBase

/// Saphra & Lopez's concentration of a representation, c(x) = ‖x‖₂/‖x‖₁ (1/√D for a vector
/// spread evenly over D neurons, 1 for a one-hot one), of each word's states and of the
/// gradient of the language-model loss reaching each state, averaged over words: all of them,
/// by label (e.g. UPOS) and by frequency band of the word in training.
public struct Concentration: Codable, Sendable, Equatable {
    /// Means over a group of words, one per state (0 = the embeddings … L).
    public struct Group: Codable, Sendable, Equatable {
        public var words: Int
        public var activation: [Double]
        /// Empty for taggers and classifiers (their loss is not the language model's).
        public var gradient: [Double]
    }

    public var states: [String]
    public var all: Group
    public var byLabel: [String: Group]
    /// Bands of the word's frequency rank in training: "1-100", "101-1000", "1001+", "<unk>".
    public var byFrequency: [String: Group]

    static let fileName = "concentration.json"

    /// The concentration stored with a checkpoint, if it has one.
    public static func stored(in folder: String) -> Concentration? {
        (try? MappedFile.data(folder + "/" + fileName)).flatMap { try? JSONCoding.decoder().decode(Concentration.self, from: $0) }
    }
}

extension LSTMModel {
    /// The concentration of `sentences`' states (and, for a language model, of the gradient of
    /// its next-word loss), grouped by `labels` (one per word) when given.
    public func concentration(_ sentences: [[String]], labels: [[String]]? = nil) -> Concentration {
        let (h, states) = (hiddenSize, layerCount + 1)
        let lm = config.labels == nil
        var sums: [String: (words: Int, activation: [Double], gradient: [Double])] = [:]
        func add(_ key: String, _ a: [Double], _ g: [Double]) {
            var s = sums[key] ?? (0, Array(repeating: 0, count: states), Array(repeating: 0, count: states))
            s.words += 1
            for k in 0..<states {
                s.activation[k] += a[k]
                if !g.isEmpty { s.gradient[k] += g[k] }
            }
            sums[key] = s
        }
        for batch in batches(sentences) {
            var none: SplitMix64? = nil
            let pass = network.forward(ids: batch.ids, steps: batch.steps, batch: batch.count, generator: &none)
            var gradients: [[Float]] = []
            if lm {
                let targets = Self.nextWordTargets(
                    batch.ids, steps: batch.steps, batch: batch.count, lengths: (0..<batch.count).map { sentences[batch.first + $0].count })
                _ = network.backward(pass, ids: batch.ids, scored: network.score(pass, targets: targets), stateGradients: &gradients)
            }
            let stateArrays = [pass.inputs[0]] + pass.hidden
            for b in 0..<batch.count {
                let s = batch.first + b
                for (i, word) in sentences[s].enumerated() {
                    let row = (i + 1) * batch.count + b
                    let a = stateArrays.map { x in x.withUnsafeBufferPointer { SondeBase.concentration($0[(row * h)..<((row + 1) * h)]) } }
                    let g = gradients.map { x in x.withUnsafeBufferPointer { SondeBase.concentration($0[(row * h)..<((row + 1) * h)]) } }
                    let id = Int(vocabulary.id(word))
                    add("", a, g)
                    add("band " + (id == 0 ? "<unk>" : id < 103 ? "1-100" : id < 1003 ? "101-1000" : "1001+"), a, g)
                    if let label = labels?[s][i] { add("label " + label, a, g) }
                }
            }
        }
        func group(_ key: String) -> Concentration.Group {
            let s = sums[key] ?? (0, Array(repeating: 0, count: states), Array(repeating: 0, count: states))
            let n = Double(max(s.words, 1))
            return .init(words: s.words, activation: s.activation.map { $0 / n }, gradient: lm ? s.gradient.map { $0 / n } : [])
        }
        func grouped(_ prefix: String) -> [String: Concentration.Group] {
            Dictionary(uniqueKeysWithValues: sums.keys.filter { $0.hasPrefix(prefix) }.map { (String($0.dropFirst(prefix.count)), group($0)) })
        }
        return Concentration(
            states: (0...layerCount).map { "layer\($0)" }, all: group(""), byLabel: grouped("label "), byFrequency: grouped("band "))
    }
}
