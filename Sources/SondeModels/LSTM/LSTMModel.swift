import Foundation
import SondeBase
import SondeLinalg

/// A native LSTM checkpoint as a `LanguageModel`: config.json (`model_type` "sonde-lstm"),
/// model.safetensors (PyTorch's names, F32) and vocab.txt. States are numbered as for
/// transformers: 0 = the word's embedding, k = layer k's output h after reading the word (or its
/// memory cell c, with `cellStates`). A sentence reads `<s> w₁ … wₙ` and, as a language model, predicts `w₁ … wₙ </s>`.
public final class LSTMModel: LoadableLanguageModel, PairTunableModel, CellStateModel {
    public let folder: String
    public let identity: ModelIdentity
    public let vocabulary: Vocabulary
    package let network: LSTMNetwork<Float>
    public var batchTokens = 2048
    /// Extract layer k's memory cells c instead of its outputs h (states 1…L; ablations and
    /// `tokenMeans` still act on h, the state the next layer reads).
    public var cellStates = false

    public var config: LSTMConfig { network.config }
    public var layerCount: Int { config.layers }
    public var hiddenSize: Int { config.hiddenSize }

    package init(network: LSTMNetwork<Float>, vocabulary: Vocabulary, folder: String, fingerprint: String? = nil) {
        self.network = network
        self.vocabulary = vocabulary
        self.folder = folder
        identity = ModelIdentity(architecture: LSTMConfig.modelType, hidden: network.config.hiddenSize, fingerprint: fingerprint)
    }

    /// Reads a checkpoint folder, checking every tensor's name, shape, type and finiteness.
    public convenience init(folder: String) throws {
        let configPath = folder + "/config.json"
        guard let data = try? MappedFile.data(configPath) else {
            throw ModelError(.missing, configPath, "no config.json: is this a model folder?")
        }
        let config: LSTMConfig
        do { config = try JSONCoding.decoder().decode(LSTMConfig.self, from: data) } catch {
            throw ModelError(.malformed, configPath, "not a sonde-lstm config (\(error))")
        }
        try config.validate(configPath)
        let weightsPath = folder + "/model.safetensors"
        let file: TensorCollection
        do { file = try TensorCollection.read(weightsPath) } catch let error as FileError { throw ModelError(.missing, weightsPath, "\(error)") }
        var network = LSTMNetwork<Float>(config: config)
        for t in network.tensors {
            guard let tensor = file[t.name] else { throw ModelError(.malformed, weightsPath, "no tensor '\(t.name)'") }
            guard tensor.shape == t.shape, tensor.dtype == .float32 else {
                throw ModelError(.malformed, weightsPath, "tensor '\(t.name)' is \(tensor.dtype) \(tensor.shape); expected float32 \(t.shape)")
            }
            let values = tensor.floats()
            guard values.allSatisfy(\.isFinite) else {
                throw ModelError(.malformed, weightsPath, "tensor '\(t.name)' holds a value that is not finite")
            }
            network.values.replaceSubrange(t.offset..<(t.offset + values.count), with: values)
        }
        let vocabulary = try Vocabulary.read(folder + "/vocab.txt", expected: config.vocabularySize)
        let fingerprint = try ModelIdentity.fingerprint(files: [configPath, weightsPath, folder + "/vocab.txt"])
        self.init(network: network, vocabulary: vocabulary, folder: folder, fingerprint: fingerprint)
    }

    /// A native LSTM reads words with its own vocab.txt: a `tokenizer` is an error.
    public convenience init(folder: String, tokenizer: String?) throws {
        if let tokenizer { throw ModelError(.unsupported, tokenizer, "a sonde-lstm model reads words with its own vocab.txt; leave out --tokenizer") }
        try self.init(folder: folder)
    }

    public static func layerCount(config path: String) throws -> Int {
        do { return try JSONCoding.decoder().decode(LSTMConfig.self, from: MappedFile.data(path)).layers } catch {
            throw ModelError(.malformed, path, "not a sonde-lstm config (\(error))")
        }
    }

    /// The checkpoint in `folder` when config.json names a native LSTM, nil when it names another
    /// family: for what only an LSTM does (training on from a checkpoint).
    public static func loadIfNative(_ folder: String) throws -> LSTMModel? {
        try languageModelFamily(folder) == LSTMModel.self ? LSTMModel(folder: folder) : nil
    }

    /// Writes a checkpoint folder (each file atomically); `extra` files are written beside them.
    package static func save(_ network: LSTMNetwork<Float>, vocabulary: Vocabulary, to folder: String, extra: [String: [UInt8]] = [:]) throws {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let config = try JSONCoding.encoder(pretty: true).encode(network.config)
        try AtomicFile.write(to: folder + "/config.json") { try $0.write(Array(config) + [0x0A]) }
        try Safetensors.write(
            network.tensors.map { t in
                TensorPayload(
                    name: t.name, shape: t.shape, dtype: .float32, values: .float(Array(network.values[t.offset..<(t.offset + t.shape.reduce(1, *))]))
                )
            }, metadata: ["format": "pt"], to: folder + "/model.safetensors")
        try vocabulary.write(to: folder + "/vocab.txt")
        for (name, bytes) in extra.sorted(by: { $0.key < $1.key }) { try AtomicFile.write(to: folder + "/" + name) { try $0.write(bytes) } }
    }

