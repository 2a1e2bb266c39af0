import Foundation
import SondeBase
import SondeCorpus
import SondeLinalg
import SondeModels
import SondeProbe
import SondeSimilarity

/// Everything a study found, for results.json and the report.
public struct ExperimentResults: Codable, Sendable {
    public struct LayerProbe: Codable, Sendable {
        public var layer: String
        public var accuracy: Double
        public var accuracySD: Double
        public var selectivity: Double
        public var selectivitySD: Double
        public var majority: Double
        /// The first seed's ranking (most salient first) and its top-k.
        public var ranking: [Int]
        /// What makes the probe degenerate or doubtful (the first seed's, `ProbeStudy.warnings`).
        public var warnings: [String]
    }

    public struct PropertyResult: Codable, Sendable {
        public var property: String
        public var layers: [LayerProbe]
        /// The layer with the best mean dev accuracy: its top-k neurons, ablation and top words.
        public var bestLayer: String
        public var topNeurons: [Int]
        public var topWeights: [Double]
        public var ablation: AblationStudy.Result?
        public var topWords: TopActivations?
        /// Over training: per checkpoint × layer, similarity to the last checkpoint and probes.
        public var dynamics: Dynamics
        /// The same against the tagger, when the experiment trains one.
        public var dynamicsToTagger: Dynamics?
        /// Pre-trained against fine-tuned, when the experiment fine-tunes.
        public var fineTuning: ModelComparison?
    }

    public var version: String
    public var experiment: Experiment
    /// Content hashes of the inputs (treebank files) and of each stage's settings.
    public var inputHashes: [String: String]
    public var checkpoints: [LSTMCheckpoint]
    public var tagger: LSTMCheckpoint?
    public var finetuned: LSTMCheckpoint?
    public var properties: [PropertyResult]
    /// Stages computed in this run and taken from the cache.
    public var computed: [String]
    public var cached: [String]
    public var warnings: [String]
}

/// Runs an `Experiment` stage by stage in dependency order — train (LM, tagger, fine-tuned
/// copy), extract each checkpoint, probe each property on each layer over seeds, ablate, follow
/// over training, compare before and after fine-tuning — each stage cached under
/// `output/cache` by a content hash of its inputs and settings, so a rerun recomputes only what
/// a changed setting touches, and an interrupted run continues (every file is written atomically).
public final class ExperimentRunner {
    public let experiment: Experiment
    /// Recompute every stage.
    public var force = false
    /// (stage, done, total) while a stage runs; a message when a stage starts or is cached.
    public var progress: (String, Int, Int) -> Void = { _, _, _ in }
    public var log: (String) -> Void = { _ in }
    private var computed: [String] = [], cached: [String] = []
    private var cache: String { experiment.output + "/cache" }

    public static let version = "0.2.0"

    public init(_ experiment: Experiment) { self.experiment = experiment }

    /// The content address of a stage: FNV-1a over its parts (each followed by a separator).
    static func hash(_ parts: [String]) -> String {
        var h = FNV1a()
        for part in parts { h.mix(Array(part.utf8) + [0xFF]) }
        return h.hex
    }

    static func fileHash(_ path: String) throws -> String {
        let file = try MappedFile(path: path)
        var h = FNV1a()
        withExtendedLifetime(file) { h.mix(file.bytes) }  // the mapping lives as long as the file object
        return h.hex
    }

    private func json<T: Encodable>(_ value: T) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    /// A cached stage: its stored result when present (and not forced), else computed and stored.
    private func stage<T: Codable>(_ name: String, _ key: String, _ body: () throws -> T) throws -> T {
        let path = cache + "/\(name)-\(key).json"
        if !force, let data = try? MappedFile.data(path), let value = try? JSONDecoder().decode(T.self, from: data) {
            cached.append(name)
            log("cached: \(name)")
            return value
        }
        log("running: \(name)")
        let value = try body()
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        let data = try encoder.encode(value)
        try AtomicFile.write(to: path) { try $0.write(Array(data)) }
        computed.append(name)
        return value
    }

    /// A trained model folder: reused when its last checkpoint is complete (and not forced).
    private func train(
        _ name: String, key: String, settings: LSTMTrainingSettings, train: LSTMTask, dev: LSTMTask, start: LSTMModel? = nil
    ) throws -> [LSTMCheckpoint] {
        let folder = cache + "/\(name)-\(key)"
        let steps = settings.checkpointSteps
        let states = steps.map { folder + "/step-\($0)/trainer_state.json" }
        if !force, states.allSatisfy({ FileManager.default.fileExists(atPath: $0) }) {
            cached.append(name)
            log("cached: \(name)")
            return try readCheckpoints(folder, steps)
        }
        log("running: \(name)")
        if force { try? FileManager.default.removeItem(atPath: folder) }
        // A partial folder from an interrupted run continues from its last complete checkpoint.
        let done = steps.last { FileManager.default.fileExists(atPath: folder + "/step-\($0)/trainer_state.json") }
        let resume = try done.map { try LSTMModel(folder: folder + "/step-\($0)") } ?? start
        let trainer = try LSTMTrainer(settings: settings, train: train, dev: dev, start: resume)
        _ = try trainer.run(into: folder) { s, total, _, _ in self.progress(name, s, total) }
        computed.append(name)
        return try readCheckpoints(folder, steps)
    }

