import Foundation
import SondeBase
import SondeLinalg

/// Training settings of a native LSTM (language model, tagger or sentence classifier), stored
/// with every checkpoint so a run can be resumed and reported.
public struct LSTMTrainingSettings: Codable, Sendable, Equatable {
    public var layers = 2
    public var hidden = 256
    public var tiedEmbeddings = false
    /// Words seen fewer times are `<unk>`; at most `maxVocabulary` words with the specials.
    public var minCount = 2
    public var maxVocabulary = 10_000
    /// Sentences per batch; longer sentences are cut into pieces of `maxLength` words, each
    /// read from a fresh state (so back-propagation through time is truncated there).
    public var batchSize = 32
    public var maxLength = 48
    /// Batches of sentences of about one length (less padding) instead of uniformly random
    /// ones. Off by default: on EWT it cost 11% dev perplexity at 512 steps (210.9 against
    /// 189.6) for a few percent of speed, the decoder already skipping padding.
    public var lengthBuckets = false
    public var steps = 400
    public var optimizer = Optimizer.adam
    /// Adam 2e-3; plain SGD wants about 1 (the word-LM example's 20 assumes sums, not means).
    public var learningRate = 2e-3
    /// Rescale the whole gradient to at most this norm (0 = never).
    public var clip = 1.0
    public var dropout = 0.2
    public var seed: UInt64 = 1
    /// Steps after which a checkpoint is written; nil = 0 and the powers of two from 16 below
    /// `steps`, and `steps` (log-spaced, as Pythia's).
    public var checkpoints: [Int]?

    public enum Optimizer: String, Codable, Sendable, CaseIterable { case adam, sgd }

    public init() {}

    public var checkpointSteps: [Int] {
        if let checkpoints { return Array(Set(checkpoints.filter { (0...steps).contains($0) })).sorted() }
        var list = [0]
        var s = 16
        while s < steps {
            list.append(s)
            s *= 2
        }
        return list + [steps]
    }
}

/// What a task gives the trainer: sentences, and for a tagger one label per word, for a
/// classifier one per sentence.
public struct LSTMTask: Sendable {
    public var sentences: [[String]]
    public var tokenLabels: [[String]]?
    public var sentenceLabels: [String]?
    /// Labels that only group words in the concentration measured at each checkpoint (e.g. UPOS
    /// for a language model); not trained on.
    public var analysisLabels: [[String]]?

    public init(sentences: [[String]], tokenLabels: [[String]]? = nil, sentenceLabels: [String]? = nil, analysisLabels: [[String]]? = nil) {
        self.sentences = sentences
        self.tokenLabels = tokenLabels
        self.sentenceLabels = sentenceLabels
        self.analysisLabels = analysisLabels
    }

    var level: LSTMConfig.LabelLevel? { tokenLabels != nil ? .token : sentenceLabels != nil ? .sentence : nil }
}

/// One checkpoint as written: its step, folder and how good it was.
public struct LSTMCheckpoint: Codable, Sendable {
    public var step: Int
    public var folder: String
    /// Mean training loss over the steps since the previous checkpoint (nil at step 0).
    public var trainLoss: Double?
    /// Dev loss (nats) and, for an LM, perplexity; for a tagger or classifier, accuracy.
    public var devLoss: Double
    public var devPerplexity: Double?
    public var devAccuracy: Double
    public var tokensSeen: Int
    public var settings: LSTMTrainingSettings
    /// Of the first 500 dev sentences (also in the checkpoint's concentration.json).
    public var concentration: Concentration?
}

/// Trains a native LSTM with a fixed seed: the same settings and data give byte-identical
/// checkpoints, and training resumes from any checkpoint exactly (the batch order and dropout
/// masks of step s depend only on the seed and s; the optimiser's moments are saved with it).
public final class LSTMTrainer {
    public let settings: LSTMTrainingSettings
    private var network: LSTMNetwork<Float>
    private let vocabulary: Vocabulary
    private let origin: String
    /// The model as trained so far.
    public var model: LSTMModel { LSTMModel(network: network, vocabulary: vocabulary, folder: origin) }
    private let train: LSTMTask
    private let dev: LSTMTask
    private let labelIndex: [String: Int32]
    /// Adam's first and second moments.
    private var firstMoments: [Float]
    private var secondMoments: [Float]
    private var step = 0
    private var tokensSeen = 0
    private var pieces: [(sentence: Int, words: Range<Int>)] = []

