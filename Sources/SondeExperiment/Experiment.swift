import Foundation
import SondeBase
import SondeCorpus
import SondeModels
import SondeSimilarity
import SondeStudy

/// A study as a file: the treebank, the models — a native LSTM trained on it (with its
/// checkpoints, a tagger and a fine-tuned copy), or existing checkpoints (`[models]`) — the
/// properties to probe and the analyses' settings. Read from TOML; an unknown key or a value of
/// the wrong type is an error with its line in the file.
public struct Experiment: Codable, Sendable, Equatable {
    /// Existing model folders (Hugging Face transformers or sonde-lstm checkpoints) studied
    /// instead of training an LSTM.
    public struct ModelSeries: Codable, Sendable, Equatable {
        /// Oldest first; the last one's layers are probed, the others compared with it.
        public var checkpoints: [String]
        /// Similarity over training is also measured to this model (e.g. a tagger).
        public var reference: String?
        /// A copy of the last checkpoint fine-tuned on a task, compared with it.
        public var finetuned: String?
        /// The tokenizer.json of every transformer here (default: each folder's own).
        public var tokenizer: String?
        /// The checkpoints' names in the study (a series' revisions); nil: from their folders.
        public var names: [String]? = nil
    }

    /// Results and report go here, and the cache unless `cache` names a folder (relative paths:
    /// from the experiment file's folder).
    public var output: String
    /// The cell cache when not OUTPUT/cache: cells are addressed by content, so studies that
    /// share cells (one trained model) may share a folder. Not a result: not encoded.
    public var cache: String? = nil
    public var cacheFolder: String { cache ?? output + "/cache" }
    public var corpus: [String]
    /// Only the first N sentences (0 = all).
    public var limit = 0
    public var lstm = LSTMTrainingSettings()
    /// When given, these models are studied and no LSTM is trained.
    public var models: ModelSeries? = nil
    /// Train a tagger on this property as the reference of "similarity to a tagger" (nil: none).
    public var tagger: String? = "upos"
    /// More reference models trained on the same treebank, one per property (a tagger, or a
    /// sentence classifier for genre/doc): similarity over training is measured to each.
    public var references: [String] {
        get { referenceList ?? [] }
        set { referenceList = newValue.isEmpty ? nil : newValue }
    }
    /// Stored absent when empty, so results.json of a study without references is as before.
    private var referenceList: [String]? = nil
    /// Fine-tune the last language-model checkpoint on this property (nil: none).
    public var finetune: String? = nil
    public var finetuneSteps = 60
    /// Properties probed on every layer of the last checkpoint and followed over training.
    public var properties = ["upos"]
    public var lambda = 1e-3
    public var alpha = 0.5
    /// Probe seeds (control task and its words): accuracies and selectivities come as mean ± SD.
    public var seeds: [UInt64] = [1, 2, 3]
    /// Neurons counted as salient (top-k) and shown per property.
    public var k = 10
    /// Neuron counts of the ablation curves, as shares of a layer.
    public var ablation = [0.05, 0.1, 0.25, 0.5]
    /// The minimal neuron set (by retraining) reaches the best layer's accuracy within this many
    /// accuracy points (nil: not searched).
    public var minimalDelta: Double? = 0.01
    /// Word interdependence at every checkpoint of the native LSTM (`[analyses] interactions`).
    public var interactions: InteractionSettings? = nil
    /// The similarity measures followed over training and before/after fine-tuning, by name
    /// (`SimilarityMeasures`); nil: svcca, pwcca, cka over training and svcca, cka for fine-tuning.
    public var measures: [String]? = nil
    /// k-sparse probing of each property's best layer at these ks (`[analyses] sparsity`; nil: none).
    public var sparsity: [Int]? = nil
    /// The rankers of the sparsity curves (`[analyses] rankers`; nil: path, mean-difference,
    /// f-statistic, lca).
    public var rankers: [SparseProbing.Ranker]? = nil
    /// LEACE at each property's best layer (`[analyses] erasure = true`; nil: not done).
    public var erasure: Bool? = nil
    /// Task spaces over training and across model sizes (`[taskspace]`; native LSTMs).
    public var taskSpace: TaskSpaceSettings? = nil
    /// What the study claims (`[[claims]]`), each evaluated into results.json's `claims`.
    public var claims: [Claim]? = nil
    /// The experiment file's folder, absolute: relative paths are resolved from it and
    /// results.json gives every path relative to it (`portable`). Not a setting: not encoded.
    public var folder = "/"

    enum CodingKeys: String, CodingKey {
        case output, corpus, limit, lstm, models, tagger, referenceList = "references", finetune, finetuneSteps, properties, lambda, alpha, seeds, k
        case ablation, minimalDelta, interactions, measures, sparsity, rankers, erasure, taskSpace = "taskspace", claims
    }

