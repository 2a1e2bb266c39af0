import Foundation
import SondeBase
import SondeLinalg
import Testing

@testable import SondeModels

/// The native LSTM: gradients against central finite differences (Double, every parameter),
/// batch invariance, closed forms, checkpoint round trips and hostile checkpoints.
struct LSTMTests {
    /// Two sequences of different lengths, time-major, padded after the shorter one.
    let ids: [Int32] = [1, 1, 4, 5, 6, 3, 3, 0]  // steps 4, batch 2: a = <s> 4 6 3, b = <s> 5 3 (pad)
    let lengths = [3, 2]

    func loss(_ net: LSTMNetwork<Double>, dropout: Double) -> (Double, [Double]) {
        var generator: SplitMix64? = dropout > 0 ? SplitMix64(seed: 77) : nil
        let pass = net.forward(ids: ids, steps: 4, batch: 2, dropout: dropout, generator: &generator)
        let targets = LSTMModel.nextWordTargets(ids, steps: 4, batch: 2, lengths: lengths)
        let r = net.score(pass, targets: targets)
        return (r.loss / Double(r.count), net.backward(pass, ids: ids, scored: r))
    }

    @Test(arguments: [(false, 0.0), (true, 0.0), (false, 0.3)])
    func gradientsMatchFiniteDifferences(tied: Bool, dropout: Double) {
        var net = LSTMNetwork<Double>(config: LSTMConfig(vocabularySize: 7, hiddenSize: 3, layers: 2, tiedEmbeddings: tied))
        net.initialize(seed: 5)
        for i in net.values.indices { net.values[i] *= 8 }  // larger weights: saturating gates are checked too
        let (_, analytic) = loss(net, dropout: dropout)
        let worst = worstRelativeError(net, analytic) { loss($0, dropout: dropout).0 }
        #expect(worst < 1e-5, "worst relative error \(worst)")
        #expect(analytic.contains { abs($0) > 1e-3 })
    }

    /// A batch large enough to run its recurrence in parallel parts: its gradient is the
    /// count-weighted mean of each sequence's own gradient (sequences alone run serially).
    @Test func aBatchGradientIsTheMeanOfItsSequences() {
        var net = LSTMNetwork<Double>(config: LSTMConfig(vocabularySize: 9, hiddenSize: 4, layers: 2))
        net.initialize(seed: 21)
        var g = SplitMix64(seed: 4)
        let (batch, steps) = (20, 5)
        let lengths = (0..<batch).map { _ in 1 + g.below(steps - 1) }
        var ids = [Int32](repeating: 0, count: steps * batch)
        for b in 0..<batch {
            ids[b] = 1
            for t in 1...lengths[b] { ids[t * batch + b] = Int32(3 + g.below(6)) }
        }
        var none: SplitMix64? = nil
        func gradient(_ ids: [Int32], batch: Int, lengths: [Int]) -> (count: Int, gradient: [Double]) {
            let pass = net.forward(ids: ids, steps: steps, batch: batch, generator: &none)
            let scored = net.score(pass, targets: LSTMModel.nextWordTargets(ids, steps: steps, batch: batch, lengths: lengths))
            return (scored.count, net.backward(pass, ids: ids, scored: scored))
        }
        let together = gradient(ids, batch: batch, lengths: lengths)
        var sum = [Double](repeating: 0, count: net.count)
        for b in 0..<batch {
            let alone = gradient((0..<steps).map { ids[$0 * batch + b] }, batch: 1, lengths: [lengths[b]])
            for i in sum.indices { sum[i] += Double(alone.count) * alone.gradient[i] / Double(together.count) }
        }
        let worst = zip(sum, together.gradient).map { abs($0 - $1) }.max()!
        #expect(worst < 1e-12, "worst difference \(worst)")
    }

    /// The gradient reaching state 0 at a word's row is its embedding row's gradient when the
    /// word occurs once in the batch (the embedding gradient is the sum over its rows).
    @Test func stateGradientsMatchTheEmbeddingGradient() {
        var net = LSTMNetwork<Double>(config: LSTMConfig(vocabularySize: 7, hiddenSize: 3, layers: 2))
        net.initialize(seed: 9)
        var none: SplitMix64? = nil
        let pass = net.forward(ids: ids, steps: 4, batch: 2, generator: &none)
        var states: [[Double]] = []
        let grad = net.backward(
            pass, ids: ids, scored: net.score(pass, targets: LSTMModel.nextWordTargets(ids, steps: 4, batch: 2, lengths: lengths)),
            stateGradients: &states)
        #expect(states.count == 3 && states.allSatisfy { $0.count == 8 * 3 })
        let encoder = net.offset("encoder.weight")
        for (row, id) in [(2, 4), (3, 5), (4, 6)] {  // rows t·2 + b of the words 4, 5, 6
            #expect((0..<3).allSatisfy { abs(states[0][row * 3 + $0] - grad[encoder + id * 3 + $0]) < 1e-12 })
        }
    }