    /// A new model (vocabulary from `train`), or — with `start` — continued from a checkpoint:
    /// the same task resumes it; a labelled task on a language model fine-tunes it (a new
    /// decoder over the labels, the embedding and LSTM layers kept).
    public init(settings: LSTMTrainingSettings, train: LSTMTask, dev: LSTMTask, start: LSTMModel? = nil) throws {
        self.settings = settings
        self.train = train
        self.dev = dev
        let labels = (train.tokenLabels?.flatMap { $0 } ?? train.sentenceLabels ?? []).reduce(into: [String]()) {
            if !$0.contains($1) { $0.append($1) }
        }
        .sorted()
        if train.level != nil && labels.count < 2 { throw ModelError(.malformed, "training data", "the labels have fewer than two classes") }
        labelIndex = Dictionary(uniqueKeysWithValues: labels.enumerated().map { ($1, Int32($0)) })
        let vocabulary = start?.vocabulary ?? Vocabulary(sentences: train.sentences, minCount: settings.minCount, maxSize: settings.maxVocabulary)
        let config = LSTMConfig(
            vocabularySize: vocabulary.count, hiddenSize: start?.hiddenSize ?? settings.hidden, layers: start?.layerCount ?? settings.layers,
            tiedEmbeddings: train.level == nil && (start?.config.tiedEmbeddings ?? settings.tiedEmbeddings),
            labels: train.level == nil ? nil : labels,
            labelLevel: train.level)
        var network = LSTMNetwork<Float>(config: config)
        network.initialize(seed: settings.seed)
        if let start {
            if start.config == config {
                network = start.network
            } else {
                // Fine-tuning: keep every tensor the two models share with the same shape.
                for t in network.tensors where t.name != "decoder.weight" && t.name != "decoder.bias" {
                    guard let old = start.network.tensors.first(where: { $0.name == t.name && $0.shape == t.shape }) else { continue }
                    let n = t.shape.reduce(1, *)
                    network.values.replaceSubrange(t.offset..<(t.offset + n), with: start.network.values[old.offset..<(old.offset + n)])
                }
            }
        }
        self.network = network
        self.vocabulary = vocabulary
        origin = start?.folder ?? "(training)"
        firstMoments = [Float](repeating: 0, count: network.count)
        secondMoments = firstMoments
        for (s, sentence) in train.sentences.enumerated() {
            for from in stride(from: 0, to: max(sentence.count, 1), by: settings.maxLength) {
                pieces.append((s, from..<min(sentence.count, from + settings.maxLength)))
            }
        }
        // A checkpoint with a trainer state resumes; a malformed state is an error, not a fresh start.
        if let start, start.config == config, FileManager.default.fileExists(atPath: start.folder + "/trainer_state.json") {
            let state = try Self.readState(start.folder)
            var comparable = state.settings
            (comparable.steps, comparable.checkpoints) = (settings.steps, settings.checkpoints)
            guard comparable == settings else {
                throw ModelError(.unsupported, start.folder, "resuming needs the settings the checkpoint was trained with (its trainer_state.json)")
            }
            step = state.step
            tokensSeen = state.tokensSeen
            (firstMoments, secondMoments) = try Self.readMoments(start.folder, count: network.count)
        }
        guard !pieces.isEmpty else { throw ModelError(.malformed, "training data", "no sentences to train on") }
        // Without dev sentences every checkpoint would report perplexity 1 and accuracy 0.
        guard !dev.sentences.isEmpty else {
            throw ModelError(.malformed, "training data", "no dev sentences (every fourth of five): give a treebank of at least four sentences")
        }
    }

    /// Trains up to `settings.steps`, writing each checkpoint step not yet reached into
    /// `folder/step-<s>`; `progress` gets (step, steps, mean loss of the last steps, tokens/s).
    public func run(into folder: String, progress: (Int, Int, Double, Double) -> Void = { _, _, _, _ in }) throws -> [LSTMCheckpoint] {
        var written: [LSTMCheckpoint] = []
        var lossSum = 0.0, lossSteps = 0
        // The rate counts training only: it restarts after each checkpoint's evaluation.
        var started = Date()
        var startTokens = tokensSeen
        let schedule = settings.checkpointSteps
        if schedule.contains(step), !FileManager.default.fileExists(atPath: checkpointFolder(folder, step) + "/trainer_state.json") {
            written.append(try checkpoint(folder, trainLoss: nil))
        }
        while step < settings.steps {
            lossSum += trainStep()
            lossSteps += 1
            let seconds = Date().timeIntervalSince(started)
            progress(step, settings.steps, lossSum / Double(lossSteps), seconds > 0 ? Double(tokensSeen - startTokens) / seconds : 0)
            if schedule.contains(step) {
                written.append(try checkpoint(folder, trainLoss: lossSum / Double(lossSteps)))
                (lossSum, lossSteps) = (0, 0)
                (started, startTokens) = (Date(), tokensSeen)
            }
        }
        return written
    }