    /// `[analyses] interactions = { max_distance = 10, sentences = 500 }`: pairs at most
    /// `maxDistance` words apart in the first `sentences` dev sentences (every fifth sentence's
    /// fourth, as the probes' dev split), every layer.
    public struct InteractionSettings: Codable, Sendable, Equatable {
        public var maxDistance = 10
        public var sentences = 500
    }

    public init(output: String, corpus: [String]) {
        self.output = output
        self.corpus = corpus
    }

    /// How `[corpus] paths` names the embedded default treebank (`sonde corpus generate`), so an
    /// experiment file runs in an empty folder (`sonde demo --print-experiment`).
    public static let defaultTreebank = "sonde:default"

    /// The treebank paths to read, the embedded treebank as OUTPUT/corpus/default.conllu (written
    /// there when missing; a file already there is read as it is).
    public func corpusFiles() throws -> [String] {
        try corpus.map { path in
            guard path == Self.defaultTreebank else { return path }
            let file = output + "/corpus/default.conllu"
            guard !FileManager.default.fileExists(atPath: file) else { return file }
            do { try FileManager.default.createDirectory(atPath: output + "/corpus", withIntermediateDirectories: true) } catch {
                throw FileError(
                    .cannotWrite, output + "/corpus", "cannot create the folder for the embedded treebank (\(error.localizedDescription))")
            }
            var generator = TreebankGenerator(seed: TreebankGenerator.defaultSeed)
            try ConlluWriter.write(generator.corpus(sentences: TreebankGenerator.defaultSentences), to: file)
            return file
        }
    }

    /// Reads every input as the study will — each treebank in the format it will be read as, each
    /// model folder with its config, weights and tokenizer — and says what it found, one line
    /// each; the first problem is thrown as the reader reports it (`path:line: what is wrong`).
    public func checkInputs() throws -> [String] {
        var lines: [String] = []
        for path in corpus {
            if path == Self.defaultTreebank {
                lines.append(
                    "corpus \(path): the embedded treebank (\(TreebankGenerator.defaultSentences) sentences), written to \(relative(output))/corpus/default.conllu when missing"
                )
                continue
            }
            let read = try CorpusReader.read([path])
            let formats = try read.files.map { try CorpusFormat.of(path: $0).rawValue }
            lines.append(
                "corpus \(relative(path)): \(read.files.count) file\(read.files.count == 1 ? "" : "s") (\(Set(formats).sorted().joined(separator: ", "))), \(read.corpus.sentences.count) sentences, \(read.corpus.wordCount) words"
            )
        }
        if let models {
            if let tokenizer = models.tokenizer { _ = try MappedFile(path: tokenizer) }
            for folder in models.checkpoints + [models.reference, models.finetuned].compactMap({ $0 }) {
                let model = try loadLanguageModel(folder, tokenizer: models.tokenizer)
                lines.append(
                    "model \(relative(folder)): \(model.identity.architecture ?? "a model"), \(model.layerCount) layers × \(model.hiddenSize)")
            }
        }
        if let taskSpace {
            let tasks = try taskSpace.chosenTasks()
            lines.append(
                "pairs \(relative(taskSpace.pairs)): \(tasks.count) tasks in \(Set(tasks.map(\.group)).count) groups, \(tasks.map(\.pairs.count).reduce(0, +)) pairs used"
            )
        }
        return lines
    }

    /// Reads and checks an experiment file; relative paths are resolved against its folder.
    public static func read(_ path: String) throws -> Experiment {
        guard let data = try? MappedFile.data(path), let text = String(data: data, encoding: .utf8) else {
            // Absent: missing input (66); there but unreadable (a folder, a FIFO, not UTF-8): 65.
            let absent = !FileManager.default.fileExists(atPath: path)
            throw StudyError("\(path): cannot read the experiment file", category: absent ? .missingInput : .malformedInput)
        }
        let folder = (path as NSString).deletingLastPathComponent
        return try parse(text, path: path, folder: folder.isEmpty ? "." : folder)
    }