    // MARK: Batches

    /// Sentences as time-major batches of about `batchTokens` tokens: ids `<s> w₁ … wₙ`, padded
    /// with `<unk>` after the end; `first` is the index of the batch's first sentence.
    func batches(_ sentences: [[String]]) -> [(first: Int, count: Int, steps: Int, ids: [Int32])] {
        var result: [(Int, Int, Int, [Int32])] = []
        var start = 0
        while start < sentences.count {
            var end = start, longest = 0
            while end < sentences.count {
                let steps = max(longest, sentences[end].count + 1)
                if end > start && steps * (end - start + 1) > batchTokens { break }
                longest = steps
                end += 1
            }
            let batch = end - start
            var ids = [Int32](repeating: 0, count: longest * batch)
            for b in 0..<batch {
                ids[b] = 1
                for (i, w) in sentences[start + b].enumerated() { ids[(i + 1) * batch + b] = vocabulary.id(w) }
            }
            result.append((start, batch, longest, ids))
            start = end
        }
        return result
    }

    func ablationMap(_ ablations: [NeuronAblation]) throws -> [Int: [NeuronAblation]] {
        var map: [Int: [NeuronAblation]] = [:]
        for a in ablations {
            guard (0...layerCount).contains(a.layer), a.neurons.allSatisfy({ (0..<hiddenSize).contains($0) }),
                a.erasure.map({ $0.mean.count == hiddenSize }) ?? true
            else {
                throw ModelError(.unsupported, folder, "ablation of layer \(a.layer): the model has states 0…\(layerCount) of \(hiddenSize) neurons")
            }
            map[a.layer, default: []].append(a)
        }
        return map
    }

    // MARK: LanguageModel

    /// One vector per word (words are the model's tokens: `aggregate` has nothing to choose).
    public func extract(
        _ sentences: [[String]], layers: [Int], aggregate: SubwordAggregation, ablations: [NeuronAblation], progress: (Int) -> Void,
        emit: (Int, [Matrix<Float>]) throws -> Void
    ) throws {
        try states(sentences, layers: layers, cells: cellStates, ablations: ablations, progress: progress, emit: emit)
    }

    private func states(
        _ sentences: [[String]], layers: [Int], cells: Bool, ablations: [NeuronAblation], progress: (Int) -> Void,
        emit: (Int, [Matrix<Float>]) throws -> Void
    ) throws {
        if let bad = layers.first(where: { !(0...layerCount).contains($0) }) {
            throw ModelError(.unsupported, folder, "no layer \(bad); the model has 0…\(layerCount)")
        }
        let ablate = try ablationMap(ablations)
        let h = hiddenSize
        for batch in batches(sentences) {
            var noDropout: SplitMix64? = nil
            let pass = network.forward(ids: batch.ids, steps: batch.steps, batch: batch.count, ablate: ablate, generator: &noDropout)
            let states = layers.map { $0 == 0 ? pass.inputs[0] : (cells ? pass.cells[$0 - 1] : pass.hidden[$0 - 1]) }
            for b in 0..<batch.count {
                let words = sentences[batch.first + b].count
                let vectors = states.map { states -> Matrix<Float> in
                    var m = Matrix<Float>(rows: words, columns: h)
                    states.withUnsafeBufferPointer { source in
                        m.withUnsafeMutableBufferPointer { target in
                            // Word i is step i + 1 (step 0 reads <s>).
                            for i in 0..<words {
                                (target.baseAddress! + i * h).update(from: source.baseAddress! + ((i + 1) * batch.count + b) * h, count: h)
                            }
                        }
                    }
                    return m
                }
                try emit(batch.first + b, vectors)
            }
            progress(batch.first + batch.count)
        }
    }