    /// One optimiser step on the batch of step `step + 1`; returns its mean loss.
    private func trainStep() -> Double {
        let (ids, targets, steps, batch) = batchOf(step: step)
        var generator: SplitMix64? = SplitMix64(seed: settings.seed &* 0x9E37_79B9_7F4A_7C15 &+ UInt64(step))
        let pass = network.forward(ids: ids, steps: steps, batch: batch, dropout: settings.dropout, generator: &generator)
        let r = network.score(pass, targets: targets)
        let gradient = network.backward(pass, ids: ids, scored: r)
        step += 1
        tokensSeen += r.count
        applyOptimizerStep(
            gradient, to: &network.values, first: &firstMoments, second: &secondMoments, step: step, optimizer: settings.optimizer,
            rate: Float(settings.learningRate), clip: settings.clip)
        return r.loss / Double(max(r.count, 1))
    }

    /// The batch of step s: pieces s·B … s·B + B − 1 of the stream of seeded epoch orders.
    private func batchOf(step s: Int) -> (ids: [Int32], targets: [Int32], steps: Int, batch: Int) {
        let n = pieces.count
        let chosen = (0..<settings.batchSize).map { k -> (sentence: Int, words: Range<Int>) in
            let position = s * settings.batchSize + k
            return pieces[epochOrder(position / n)[position % n]]
        }
        let steps = chosen.map { $0.words.count + 1 }.max()!
        let batch = chosen.count
        var ids = [Int32](repeating: 0, count: steps * batch)
        var targets = [Int32](repeating: -1, count: steps * batch)
        for (b, piece) in chosen.enumerated() {
            let words = Array(train.sentences[piece.sentence][piece.words])
            ids[b] = 1
            for (i, w) in words.enumerated() { ids[(i + 1) * batch + b] = vocabulary.id(w) }
            if let labels = train.tokenLabels {
                for i in 0..<words.count { targets[(i + 1) * batch + b] = labelIndex[labels[piece.sentence][piece.words.lowerBound + i]] ?? -1 }
            } else if let labels = train.sentenceLabels {
                if piece.words.upperBound == train.sentences[piece.sentence].count {
                    targets[words.count * batch + b] = labelIndex[labels[piece.sentence]] ?? -1
                }
            } else {
                for t in 0..<words.count { targets[t * batch + b] = ids[(t + 1) * batch + b] }
                // Only the sentence's last piece ends with </s>.
                if piece.words.upperBound == train.sentences[piece.sentence].count { targets[words.count * batch + b] = 2 }
            }
        }
        return (ids, targets, steps, batch)
    }

    private var orders: [Int: [Int]] = [:]

    /// Epoch e's order of the pieces: a seeded shuffle, then within each run of 50 batches the
    /// pieces sorted by length and the batches shuffled again, so a batch holds sentences of
    /// about one length (little padding) and the batch lengths still come in random order.
    private func epochOrder(_ epoch: Int) -> [Int] {
        if let order = orders[epoch] { return order }
        var generator = SplitMix64(seed: settings.seed &+ 0xE90C &* UInt64(epoch + 1))
        var order = generator.shuffled(Array(pieces.indices))
        let b = settings.batchSize
        for start in stride(from: 0, to: settings.lengthBuckets ? order.count : 0, by: 50 * b) {
            let end = min(order.count, start + 50 * b)
            let sorted = order[start..<end].sorted { (pieces[$0].words.count, $0) < (pieces[$1].words.count, $1) }
            let batches = stride(from: 0, to: sorted.count, by: b).map { Array(sorted[$0..<min(sorted.count, $0 + b)]) }
            order.replaceSubrange(start..<end, with: generator.shuffled(batches).flatMap { $0 })
        }
        orders = [epoch: order]
        return order
    }

    // MARK: Evaluation and checkpoints

    /// Dev loss and accuracy (and perplexity for a language model), without dropout.
    public func evaluate() throws -> (loss: Double, perplexity: Double?, accuracy: Double) {
        let model = self.model
        guard model.config.labelLevel != nil else {
            let s = try model.score(dev.sentences)
            return (s.loss, s.perplexity, s.accuracy)
        }
        let r = model.labelScore(dev)
        return (r.loss, nil, r.accuracy)
    }