    /// Concentration of the states, against ‖x‖₂/‖x‖₁ of the extracted vectors.
    @Test func concentrationOfTheStates() throws {
        let m = model()
        let sentences = [["the", "dog", "runs"], ["a", "cat"]]
        var expected = [Double](repeating: 0, count: 3)
        try m.extract(sentences, layers: [0, 1, 2], aggregate: .last) { _, vectors in
            for (l, v) in vectors.enumerated() {
                for i in 0..<v.rows {
                    let row = v.row(i).map(Double.init)
                    expected[l] += (row.reduce(0) { $0 + $1 * $1 }).squareRoot() / row.reduce(0) { $0 + abs($1) } / 5
                }
            }
        }
        let c = m.concentration(sentences, labels: [["DET", "NOUN", "VERB"], ["DET", "NOUN"]])
        #expect(c.all.words == 5 && zip(c.all.activation, expected).allSatisfy { abs($0 - $1) < 1e-6 })
        #expect(c.byLabel["NOUN"]?.words == 2 && c.byFrequency.values.reduce(0) { $0 + $1.words } == 5)
        #expect(c.all.gradient.count == 3 && c.all.gradient.allSatisfy { $0 > 1 / 5.squareRoot() - 1e-9 && $0 <= 1 })
    }

    func model(tied: Bool = false) -> LSTMModel {
        var net = LSTMNetwork<Float>(config: LSTMConfig(vocabularySize: 9, hiddenSize: 5, layers: 2, tiedEmbeddings: tied))
        net.initialize(seed: 3)
        return LSTMModel(
            network: net, vocabulary: Vocabulary(words: Vocabulary.specials + ["the", "dog", "cat", "runs", "sleeps", "a"]), folder: "memory")
    }

    @Test func aSentenceAloneOrInABatch() throws {
        let m = model()
        // 18 sentences: the recurrence runs in parallel parts of the batch.
        let sentences = Array(repeating: [["the", "dog", "runs"], ["a", "cat", "sleeps", "the", "unknown-word"], ["dog"]], count: 6).flatMap { $0 }
        var together: [[Matrix<Float>]] = []
        try m.extract(sentences, layers: [0, 1, 2], aggregate: .last) { _, v in together.append(v) }
        for (s, sentence) in sentences.enumerated() {
            var alone: [Matrix<Float>] = []
            try m.extract([sentence], layers: [0, 1, 2], aggregate: .last) { _, v in alone = v }
            for l in 0..<3 {
                #expect(alone[l].rows == sentence.count)
                #expect(zip(alone[l].elements, together[s][l].elements).allSatisfy { abs($0 - $1) <= 1e-5 })
            }
        }
        // Layer 0 is the word's embedding row: the unknown word reads <unk>'s row.
        let encoder = m.network.offset("encoder.weight")
        #expect(together[1][0].row(4) == Array(m.network.values[encoder..<(encoder + 5)]))
    }

    /// Memory cells: with the output gate's weights and biases zero, o = ½ and h = ½·tanh(c), so
    /// the extracted cells and outputs must satisfy that closed form.
    @Test func memoryCellsAreExtractedWithCellStates() throws {
        var net = model().network
        let h = net.config.hiddenSize
        for k in 0..<2 {
            for name in ["rnn.weight_ih_l\(k)", "rnn.weight_hh_l\(k)"] {
                let o = net.offset(name) + 3 * h * h
                for i in o..<(o + h * h) { net.values[i] = 0 }
            }
            for name in ["rnn.bias_ih_l\(k)", "rnn.bias_hh_l\(k)"] {
                let o = net.offset(name) + 3 * h
                for i in o..<(o + h) { net.values[i] = 0 }
            }
        }
        let m = LSTMModel(network: net, vocabulary: model().vocabulary, folder: "memory")
        let sentences = [["the", "dog", "runs"], ["a", "cat"]]
        var outputs: [[Matrix<Float>]] = [], cells: [[Matrix<Float>]] = []
        try m.extract(sentences, layers: [0, 1, 2], aggregate: .last) { _, v in outputs.append(v) }
        m.cellStates = true
        try m.extract(sentences, layers: [0, 1, 2], aggregate: .last) { _, v in cells.append(v) }
        for s in 0..<2 {
            #expect(outputs[s][0].elements == cells[s][0].elements)  // layer 0: the embeddings either way
            for l in 1...2 {
                #expect(zip(outputs[s][l].elements, cells[s][l].elements).allSatisfy { abs($0 - 0.5 * Foundation.tanh($1)) < 1e-6 })
                #expect(cells[s][l].elements.contains { abs($0) > 0.01 })
            }
        }
    }