    public static func parse(_ text: String, path: String, folder: String) throws -> Experiment {
        let file = try ExperimentFile(text, path: path)
        let root = file.root
        _ = try file.table("")
        let corpusTable = try file.table("corpus"), lstm = try file.table("lstm"), probe = try file.table("probe"),
            analyses = try file.table("analyses")
        let models = try file.table("models")
        guard let output = root["output"] else { throw StudyError("\(path):1: output: missing (the folder for results, report and cache)") }
        guard let outputPath = output.string, !outputPath.isEmpty else { throw file.fail("", "output", "expected a folder name") }
        guard let paths = try file.strings(corpusTable, "corpus", "paths") else {
            throw StudyError("\(path):1: corpus.paths: missing ([corpus] paths = [\"…\"])")
        }
        let base = URL(fileURLWithPath: folder).absoluteURL.standardized.path
        func resolve(_ p: String) -> String {
            p == Experiment.defaultTreebank ? p : URL(fileURLWithPath: p.hasPrefix("/") ? p : base + "/" + p).absoluteURL.standardized.path
        }
        var e = Experiment(output: resolve(outputPath), corpus: paths.map(resolve))
        e.folder = base
        if let cache = root["cache"] {
            guard let cachePath = cache.string, !cachePath.isEmpty else { throw file.fail("", "cache", "expected a folder name") }
            e.cache = resolve(cachePath)
        }
        e.limit = try file.int(corpusTable, "corpus", "limit", 0...10_000_000) ?? 0
        var s = e.lstm
        s.hidden = try file.int(lstm, "lstm", "hidden", 1...4096) ?? s.hidden
        s.layers = try file.int(lstm, "lstm", "layers", 1...16) ?? s.layers
        s.steps = try file.int(lstm, "lstm", "steps", 1...10_000_000) ?? s.steps
        s.checkpoints = try file.ints(lstm, "lstm", "checkpoints") ?? s.checkpoints
        s.batchSize = try file.int(lstm, "lstm", "batch_size", 1...100_000) ?? s.batchSize
        s.maxLength = try file.int(lstm, "lstm", "max_length", 1...100_000) ?? s.maxLength
        s.learningRate = try file.number(lstm, "lstm", "learning_rate", { $0 > 0 }, "a positive number") ?? s.learningRate
        s.dropout = try file.number(lstm, "lstm", "dropout", { $0 >= 0 && $0 < 1 }, "a number in [0, 1)") ?? s.dropout
        s.seed = UInt64(try file.int(lstm, "lstm", "seed", 0...Int.max) ?? Int(s.seed))
        s.minCount = try file.int(lstm, "lstm", "min_count", 1...1_000_000) ?? s.minCount
        s.maxVocabulary = try file.int(lstm, "lstm", "max_vocabulary", 4...2_000_000) ?? s.maxVocabulary
        if s.checkpointSteps.isEmpty {
            throw file.fail("lstm", "checkpoints", "no checkpoint within 0…\(s.steps) (the training's steps): nothing to study")
        }
        e.lstm = s
        if let t = try file.property(lstm, "lstm", "tagger") { e.tagger = t }
        if let references = try file.strings(lstm, "lstm", "references") {
            if let bad = references.first(where: { Property(name: $0) == nil }) { throw file.fail("lstm", "references", "unknown property '\(bad)'") }
            if let twice = references.first(where: { r in references.filter { $0 == r }.count > 1 || r == e.tagger }) {
                throw file.fail("lstm", "references", "'\(twice)' is listed twice (or is the tagger)")
            }
            e.references = references
        }
        if let f = try file.property(lstm, "lstm", "finetune") { e.finetune = f }
        e.finetuneSteps = try file.int(lstm, "lstm", "finetune_steps", 1...10_000_000) ?? e.finetuneSteps
        if let models {
            if lstm != nil {
                throw file.fail("models", "checkpoints", "give [lstm] (train a native LSTM) or [models] (study existing checkpoints), not both")
            }
            var names: [String]?
            let checkpoints: [String]
            if let series = models["series"] {
                guard let root = series.string, !root.isEmpty else { throw file.fail("models", "series", "expected a path") }
                guard models["checkpoints"] == nil else { throw file.fail("models", "series", "give checkpoints or a series, not both") }
                var revisions = try CheckpointSeries.list(resolve(root))
                if let steps = try file.ints(models, "models", "steps") {
                    if let missing = steps.first(where: { s in !revisions.contains { $0.step == s } }) {
                        throw file.fail(
                            "models", "steps",
                            "no revision at step \(missing); the series has \(revisions.map { String($0.step) }.joined(separator: ", "))")
                    }
                    revisions = revisions.filter { steps.contains($0.step) }
                }
                (checkpoints, names) = (revisions.map(\.folder), revisions.map(\.name))
            } else if let listed = try file.strings(models, "models", "checkpoints") {
                checkpoints = listed
            } else {
                throw file.fail("models", "checkpoints", "missing (checkpoints = [\"folder\", …], oldest first; or series = \"folder\")")
            }
            func folder(_ key: String) throws -> String? {
                guard let value = models[key] else { return nil }
                guard let path = value.string, !path.isEmpty else { throw file.fail("models", key, "expected a path") }
                return resolve(path)
            }
            // Each folder is one cell of the plan: a folder named twice is a mistake, not two models.
            if let twice = checkpoints.first(where: { c in checkpoints.filter { $0 == c }.count > 1 }) {
                throw file.fail("models", "checkpoints", "'\(twice)' is listed twice")
            }
            e.models = ModelSeries(
                checkpoints: checkpoints.map(resolve), reference: try folder("reference"), finetuned: try folder("finetuned"),
                tokenizer: try folder("tokenizer"), names: names)
            (e.tagger, e.finetune) = (nil, nil)
        }
        if let properties = try file.strings(probe, "probe", "properties") {
            if let bad = properties.first(where: { Property(name: $0) == nil }) {
                throw file.fail("probe", "properties", "unknown property '\(bad)'")
            }
            if let twice = properties.first(where: { p in properties.filter { $0 == p }.count > 1 }) {
                throw file.fail("probe", "properties", "'\(twice)' is listed twice")
            }
            e.properties = properties
        }
        e.lambda = try file.number(probe, "probe", "lambda", { $0 > 0 }, "a positive number") ?? e.lambda
        e.alpha = try file.number(probe, "probe", "alpha", { (0...1).contains($0) }, "a number in [0, 1]") ?? e.alpha
        e.seeds = try file.ints(probe, "probe", "seeds").map { $0.map(UInt64.init) } ?? e.seeds
        e.k = try file.int(probe, "probe", "k", 1...100_000) ?? e.k
        if let value = analyses?["ablation"] {
            guard let array = value.array, case let shares = array.compactMap({ $0.double }), shares.count == array.count, !shares.isEmpty,
                shares.allSatisfy({ $0 > 0 && $0 <= 1 })
            else { throw file.fail("analyses", "ablation", "expected a list of shares in (0, 1], e.g. [0.1, 0.25]") }
            e.ablation = shares
        }
        if let delta = try file.number(analyses, "analyses", "minimal_delta", { (0..<1).contains($0) }, "a number in [0, 1) (0: no minimal set)") {
            e.minimalDelta = delta > 0 ? delta : nil
        }
        if let value = analyses?["interactions"] {
            guard let t = value.table else {
                throw file.fail("analyses", "interactions", "expected a table, e.g. { max_distance = 10, sentences = 500 }")
            }
            guard e.models == nil else {
                throw file.fail("analyses", "interactions", "contextual decomposition is defined for the native LSTM ([lstm]), not for [models]")
            }
            if let unknown = t.keys.first(where: { !["max_distance", "sentences"].contains($0) }) {
                throw file.fail("analyses", "interactions", "unknown key '\(unknown)'; it has max_distance, sentences")
            }
            var settings = InteractionSettings()
            for (key, range) in [("max_distance", 1...100), ("sentences", 1...1_000_000)] {
                guard let entry = t[key] else { continue }
                guard let v = entry.int, range.contains(v) else {
                    throw file.fail("analyses", "interactions", "\(key): expected an integer in \(range.lowerBound)…\(range.upperBound)")
                }
                if key == "max_distance" { settings.maxDistance = v } else { settings.sentences = v }
            }
            e.interactions = settings
        }
        if let measures = try file.strings(analyses, "analyses", "measures") {
            if let bad = measures.first(where: { SimilarityMeasures.named($0) == nil }) {
                throw file.fail(
                    "analyses", "measures", "unknown measure '\(bad)'; measures: \(SimilarityMeasures.all.map(\.name).joined(separator: ", "))")
            }
            guard !measures.isEmpty else { throw file.fail("analyses", "measures", "expected at least one measure") }
            e.measures = measures
        }
        if let ks = try file.ints(analyses, "analyses", "sparsity") {
            guard ks.allSatisfy({ $0 >= 1 }) else { throw file.fail("analyses", "sparsity", "expected whole numbers ≥ 1, e.g. [1, 2, 4, 8]") }
            e.sparsity = Array(Set(ks)).sorted()
        }
        if let names = try file.strings(analyses, "analyses", "rankers") {
            let all = SparseProbing.Ranker.allCases.map(\.rawValue).joined(separator: ", ")
            e.rankers = try names.map { name in
                guard let ranker = SparseProbing.Ranker(rawValue: name) else {
                    throw file.fail("analyses", "rankers", "unknown ranker '\(name)'; rankers: \(all)")
                }
                return ranker
            }
            if e.sparsity == nil { throw file.fail("analyses", "rankers", "rankers go with sparsity = [1, 2, 4, …] (the ks of their curves)") }
        }
        if let value = analyses?["erasure"] {
            guard let on = value.bool else { throw file.fail("analyses", "erasure", "expected true or false") }
            e.erasure = on ? true : nil
        }
        if root["taskspace"] != nil && e.models != nil {
            throw file.fail(
                "taskspace", "pairs",
                "task spaces tune the native LSTM ([lstm]) by its gradients; [models] checkpoints are scored by `sonde taskspace dynamics`")
        }
        e.taskSpace = try readTaskSpace(file, lstm: e.lstm, resolve: resolve)
        e.claims = try root["claims"].map { try Claim.read($0, lines: file.lines, path: path, experiment: e) }
        return e
    }
}
