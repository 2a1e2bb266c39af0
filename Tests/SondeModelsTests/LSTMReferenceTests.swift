import Foundation
import Testing

@testable import SondeModels

/// The native LSTM against PyTorch's nn.LSTM on the same weights (a formula both sides compute):
/// sentence log-probabilities, the weights after one Adam step of `LSTMTrainer`, and a minimal pair's
/// gradient differential and one masked FTGD step. Reference
/// values from `python3 benchmarks/references/lstm_reference.py` (torch 2.15, float32).
struct LSTMReferenceTests {
    func model() -> LSTMModel {
        var net = LSTMNetwork<Float>(config: LSTMConfig(vocabularySize: 7, hiddenSize: 4, layers: 2))
        for k in net.values.indices { net.values[k] = Float(0.3 * sin(0.37 * Double(k) + 0.1)) }
        return LSTMModel(network: net, vocabulary: Vocabulary(words: Vocabulary.specials + ["a", "b", "c", "d"]), folder: "memory")
    }

    @Test func sentenceLogProbabilities() throws {
        let m = model()
        for (sentence, expected) in [(["a", "b", "c"], -7.70278025), (["d", "a"], -5.60529375)] {
            let score = try m.score([sentence])
            let logp = -score.loss * Double(score.predictions)
            #expect(abs(logp - expected) <= 1e-5 * abs(expected), "\(sentence): \(logp) vs \(expected)")
        }
    }

    @Test func oneAdamStep() throws {
        let folder = NSTemporaryDirectory() + "sonde-lstm-reference-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let m = model()
        try LSTMModel.save(m.network, vocabulary: m.vocabulary, to: folder + "/start")
        var settings = LSTMTrainingSettings()
        (settings.steps, settings.batchSize, settings.dropout, settings.learningRate, settings.clip, settings.checkpoints) = (1, 2, 0, 0.01, 0, [1])
        let task = LSTMTask(sentences: [["a", "b", "c"], ["d", "a"]])
        _ = try LSTMTrainer(settings: settings, train: task, dev: task, start: try LSTMModel(folder: folder + "/start")).run(into: folder)
        let stepped = try LSTMModel(folder: folder + "/step-1").network
        let reference: [(String, Double, Double)] = [
            ("encoder.weight", 1.31051876, 0.0299500246), ("rnn.weight_ih_l0", 0.47189441, -0.267988384),
            ("rnn.weight_hh_l0", -1.37156115, 0.111654013), ("rnn.bias_ih_l0", -0.131619146, 0.296619326),
            ("rnn.bias_hh_l0", -0.0518599749, 0.246480435), ("rnn.weight_ih_l1", -0.25191499, 0.145515993),
            ("rnn.weight_hh_l1", 1.68987862, -0.226445809), ("rnn.bias_ih_l1", 0.278612712, -0.201212347),
            ("rnn.bias_hh_l1", 0.175100461, -0.111748978), ("decoder.weight", -1.35378762, -0.0264021531),
            ("decoder.bias", 1.38467322, 0.240795165),
        ]
        for (name, sum, first) in reference {
            let t = stepped.tensors.first { $0.name == name }!
            let values = stepped.values[t.offset..<(t.offset + t.shape.reduce(1, *))].map(Double.init)
            #expect(abs(values.reduce(0, +) - sum) <= 1e-5 * Double(values.count), "\(name) sum")
            #expect(abs(values[0] - first) <= 1e-5, "\(name) first")
        }
    }

    /// Minimal pairs on the same weights: the margins, the top-10% mask of |Δg| and one masked
    /// Adam step ascending Σ m (lr 0.01, no clipping) against PyTorch's autograd and Adam (the
    /// second part of the same script).
    @Test func oneGradientDifferentialStep() throws {
        let m = model()
        let pairs: [(good: [String], bad: [String])] = [(["a", "b", "c"], ["a", "c", "c"]), (["d", "a"], ["d", "b"])]
        let (margins, gradient) = m.marginGradient(pairs)
        for (ours, expected) in zip(margins, [0.16354084, 0.257643223]) { #expect(abs(ours - expected) <= 1e-5 * abs(expected)) }
        let mask = ParameterMask.top(gradient, share: 0.1)
        #expect(
            mask.indices == [
                220, 221, 222, 223, 224, 225, 226, 227, 229, 230, 317, 318, 319, 324, 325, 326, 327, 330, 331, 333, 334, 335, 340, 341, 342, 343,
                346, 347, 360, 361, 362, 363, 368, 369, 370, 371, 379, 381,
            ])
        var settings = PairTuningSettings()
        (settings.mask, settings.learningRate, settings.clip, settings.batchSize) = (0.1, 0.01, 0, 2)
        let stepped = m.tuned(on: pairs, mask: mask, settings: settings).network
        let reference: [(String, Double, Double)] = [
            ("encoder.weight", 1.35056035, 0.0299500246), ("rnn.weight_ih_l0", 0.133811355, -0.257992715),
            ("rnn.weight_hh_l0", -1.05164642, 0.1216482), ("rnn.bias_ih_l0", -0.231583153, 0.286648422),
            ("rnn.bias_hh_l0", -0.151824015, 0.236509517), ("rnn.weight_ih_l1", 0.288067646, 0.155515581),
            ("rnn.weight_hh_l1", 1.04995161, -0.236441717), ("rnn.bias_ih_l1", 0.208613511, -0.211212292),
            ("rnn.bias_hh_l1", 0.105101217, -0.121748924), ("decoder.weight", -1.37378752, -0.0164021775),
            ("decoder.bias", 1.35467323, 0.250795156),
        ]
        for (name, sum, first) in reference {
            let t = stepped.tensors.first { $0.name == name }!
            let values = stepped.values[t.offset..<(t.offset + t.shape.reduce(1, *))].map(Double.init)
            #expect(abs(values.reduce(0, +) - sum) <= 1e-5 * Double(values.count), "\(name) sum")
            #expect(abs(values[0] - first) <= 1e-5, "\(name) first")
        }
    }
}