    /// The checkpoint records of a training folder (their folders made full paths).
    private func readCheckpoints(_ folder: String, _ steps: [Int]) throws -> [LSTMCheckpoint] {
        try steps.map { step in
            let path = folder + "/step-\(step)"
            var record = try JSONDecoder().decode(LSTMCheckpoint.self, from: MappedFile.data(path + "/trainer_state.json"))
            record.folder = path
            return record
        }
    }

    public func run() throws -> ExperimentResults {
        let e = experiment
        try FileManager.default.createDirectory(atPath: cache, withIntermediateDirectories: true)
        let result = try CorpusReader.read(e.corpus)
        var read = result.corpus
        if e.limit > 0 { read.sentences = Array(read.sentences.prefix(e.limit)) }
        let corpus = read
        var hashes: [String: String] = [:]
        for path in result.files { hashes[path] = try Self.fileHash(path) }
        let corpusKey = Self.hash(result.files.map { hashes[$0]! } + [String(e.limit)])
        var warnings: [String] = []

        // Models.
        let analysis = Property(name: e.properties[0])
        let (lmTrain, lmDev) = try TrainingTasks.split(corpus, analysis: analysis)
        let lmKey = Self.hash([corpusKey, try json(e.lstm)])
        let checkpoints = try train("lm", key: lmKey, settings: e.lstm, train: lmTrain, dev: lmDev)
        hashes["lm"] = lmKey
        var taggerCheckpoint: LSTMCheckpoint?
        if let tagger = e.tagger, let property = Property(name: tagger) {
            let (t, d) = try TrainingTasks.split(corpus, property: property)
            var settings = e.lstm
            settings.checkpoints = [settings.steps]
            let key = Self.hash([corpusKey, try json(settings), tagger])
            taggerCheckpoint = try train("tagger", key: key, settings: settings, train: t, dev: d).last
        }
        var finetuned: LSTMCheckpoint?
        if let finetune = e.finetune, let property = Property(name: finetune) {
            let (t, d) = try TrainingTasks.split(corpus, property: property)
            var settings = e.lstm
            (settings.steps, settings.checkpoints) = (e.finetuneSteps, [e.finetuneSteps])
            let key = Self.hash([lmKey, try json(settings), finetune])
            finetuned = try train("finetune", key: key, settings: settings, train: t, dev: d, start: try LSTMModel(folder: checkpoints.last!.folder))
                .last
        }

        // Activations of every checkpoint on the whole treebank, cached as activation files.
        let sentences = corpus.sentences.map { $0.words.map(\.form) }
        func activations(_ folder: String) throws -> (key: String, layers: [Matrix<Float>]) {
            let model = try LSTMModel(folder: folder)
            let key = Self.hash([model.identity.fingerprint ?? folder, corpusKey])
            let path = cache + "/activations-\(key).safetensors"
            if force || !FileManager.default.fileExists(atPath: path) {
                log("running: extract \((folder as NSString).lastPathComponent)")
                _ = try ActivationFile.extract(
                    model, sentences: sentences, ids: corpus.sentences.enumerated().map { $1.id ?? String($0 + 1) },
                    layers: Array(0...model.layerCount),
                    aggregate: .last, to: path
                ) { self.progress("extract", $0, sentences.count) }
                computed.append("extract")
            } else {
                cached.append("extract")
            }
            let file = try TensorCollection.read(path)
            return (key, try (0...model.layerCount).map { try ActivationSource.matrix(file[ActivationFile.layerName($0)]!, of: file) })
        }
        let series = try checkpoints.map { c in ((c.folder as NSString).lastPathComponent, try activations(c.folder)) }
        let final = series.last!.1
        let taggerLayers = try taggerCheckpoint.map { try activations($0.folder) }
        let finetunedLayers = try finetuned.map { try activations($0.folder) }
        let layerNames = (0..<final.layers.count).map(ActivationFile.layerName)
        let settings = ProbeSettings(penalty: .elasticNet(lambda: e.lambda, alpha: e.alpha))
        let probeKey = try json([String(e.lambda), String(e.alpha), String(e.k)])

        var properties: [ExperimentResults.PropertyResult] = []
        for name in e.properties {
            guard let property = Property(name: name) else { continue }
            let labelled = try LabelledCorpus(corpus, property: property)
            let tokens = labelled.tokens
            // Probes on every layer of the last checkpoint, over seeds.
            let layers: [ExperimentResults.LayerProbe] = try stage("probes", Self.hash([final.key, name, probeKey, try json(e.seeds)])) {
                final.layers.enumerated().map { l, x in
                    // Each seed trains on its own 80% of the training rows (and draws its own
                    // control task), so the spread says how much the numbers depend on the sample.
                    let runs = e.seeds.map { seed -> ProbeStudy.Result in
                        var generator = SplitMix64(seed: seed)
                        let rows = tokens.trainRows.filter { _ in generator.unit() < 0.8 }
                        let train = ProbeStudy.Split(name: "train", data: tokens.dataset(x, rows, classes: nil), words: rows.map { tokens.words[$0] })
                        let dev = ProbeStudy.Split(
                            name: "dev", data: tokens.dataset(x, tokens.devRows, classes: train.data.classes),
                            words: tokens.devRows.map { tokens.words[$0] })
                        return ProbeStudy.run([train, dev], fit: .penalty(settings), seed: seed)
                    }
                    let accuracy = runs.map { $0.splits["dev"]!.accuracy }, selectivity = runs.map { $0.splits["dev"]!.selectivity ?? 0 }
                    return ExperimentResults.LayerProbe(
                        layer: layerNames[l], accuracy: mean(accuracy), accuracySD: sd(accuracy), selectivity: mean(selectivity),
                        selectivitySD: sd(selectivity),
                        majority: runs[0].splits["dev"]!.majorityBaseline, ranking: Array(runs[0].ranking.prefix(max(e.k, 50))),
                        warnings: runs[0].warnings)
                }
            }
            for layer in layers { warnings += layer.warnings.map { "\(name), \(layer.layer): \($0)" } }
            let best = layers.indices.max { layers[$0].accuracy < layers[$1].accuracy }!
            if let top = layers.first, layers.allSatisfy({ $0.accuracy <= top.majority + 1e-9 }) {
                warnings.append("\(name): no layer beats the majority baseline \(String(format: "%.3f", top.majority)) on dev")
            }
            let x = final.layers[best]
            let classes = Array(Set(tokens.labels)).sorted()
            let trainSet = tokens.dataset(x, tokens.trainRows, classes: classes)
            let devSet = tokens.dataset(x, tokens.devRows, classes: classes)
            let probe = FittedProbe.fit(trainSet, settings: settings)
            let topNeurons = Array(layers[best].ranking.prefix(e.k))
            let weights = probe.standardizedWeights
            let topWeights = topNeurons.map { n in (0..<weights.rows).reduce(0.0) { $0 + abs(weights[$1, n]) } }
            let ablation: AblationStudy.Result = try stage("ablation", Self.hash([final.key, name, probeKey, String(best), try json(e.ablation)])) {
                let counts = e.ablation.map { max(1, Int(($0 * Double(x.columns)).rounded())) }
                return try AblationStudy.run(
                    [ProbeStudy.Split(name: "train", data: trainSet, words: nil), ProbeStudy.Split(name: "dev", data: devSet, words: nil)],
                    probe: probe, probeSettings: settings, settings: .init(counts: counts, fills: [.zero], seeds: 5))
            }
            let topWords = TopActivations.find(
                x, sentenceWords: labelled.sentenceWords, forms: labelled.words, labels: labelled.flatLabels, neurons: Array(topNeurons.prefix(3)),
                count: min(8, x.rows))
            let dynamics: Dynamics = try stage("dynamics", Self.hash(series.map(\.1.key) + [name, probeKey])) {
                try Comparator.dynamics(
                    checkpoints: series.map { ($0.0, $0.1.layers) }, reference: final.layers, layerNames: layerNames, tokens: tokens, k: e.k,
                    settings: settings
                ) { self.progress("dynamics \(name)", $0, $1) }
            }
            let toTagger: Dynamics? = try taggerLayers.map { tagger in
                try stage("dynamics-tagger", Self.hash(series.map(\.1.key) + [tagger.key, name, probeKey])) {
                    try Comparator.dynamics(
                        checkpoints: series.map { ($0.0, $0.1.layers) }, reference: tagger.layers, layerNames: layerNames, tokens: tokens, k: e.k,
                        settings: settings
                    ) { self.progress("dynamics to the tagger \(name)", $0, $1) }
                }
            }
            let fineTuning: ModelComparison? = try finetunedLayers.map { other in
                try stage("finetuning", Self.hash([final.key, other.key, name, probeKey])) {
                    try ModelComparison.compare(
                        base: final.layers, other: other.layers, layerNames: layerNames, tokens: tokens, k: e.k, settings: settings
                    ) { self.progress("fine-tuning \(name)", $0, $1) }
                }
            }
            properties.append(
                .init(
                    property: name, layers: layers, bestLayer: layerNames[best], topNeurons: topNeurons, topWeights: topWeights, ablation: ablation,
                    topWords: topWords, dynamics: dynamics, dynamicsToTagger: toTagger, fineTuning: fineTuning))
        }
        return ExperimentResults(
            version: Self.version, experiment: e, inputHashes: hashes, checkpoints: checkpoints, tagger: taggerCheckpoint, finetuned: finetuned,
            properties: properties, computed: computed, cached: cached, warnings: warnings)
    }
}

private func mean(_ v: [Double]) -> Double { v.isEmpty ? 0 : v.reduce(0, +) / Double(v.count) }
private func sd(_ v: [Double]) -> Double {
    guard v.count > 1 else { return 0 }
    let m = mean(v)
    return (v.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(v.count - 1)).squareRoot()
}