    private func checkpointFolder(_ folder: String, _ step: Int) -> String { folder + "/step-\(step)" }

    private func checkpoint(_ folder: String, trainLoss: Double?) throws -> LSTMCheckpoint {
        let dev = try evaluate()
        let target = checkpointFolder(folder, step)
        let sample = min(self.dev.sentences.count, 500)
        let concentration = model.concentration(
            Array(self.dev.sentences.prefix(sample)), labels: (self.dev.analysisLabels ?? self.dev.tokenLabels).map { Array($0.prefix(sample)) })
        let record = LSTMCheckpoint(
            step: step, folder: target, trainLoss: trainLoss, devLoss: dev.loss, devPerplexity: dev.perplexity, devAccuracy: dev.accuracy,
            tokensSeen: tokensSeen, settings: settings, concentration: concentration)
        let encoder = JSONCoding.encoder(pretty: true)
        var state = record
        state.folder = "step-\(step)"
        // The optimiser first, the trainer state last: a checkpoint with its state is complete.
        try FileManager.default.createDirectory(atPath: target, withIntermediateDirectories: true)
        try Safetensors.write(
            [
                TensorPayload(name: "adam.first", shape: [firstMoments.count], dtype: .float32, values: .float(firstMoments)),
                TensorPayload(name: "adam.second", shape: [secondMoments.count], dtype: .float32, values: .float(secondMoments)),
            ], to: target + "/optimizer.safetensors")
        try LSTMModel.save(
            network, vocabulary: vocabulary, to: target,
            extra: [
                Concentration.fileName: Array(try encoder.encode(concentration)) + [0x0A],
                "trainer_state.json": Array(try encoder.encode(state)) + [0x0A],
            ])
        return record
    }

    private static func readState(_ folder: String) throws -> LSTMCheckpoint {
        guard let data = try? MappedFile.data(folder + "/trainer_state.json") else {
            throw ModelError(.missing, folder + "/trainer_state.json", "no trainer state")
        }
        do { return try JSONCoding.decoder().decode(LSTMCheckpoint.self, from: data) } catch {
            throw ModelError(.malformed, folder + "/trainer_state.json", "not a trainer state written by sonde lm train (\(error))")
        }
    }

    private static func readMoments(_ folder: String, count: Int) throws -> ([Float], [Float]) {
        let path = folder + "/optimizer.safetensors"
        let file = try TensorCollection.read(path)
        guard let a = file["adam.first"], let b = file["adam.second"], a.shape == [count], b.shape == [count] else {
            throw ModelError(.malformed, path, "expected adam.first and adam.second of \(count) values")
        }
        return (a.floats(), b.floats())
    }
}

/// One optimiser step on `values`, at `indices` only when given (the others keep their bits):
/// the gradient scaled to at most `clip` in norm over those entries (0 = never), then Adam
/// (β₁ 0.9, β₂ 0.999, ε 1e-8, bias-corrected at `step`, counted from 1) or plain SGD, descending.
package func applyOptimizerStep(
    _ gradient: [Float], to values: inout [Float], first: inout [Float], second: inout [Float], step: Int,
    optimizer: LSTMTrainingSettings.Optimizer, rate: Float, clip: Double, indices: [Int]? = nil
) {
    let (b1, b2): (Float, Float) = (0.9, 0.999)
    let c1 = 1 - Float(pow(0.9, Double(step))), c2 = 1 - Float(pow(0.999, Double(step)))
    let adam = optimizer == .adam
    gradient.withUnsafeBufferPointer { g in
        var squares = 0.0
        if let indices {
            for i in indices { squares += Double(g[i]) * Double(g[i]) }
        } else {
            for i in g.indices { squares += Double(g[i]) * Double(g[i]) }
        }
        let norm = squares.squareRoot()
        let scale: Float = clip > 0 && norm > clip ? Float(clip / norm) : 1
        values.withUnsafeMutableBufferPointer { w in
            first.withUnsafeMutableBufferPointer { m in
                second.withUnsafeMutableBufferPointer { v in
                    @inline(__always) func update(_ i: Int) {
                        let d = g[i] * scale
                        if adam {
                            m[i] = b1 * m[i] + (1 - b1) * d
                            v[i] = b2 * v[i] + (1 - b2) * d * d
                            w[i] -= rate * (m[i] / c1) / ((v[i] / c2).squareRoot() + 1e-8)
                        } else {
                            w[i] -= rate * d
                        }
                    }
                    if let indices { for i in indices { update(i) } } else { for i in g.indices { update(i) } }
                }
            }
        }
    }
}