    /// A language model: next-word cross-entropy over `w₁ … wₙ </s>` (unknown words predicted as
    /// `<unk>`, as the model was trained). A tagger or classifier: loss and accuracy against
    /// `labels` (per sentence, its words' labels or its one label). `ablations` act inside the
    /// forward pass.
    public func score(
        _ sentences: [[String]], labels: [[String]]?, ablations: [NeuronAblation], seed: UInt64, words: [[Bool]]?, progress: (Int) -> Void
    ) throws
        -> ModelScore
    {
        let ablate = try ablationMap(ablations)
        if let words {
            guard config.labelLevel == nil else { throw ModelError(.unsupported, folder, "only a language model's predictions can be counted by word") }
            guard words.count == sentences.count, zip(words, sentences).allSatisfy({ $0.count == $1.count }) else {
                throw ModelError(.unsupported, folder, "one flag per word of every sentence is needed to count predictions by word")
            }
        }
        guard let level = config.labelLevel else {
            var (loss, count, correct) = (0.0, 0, 0)
            for batch in batches(sentences) {
                var noDropout: SplitMix64? = nil
                let pass = network.forward(ids: batch.ids, steps: batch.steps, batch: batch.count, ablate: ablate, generator: &noDropout)
                var targets = Self.nextWordTargets(
                    batch.ids, steps: batch.steps, batch: batch.count, lengths: (0..<batch.count).map { sentences[batch.first + $0].count })
                if let words {
                    // Step t predicts word t; the end of the sentence belongs to no word.
                    for b in 0..<batch.count {
                        let flags = words[batch.first + b]
                        for t in 0..<batch.steps where targets[t * batch.count + b] >= 0 && !(t < flags.count && flags[t]) {
                            targets[t * batch.count + b] = -1
                        }
                    }
                }
                let r = network.score(pass, targets: targets)
                (loss, count, correct) = (loss + r.loss, count + r.count, correct + r.correct)
                progress(batch.first + batch.count)
            }
            if words != nil && count == 0 { throw ModelError(.unsupported, folder, "nothing to score: no next-word prediction falls on the chosen words") }
            let mean = loss / Double(max(count, 1))
            return ModelScore(
                task: "next-token", predictions: count, loss: mean, perplexity: exp(mean), accuracy: Double(correct) / Double(max(count, 1)))
        }
        let task: LSTMTask
        switch (level, labels) {
        case (.token, let labels?) where labels.count == sentences.count && zip(labels, sentences).allSatisfy({ $0.count == $1.count }):
            task = LSTMTask(sentences: sentences, tokenLabels: labels)
        case (.sentence, let labels?) where labels.count == sentences.count:
            task = LSTMTask(sentences: sentences, sentenceLabels: labels.map { $0.first ?? "" })
        default:
            throw ModelError(
                .unsupported, folder,
                "a \(level == .token ? "tagger" : "classifier") is scored against one label per \(level == .token ? "word" : "sentence"); give the property it was trained on (e.g. --property upos)"
            )
        }
        let r = labelScore(task, ablate: ablate, progress: progress)
        return ModelScore(
            task: level == .token ? "tagging" : "classification", predictions: r.count, loss: r.loss, perplexity: exp(r.loss), accuracy: r.accuracy)
    }

    /// Mean loss and accuracy of a tagger or classifier against `task`'s labels; a label the
    /// model never saw counts as an error without a loss term.
    package func labelScore(
        _ task: LSTMTask, ablate: [Int: [NeuronAblation]] = [:], progress: (Int) -> Void = { _ in }
    ) -> (
        loss: Double, count: Int, accuracy: Double
    ) {
        let index = Dictionary(uniqueKeysWithValues: (config.labels ?? []).enumerated().map { ($1, Int32($0)) })
        var (loss, count, correct) = (0.0, 0, 0)
        for batch in batches(task.sentences) {
            var none: SplitMix64? = nil
            let pass = network.forward(ids: batch.ids, steps: batch.steps, batch: batch.count, ablate: ablate, generator: &none)
            var targets = [Int32](repeating: -1, count: batch.ids.count)
            for b in 0..<batch.count {
                let s = batch.first + b
                if let labels = task.tokenLabels?[s] {
                    for (i, label) in labels.enumerated() { targets[(i + 1) * batch.count + b] = index[label] ?? Int32.max }
                } else if let label = task.sentenceLabels?[s] {
                    targets[task.sentences[s].count * batch.count + b] = index[label] ?? Int32.max
                }
            }
            let unseen = targets.filter { $0 == Int32.max }.count
            targets = targets.map { $0 == Int32.max ? -1 : $0 }
            let r = network.score(pass, targets: targets)
            (loss, count, correct) = (loss + r.loss, count + r.count + unseen, correct + r.correct)
            progress(batch.first + batch.count)
        }
        return (loss / Double(max(count, 1)), count, Double(correct) / Double(max(count, 1)))
    }

    /// Targets of an LM batch: position t predicts the input at t + 1, the last word `</s>`,
    /// padding nothing (−1).
    package static func nextWordTargets(_ ids: [Int32], steps: Int, batch: Int, lengths: [Int]) -> [Int32] {
        var targets = [Int32](repeating: -1, count: ids.count)
        for b in 0..<batch {
            for t in 0..<lengths[b] { targets[t * batch + b] = ids[(t + 1) * batch + b] }
            targets[lengths[b] * batch + b] = 2
        }
        return targets
    }

    public func tokenMeans(_ sentences: [[String]], layer: Int) throws -> [Float] {
        var sums = [Double](repeating: 0, count: hiddenSize)
        var count = 0
        try states(sentences, layers: [layer], cells: false, ablations: [], progress: { _ in }) { _, vectors in
            let m = vectors[0]
            for i in 0..<m.rows { for j in 0..<m.columns { sums[j] += Double(m[i, j]) } }
            count += m.rows
        }
        return sums.map { Float($0 / Double(max(count, 1))) }
    }
}