    /// With every parameter 0 the softmax is uniform: the loss is exactly log V.
    @Test func uniformModelScoresLogV() throws {
        let net = LSTMNetwork<Float>(config: LSTMConfig(vocabularySize: 9, hiddenSize: 5, layers: 1))
        let m = LSTMModel(network: net, vocabulary: model().vocabulary, folder: "memory")
        let score = try m.score([["the", "dog"], ["a", "cat", "runs"]])
        #expect(score.predictions == 7 && abs(score.loss - log(9)) < 1e-6 && abs(score.perplexity - 9) < 1e-4)
    }

    /// A tagger with every parameter 0 scores log C per word, and only words of the first label
    /// count as right (ties go to the first class); ablation moves a trained-looking tagger.
    @Test func taggerScore() throws {
        let labels = ["DET", "NOUN", "VERB"]
        let config = LSTMConfig(vocabularySize: 9, hiddenSize: 5, layers: 1, labels: labels, labelLevel: .token)
        let sentences = [["the", "dog", "runs"], ["a", "cat"]], gold = [["DET", "NOUN", "VERB"], ["DET", "NOUN"]]
        let zero = LSTMModel(network: LSTMNetwork<Float>(config: config), vocabulary: model().vocabulary, folder: "memory")
        let score = try zero.score(sentences, labels: gold)
        #expect(score.task == "tagging" && score.predictions == 5 && abs(score.loss - log(3)) < 1e-6 && abs(score.accuracy - 2.0 / 5) < 1e-12)
        // A label the tagger never saw is an error without a loss term.
        let unseen = try zero.score(sentences, labels: [["DET", "NOUN", "ADV"], ["DET", "NOUN"]])
        #expect(unseen.predictions == 5 && abs(unseen.accuracy - 2.0 / 5) < 1e-12 && abs(unseen.loss - 4 * log(3) / 5) < 1e-6)
        var net = LSTMNetwork<Float>(config: config)
        net.initialize(seed: 12)
        let tagger = LSTMModel(network: net, vocabulary: model().vocabulary, folder: "memory")
        let ablated = try tagger.score(
            sentences, labels: gold, ablations: [NeuronAblation(layer: 1, neurons: [0, 1, 2, 3, 4], values: [0, 0, 0, 0, 0])])
        // Every output zeroed: the decoder sees only its bias (0), so the loss is log C again.
        let plain = try tagger.score(sentences, labels: gold)
        #expect(abs(ablated.loss - log(3)) < 1e-6 && abs(plain.loss - log(3)) > 1e-4)
        #expect(throws: ModelError.self) { try tagger.score(sentences) }
        #expect(throws: ModelError.self) { try tagger.score(sentences, labels: [["DET"], ["DET", "NOUN"]]) }
    }

    @Test func ablationChangesTheScoreAndTheStates() throws {
        let m = model()
        let sentences = [["the", "dog", "runs"], ["a", "cat", "sleeps"]]
        let ablation = NeuronAblation(layer: 1, neurons: [0, 2], values: [0.5, 0.5])
        var states: [Matrix<Float>] = []
        try m.extract(sentences, layers: [1], aggregate: .last, ablations: [ablation], progress: { _ in }) { _, v in states.append(v[0]) }
        #expect(states.allSatisfy { m in (0..<m.rows).allSatisfy { m[$0, 0] == 0.5 && m[$0, 2] == 0.5 } })
        #expect(try m.score(sentences, ablations: [ablation]).loss != (try m.score(sentences)).loss)
        #expect(throws: ModelError.self) { try m.score(sentences, ablations: [NeuronAblation(layer: 3, neurons: [0], values: [0])]) }
    }

    /// An erasure inside the recurrence: every step's output of the layer has no component along
    /// the erased direction u beyond μ's ((x − μ)·u = 0), the embeddings below are untouched, the
    /// other directions of the layer move (the recurrence carries the change), and the loss moves.
    @Test func erasureActsAtEveryStep() throws {
        let m = model()
        let h = m.hiddenSize
        let sentences = [["the", "dog", "runs"], ["a", "cat", "sleeps"]]
        var u = [Float](repeating: 0, count: h)
        (u[0], u[1]) = (Float(0.5).squareRoot(), Float(0.5).squareRoot())
        let mean = (0..<h).map { Float($0) * 0.1 }
        let map = (0..<h * h).map { u[$0 / h] * u[$0 % h] }
        let erasure = NeuronAblation(layer: 1, erasureMap: map, mean: mean)
        var plain: [[Matrix<Float>]] = [], erased: [[Matrix<Float>]] = []
        try m.extract(sentences, layers: [0, 1], aggregate: .last, ablations: [], progress: { _ in }) { _, v in plain.append(v) }
        try m.extract(sentences, layers: [0, 1], aggregate: .last, ablations: [erasure], progress: { _ in }) { _, v in erased.append(v) }
        for (p, e) in zip(plain, erased) {
            #expect(p[0].elements == e[0].elements)
            for r in 0..<e[1].rows {
                let along = (0..<h).reduce(Float(0)) { $0 + (e[1][r, $1] - mean[$1]) * u[$1] }
                #expect(abs(along) < 1e-5)
            }
            #expect((0..<e[1].rows).contains { r in (2..<h).contains { abs(e[1][r, $0] - p[1][r, $0]) > 1e-4 } })
        }
        #expect(try m.score(sentences, ablations: [erasure]).loss != (try m.score(sentences)).loss)
        #expect(throws: ModelError.self) {
            try m.score(sentences, ablations: [NeuronAblation(layer: 1, erasureMap: [1], mean: [0])])
        }
    }

    /// Predictions counted by word: the flagged words' and the others' losses, weighted by their
    /// counts, are the loss over every word (the end of the sentence belongs to neither).
    @Test func scoresCountedByWordSplitTheLoss() throws {
        let m = model()
        let sentences = [["the", "dog", "runs"], ["a", "cat", "sleeps", "now"]]
        let nouns = [[false, true, false], [false, true, false, false]]
        let others = nouns.map { $0.map { !$0 } }, everyWord = nouns.map { $0.map { _ in true } }
        func score(_ words: [[Bool]]) throws -> ModelScore {
            try m.score(sentences, labels: nil, ablations: [], seed: 1, words: words, progress: { _ in })
        }
        let (a, b, all) = (try score(nouns), try score(others), try score(everyWord))
        let plain = try m.score(sentences)
        #expect(a.predictions == 2 && b.predictions == 5 && all.predictions == 7 && plain.predictions == 9)
        #expect(abs((Double(a.predictions) * a.loss + Double(b.predictions) * b.loss) / 7 - all.loss) < 1e-9)
        #expect(throws: ModelError.self) { try score([[false, false, false], [false, false, false, false]]) }
        #expect(throws: ModelError.self) { try score([[true]]) }
    }

    @Test func checkpointRoundTripAndDispatch() throws {
        let folder = NSTemporaryDirectory() + "sonde-lstm-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let m = model(tied: true)
        try LSTMModel.save(m.network, vocabulary: m.vocabulary, to: folder)
        let loaded = try loadLanguageModel(folder)
        #expect(loaded is LSTMModel && loaded.identity.architecture == "sonde-lstm" && loaded.identity.fingerprint != nil)
        let reread = loaded as! LSTMModel
        #expect(reread.network.values == m.network.values && reread.vocabulary == m.vocabulary && reread.config == m.config)
        #expect(try reread.score([["the", "dog"]]).loss == (try m.score([["the", "dog"]])).loss)
        #expect(throws: ModelError.self) { try loadLanguageModel(folder, tokenizer: "tokenizer.json") }
    }

    @Test func hostileCheckpoints() throws {
        let folder = NSTemporaryDirectory() + "sonde-lstm-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let m = model()
        try LSTMModel.save(m.network, vocabulary: m.vocabulary, to: folder)
        func expectRefused(_ contains: String) {
            #expect { _ = try LSTMModel(folder: folder) } throws: { "\($0)".contains(contains) }
        }
        let config = try String(contentsOfFile: folder + "/config.json", encoding: .utf8)
        try config.replacingOccurrences(of: "\"vocab_size\" : 9", with: "\"vocab_size\" : 900000000").write(
            toFile: folder + "/config.json", atomically: true, encoding: .utf8)
        expectRefused("vocab_size: 900000000 is not in")
        try config.replacingOccurrences(of: "\"hidden_size\" : 5", with: "\"hidden_size\" : 6").write(
            toFile: folder + "/config.json", atomically: true, encoding: .utf8)
        expectRefused("expected float32 [9, 6]")
        try config.write(toFile: folder + "/config.json", atomically: true, encoding: .utf8)
        try "<unk>\n<s>\n</s>\n".write(toFile: folder + "/vocab.txt", atomically: true, encoding: .utf8)
        expectRefused("3 words, but config.json says vocab_size 9")
    }
}

/// The largest relative difference between `analytic` and central differences (step 1e-6) of
/// `objective` in every parameter of `net` (relative to at least 1e-3).
func worstRelativeError(_ net: LSTMNetwork<Double>, _ analytic: [Double], _ objective: (LSTMNetwork<Double>) -> Double) -> Double {
    let eps = 1e-6
    var worst = 0.0
    for i in net.values.indices {
        var plus = net, minus = net
        plus.values[i] += eps
        minus.values[i] -= eps
        let numeric = (objective(plus) - objective(minus)) / (2 * eps)
        worst = max(worst, abs(numeric - analytic[i]) / max(1e-3, abs(numeric)))
    }
    return worst
}
