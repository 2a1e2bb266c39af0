import Foundation
import SondeBase
import SondeCorpus
import SondeLinalg
import SondeModels
import SondeProbe
import SondeSimilarity

/// Runs an `Experiment` as cells (`StudyCell`) in dependency order — train (LM, tagger,
/// fine-tuned copy), extract each checkpoint, probe each property on each layer over seeds,
/// analyse the best layer (top neurons, words, ablation), follow over training, compare before
/// and after fine-tuning — each cached under `output/cache` by its content hash, so a rerun
/// recomputes only what a changed setting touches and an interrupted run continues. The cells
/// can also run as shards in separate processes (`run(shard:)`) and be merged (`assemble`).
public final class ExperimentRunner {
    public let experiment: Experiment
    /// Recompute every cell this run executes.
    public var force = false
    /// (task, done, total) while a cell runs.
    public var progress: (String, Int, Int) -> Void = { _, _, _ in }
    /// A line when a cell starts or is found in the cache.
    public var log: (String) -> Void = { _ in }
    /// The cells this runner computed and found cached.
    public private(set) var computed: [String] = [], cached: [String] = []

    public static let version = "0.3.0"
    private var cache: String { experiment.output + "/cache" }

    public init(_ experiment: Experiment) { self.experiment = experiment }

    // MARK: The plan

    /// A checkpoint of the study: its name, model folder and extraction cell.
    private struct ModelEntry {
        var name: String
        var folder: String
        var extract: String
    }

    /// What the cells need besides their keys: the treebank, the models and the cells' work.
    private struct Layout {
        var corpus: Corpus
        var hashes: [String: String]
        var cells: [StudyCell] = []
        var work: [String: () throws -> Void] = [:]
        var series: [ModelEntry] = []
        var reference: ModelEntry?
        var finetuned: ModelEntry?
        /// Training cells: (cell id, folder, checkpoint steps).
        var training: [String: (folder: String, steps: [Int])] = [:]
    }

    private var layoutCache: Layout?

    /// The content address of a cell: FNV-1a over its parts (each followed by a separator).
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

    private static func json<T: Encodable>(_ value: T) throws -> String {
        try JSONCoding.text(value)
    }

    /// The study's cells, and which are in the cache.
    public func plan() throws -> StudyPlan {
        let layout = try self.layout()
        return StudyPlan(cells: layout.cells, done: layout.cells.filter(isDone).map(\.id))
    }

    /// Whether the cell's output and its checksum record are in the cache (whether they agree is
    /// checked when the output is read: `ensureIntact`).
    private func isDone(_ cell: StudyCell) -> Bool {
        let path = cache + "/" + cell.output
        guard FileManager.default.fileExists(atPath: CellChecksum.recordPath(path)) else { return false }
        return cell.kind == .train ? trainingComplete(cell) : FileManager.default.fileExists(atPath: path)
    }

    /// The cache checked against the plan, nothing recomputed: each cell's output intact,
    /// damaged (a run recomputes it; `problem` says why) or not computed yet.
    public struct CacheCheck: Codable, Sendable {
        public struct Damaged: Codable, Sendable {
            public var cell: String
            public var output: String
            public var problem: String
        }
        public var intact: [String] = []
        public var damaged: [Damaged] = []
        public var notComputed: [String] = []
    }

    public func verifyCache() throws -> CacheCheck {
        var check = CacheCheck()
        for cell in try layout().cells {
            let path = cache + "/" + cell.output
            let recorded = FileManager.default.fileExists(atPath: CellChecksum.recordPath(path))
            if !FileManager.default.fileExists(atPath: path) || (cell.kind == .train && !recorded && !trainingComplete(cell)) {
                check.notComputed.append(cell.id)
            } else if let problem = CellChecksum.problem(path) {
                check.damaged.append(.init(cell: cell.id, output: "cache/" + cell.output, problem: problem))
            } else {
                check.intact.append(cell.id)
            }
        }
        return check
    }

    /// Whether a training cell's folder holds every checkpoint.
    private func trainingComplete(_ cell: StudyCell) -> Bool {
        let steps = layoutCache?.training[cell.id]?.steps ?? []
        return steps.allSatisfy { FileManager.default.fileExists(atPath: cache + "/" + cell.output + "/step-\($0)/trainer_state.json") }
    }

    private func layout() throws -> Layout {
        if let layoutCache { return layoutCache }
        let e = experiment
        let read = try CorpusReader.read(try e.corpusFiles())
        var corpus = read.corpus
        if e.limit > 0 { corpus.sentences = Array(corpus.sentences.prefix(e.limit)) }
        var hashes: [String: String] = [:]
        for path in read.files { hashes[path] = try Self.fileHash(path) }
        let corpusKey = Self.hash(read.files.map { hashes[$0]! } + [String(e.limit)])
        var l = Layout(corpus: corpus, hashes: hashes)

        func add(_ id: String, _ kind: StudyCell.Kind, _ key: String, _ dependencies: [String], _ output: String, _ work: @escaping () throws -> Void)
        {
            let level = dependencies.map { d in l.cells.first { $0.id == d }!.level + 1 }.max() ?? 0
            l.cells.append(StudyCell(id: id, kind: kind, key: key, level: level, dependencies: dependencies, output: output))
            l.work[id] = work
        }
        let sentences = corpus.sentences.map { $0.words.map(\.form) }
        let tokenizer = e.models?.tokenizer
        let ids = corpus.sentences.enumerated().map { $1.id ?? String($0 + 1) }
        func extraction(_ name: String, folder: @escaping () -> String, key: String, after: [String]) -> ModelEntry {
            let id = "extract \(name)", output = "activations-\(key).safetensors"
            add(id, .extract, key, after, output) { [unowned self] in
                let model = try loadLanguageModel(folder(), tokenizer: tokenizer)
                // Recorded as `sonde extract` does, so the file also serves `sonde probe` and the others.
                let metadata = ActivationSource.provenance(corpus: e.corpus, limit: e.limit > 0 ? e.limit : nil)
                _ = try ActivationFile.extract(
                    model, sentences: sentences, ids: ids, layers: Array(0...model.layerCount), aggregate: .last, extraMetadata: metadata,
                    to: cache + "/" + output
                ) { self.progress(id, $0, sentences.count) }
            }
            return ModelEntry(name: name, folder: "", extract: id)
        }

        if let models = e.models {
            // Existing checkpoints: each folder's content is its address.
            func entry(_ folder: String, _ name: String) throws -> ModelEntry {
                let fingerprint = Self.hash([try ModelIdentity.fingerprint(folder: folder)] + (try tokenizer.map { [try Self.fileHash($0)] } ?? []))
                hashes[folder] = fingerprint
                var m = extraction(name, folder: { folder }, key: Self.hash([fingerprint, corpusKey, "extract"]), after: [])
                m.folder = folder
                return m
            }
            let names = Self.names(models.checkpoints)
            l.series = try zip(models.checkpoints, names).map { try entry($0, $1) }
            l.reference = try models.reference.map { try entry($0, "reference " + ($0 as NSString).lastPathComponent) }
            l.finetuned = try models.finetuned.map { try entry($0, "fine-tuned " + ($0 as NSString).lastPathComponent) }
            l.hashes = hashes
        } else {
            let analysis = Property(name: e.properties[0])
            func training(
                _ name: String, key: String, settings: LSTMTrainingSettings, after: [String], task: @escaping () throws -> (LSTMTask, LSTMTask),
                start: (() throws -> LSTMModel)? = nil
            ) -> String {
                let id = "train \(name)", folder = "\(name)-\(key)"
                l.training[id] = (cache + "/" + folder, settings.checkpointSteps)
                add(id, .train, key, after, folder) { [unowned self] in
                    let path = cache + "/" + folder
                    if force { try? FileManager.default.removeItem(atPath: path) }
                    // A partial folder from an interrupted run continues from its last complete checkpoint.
                    let done = settings.checkpointSteps.last { FileManager.default.fileExists(atPath: path + "/step-\($0)/trainer_state.json") }
                    let resume = try done.map { try LSTMModel(folder: path + "/step-\($0)") } ?? start?()
                    let (train, dev) = try task()
                    let trainer = try LSTMTrainer(settings: settings, train: train, dev: dev, start: resume)
                    _ = try trainer.run(into: path) { s, total, _, _ in self.progress(id, s, total) }
                }
                return id
            }
            let lmKey = Self.hash([corpusKey, try Self.json(e.lstm)])
            let lm = training("lm", key: lmKey, settings: e.lstm, after: []) { try TrainingTasks.split(corpus, analysis: analysis) }
            let lmFolder = l.training[lm]!.folder
            for step in e.lstm.checkpointSteps {
                var m = extraction(
                    "step-\(step)", folder: { lmFolder + "/step-\(step)" }, key: Self.hash([lmKey, String(step), corpusKey, "extract"]), after: [lm])
                m.folder = lmFolder + "/step-\(step)"
                l.series.append(m)
            }
            hashes["lm"] = lmKey
            if let settings = e.interactions {
                // The probes' dev split (each fifth sentence's fourth), its first `sentences`.
                let dev = Corpus(sentences: Array(corpus.sentences.enumerated().filter { $0.offset % 5 == 3 }.map(\.element).prefix(settings.sentences)))
                // The language model's training split (`TrainingTasks.split`), for phrase frequencies.
                let training = Corpus(sentences: corpus.sentences.enumerated().filter { $0.offset % 5 < 3 }.map(\.element))
                let settingsKey = try Self.json(settings)
                for step in e.lstm.checkpointSteps {
                    let key = Self.hash([lmKey, String(step), corpusKey, settingsKey, "interactions"])
                    add("interactions step-\(step)", .interactions, key, [lm], "interactions-\(key).json") { [unowned self] in
                        let model = try LSTMModel(folder: lmFolder + "/step-\(step)")
                        let study = InteractionStudy.run(
                            model, name: "step-\(step)", corpus: dev, maxDistance: settings.maxDistance, layers: Array(1...model.layerCount),
                            keepPairs: false, training: training
                        ) { self.progress("interactions step-\(step)", $0, $1) }
                        try store(study, as: "interactions-\(key).json")
                    }
                }
            }
            if let tagger = e.tagger, let property = Property(name: tagger) {
                var settings = e.lstm
                settings.checkpoints = [settings.steps]
                let key = Self.hash([corpusKey, try Self.json(settings), tagger])
                let id = training("tagger", key: key, settings: settings, after: []) { try TrainingTasks.split(corpus, property: property) }
                let folder = l.training[id]!.folder + "/step-\(settings.steps)"
                l.reference = extraction("tagger", folder: { folder }, key: Self.hash([key, corpusKey, "extract"]), after: [id])
                l.reference!.folder = folder
                hashes["tagger"] = key
            }
            if let finetune = e.finetune, let property = Property(name: finetune) {
                var settings = e.lstm
                (settings.steps, settings.checkpoints) = (e.finetuneSteps, [e.finetuneSteps])
                let key = Self.hash([lmKey, try Self.json(settings), finetune])
                let last = l.series.last!.folder
                let id = training(
                    "finetune", key: key, settings: settings, after: [lm], task: { try TrainingTasks.split(corpus, property: property) }
                ) {
                    try LSTMModel(folder: last)
                }
                let folder = l.training[id]!.folder + "/step-\(settings.steps)"
                l.finetuned = extraction("fine-tuned", folder: { folder }, key: Self.hash([key, corpusKey, "extract"]), after: [id])
                l.finetuned!.folder = folder
                hashes["finetune"] = key
            }
            l.hashes = hashes
        }

        // Probes, analyses, dynamics and fine-tuning, per property.
        let final = l.series.last!
        let finalKey = l.cells.first { $0.id == final.extract }!.key
        let probeKey = try Self.json([String(e.lambda), String(e.alpha), String(e.k)])
        let seriesKeys = l.series.map { entry in l.cells.first { $0.id == entry.extract }!.key }
        for name in e.properties {
            guard Property(name: name) != nil else { continue }
            var probes: [String] = []
            for layer in 0...(try layerCount(l, final)) {
                let key = Self.hash([finalKey, name, String(layer), probeKey, try Self.json(e.seeds)])
                let id = "probe \(name) \(ActivationFile.layerName(layer))"
                probes.append(id)
                add(id, .probe, key, [final.extract], "probe-\(key).json") { [unowned self] in
                    try store(try probe(name, layer: layer, of: final.extract), as: "probe-\(key).json")
                }
            }
            let probeKeys = probes.map { p in l.cells.first { $0.id == p }!.key }
            let analysisKey = Self.hash([finalKey, name, probeKey, try Self.json(e.ablation), try Self.json(e.minimalDelta)] + probeKeys)
            add("analysis \(name)", .analysis, analysisKey, [final.extract] + probes, "analysis-\(analysisKey).json") { [unowned self] in
                try store(try analyse(name, probes: probeKeys, of: final.extract), as: "analysis-\(analysisKey).json")
            }
            let dynamicsKey = Self.hash(seriesKeys + [name, probeKey])
            add("dynamics \(name)", .dynamics, dynamicsKey, l.series.map(\.extract), "dynamics-\(dynamicsKey).json") { [unowned self] in
                try store(try dynamics(name, reference: final), as: "dynamics-\(dynamicsKey).json")
            }
            if let reference = l.reference {
                let key = Self.hash(seriesKeys + [l.cells.first { $0.id == reference.extract }!.key, name, probeKey])
                add("dynamics \(name) to \(reference.name)", .dynamics, key, l.series.map(\.extract) + [reference.extract], "dynamics-\(key).json") {
                    [unowned self] in
                    try store(try dynamics(name, reference: reference), as: "dynamics-\(key).json")
                }
            }
            if let finetuned = l.finetuned {
                let key = Self.hash([finalKey, l.cells.first { $0.id == finetuned.extract }!.key, name, probeKey])
                add("fine-tuning \(name)", .fineTuning, key, [final.extract, finetuned.extract], "finetuning-\(key).json") { [unowned self] in
                    try store(try compare(name, base: final, other: finetuned), as: "finetuning-\(key).json")
                }
            }
        }
        layoutCache = l
        return l
    }

    /// Distinct names for model folders: their last component, with the parent's when two share it.
    static func names(_ folders: [String]) -> [String] {
        let last = folders.map { ($0 as NSString).lastPathComponent }
        return folders.indices.map { i in
            last.filter { $0 == last[i] }.count > 1
                ? (((folders[i] as NSString).deletingLastPathComponent as NSString).lastPathComponent + "/" + last[i]) : last[i]
        }
    }

    /// The number of layers of the last checkpoint (states 0…L).
    private func layerCount(_ l: Layout, _ final: ModelEntry) throws -> Int {
        experiment.models == nil ? experiment.lstm.layers : try languageModelLayerCount(final.folder)
    }

    // MARK: Running cells

    /// Runs every cell not in the cache (every cell with `force`), in plan order.
    public func run() throws -> ExperimentResults {
        let layout = try self.layout()
        try execute(layout.cells)
        return try assemble()
    }

    /// Runs shard `index` of `count` (only `level` when given), cells whose output is cached
    /// skipped. A dependency of another shard that is not in the cache yet is an error naming it.
    public func run(shard index: Int, of count: Int, level: Int? = nil) throws {
        // Shards of a level run at once: a damaged dependency is not theirs to rewrite.
        repairsDependencies = false
        let plan = try plan()
        try execute(plan.cells(shard: index, of: count).filter { level == nil || $0.level == level })
    }

    private func execute(_ cells: [StudyCell]) throws {
        let layout = try self.layout()
        try FileManager.default.createDirectory(atPath: cache, withIntermediateDirectories: true)
        for cell in cells {
            if !force && isDone(cell) {
                // Checked against its record now, so a run leaves no damaged output behind.
                try ensureIntact(cell.id)
                if !computed.contains(cell.id) {
                    cached.append(cell.id)
                    log("cached: \(cell.id)")
                }
                continue
            }
            if let missing = cell.dependencies.first(where: { d in !isDone(layout.cells.first { $0.id == d }!) }) {
                let level = layout.cells.first { $0.id == missing }!.level
                throw StudyError(
                    "\(cell.id) needs '\(missing)' (level \(level)), which is not in \(cache) yet (or has no checksum record: an older Sonde's): run the shards of level \(level) first (`sonde slurm` chains the levels)"
                )
            }
            // An output without its record is foreign (an older Sonde) unless it is a training
            // folder cut short, which continues from its last complete checkpoint.
            let path = cache + "/" + cell.output
            if !force && FileManager.default.fileExists(atPath: path) && (cell.kind != .train || trainingComplete(cell)) {
                log("warning: \(path): \(CellChecksum.problem(path) ?? "incomplete"), recomputing")
                CellChecksum.remove(path)
            }
            try compute(cell)
        }
    }

    /// Whether a damaged dependency is recomputed (one process) or an error (a shard: several
    /// shards could rewrite the same output at once).
    private var repairsDependencies = true

    /// Runs a cell whose dependencies are done, after checking their outputs, and records its
    /// output's checksum (its old record removed first, so an interrupted recomputation is
    /// not taken for a damaged output).
    private func compute(_ cell: StudyCell) throws {
        for dependency in cell.dependencies {
            if repairsDependencies {
                try ensureIntact(dependency)
            } else if !verified.contains(dependency), let d = try layout().cells.first(where: { $0.id == dependency }) {
                if let problem = CellChecksum.problem(cache + "/" + d.output) {
                    throw StudyError(
                        "\(cache)/\(d.output) (\(dependency)): \(problem); recompute it with the shards of level \(d.level) (or one `sonde run` without --shard) before this level")
                }
                verified.insert(dependency)
            }
        }
        try? FileManager.default.removeItem(atPath: CellChecksum.recordPath(cache + "/" + cell.output))
        log("running: \(cell.id)")
        try layout().work[cell.id]!()
        try CellChecksum.record(cache + "/" + cell.output)
        verified.insert(cell.id)
        computed.append(cell.id)
    }

    /// The cells whose outputs this process has checked against their records (or written).
    private var verified: Set<String> = []

    /// Checks a done cell's output against its checksum record before it is read, once per
    /// process; a damaged or foreign output is recomputed, with a warning that says why.
    private func ensureIntact(_ id: String) throws {
        guard !verified.contains(id), let cell = try layout().cells.first(where: { $0.id == id }) else { return }
        let path = cache + "/" + cell.output
        if let problem = CellChecksum.problem(path) { try recompute(cell, because: problem) } else { verified.insert(id) }
    }

    private func recompute(_ cell: StudyCell, because problem: String) throws {
        let path = cache + "/" + cell.output
        log("warning: \(path): \(problem), recomputing")
        CellChecksum.remove(path)
        activationMemo[cell.id] = nil
        try compute(cell)
    }

    private func store<T: Encodable>(_ value: T, as name: String) throws {
        let data = try JSONCoding.encoder().encode(value)
        try AtomicFile.write(to: cache + "/" + name) { try $0.write(Array(data)) }
    }

    /// A JSON cell output, checked against its record first; one that does not decode (written
    /// by another version of Sonde) is recomputed once.
    private func load<T: Decodable>(_ type: T.Type, _ name: String) throws -> T {
        let decoder = JSONCoding.decoder()
        guard let cell = try layout().cells.first(where: { $0.output == name }) else { throw StudyError("\(cache)/\(name): not a cell of this study") }
        try ensureIntact(cell.id)
        do { return try decoder.decode(T.self, from: MappedFile.data(cache + "/" + name)) } catch {
            try recompute(cell, because: "unreadable (\(error))")
        }
        do { return try decoder.decode(T.self, from: MappedFile.data(cache + "/" + name)) } catch {
            throw StudyError("\(cache)/\(name): unreadable cell output even when recomputed (\(error)); please report this")
        }
    }

    // Per-process memory of what several cells read.
    private var activationMemo: [String: [Matrix<Float>]] = [:]
    private var tokensMemo: [String: (LabelledCorpus, StudyTokens)] = [:]

    /// The layers of an extraction cell's activation file.
    private func activations(_ extractID: String) throws -> [Matrix<Float>] {
        if let memo = activationMemo[extractID] { return memo }
        try ensureIntact(extractID)
        let cell = try layout().cells.first { $0.id == extractID }!
        let file = try TensorCollection.read(cache + "/" + cell.output)
        var layers: [Matrix<Float>] = []
        var l = 0
        while let tensor = file[ActivationFile.layerName(l)] {
            layers.append(try ActivationSource.matrix(tensor, of: file))
            l += 1
        }
        activationMemo = [extractID: layers].merging(activationMemo.prefix(3).map { $0 }) { a, _ in a }
        return layers
    }

    private func tokens(_ name: String) throws -> (LabelledCorpus, StudyTokens) {
        if let memo = tokensMemo[name] { return memo }
        let labelled = try LabelledCorpus(try layout().corpus, property: Property(name: name)!)
        tokensMemo[name] = (labelled, labelled.tokens)
        return tokensMemo[name]!
    }

    private var settings: ProbeSettings { ProbeSettings(penalty: .elasticNet(lambda: experiment.lambda, alpha: experiment.alpha)) }

    /// One layer's probes over seeds: each seed trains on its own 80% of the training rows (and
    /// draws its own control task), so the spread says how much the numbers depend on the sample.
    private func probe(_ name: String, layer: Int, of extract: String) throws -> ExperimentResults.LayerProbe {
        let x = try activations(extract)[layer]
        let tokens = try self.tokens(name).1
        let runs = experiment.seeds.map { seed -> ProbeStudy.Result in
            var generator = SplitMix64(seed: seed)
            let rows = tokens.trainRows.filter { _ in generator.unit() < 0.8 }
            let train = ProbeStudy.Split(name: "train", data: tokens.dataset(x, rows, classes: nil), words: rows.map { tokens.words[$0] })
            let dev = ProbeStudy.Split(
                name: "dev", data: tokens.dataset(x, tokens.devRows, classes: train.data.classes), words: tokens.devRows.map { tokens.words[$0] })
            return ProbeStudy.run([train, dev], fit: .penalty(settings), seed: seed)
        }
        let accuracy = runs.map { $0.splits["dev"]!.accuracy }, selectivity = runs.map { $0.splits["dev"]!.selectivity ?? 0 }
        return ExperimentResults.LayerProbe(
            layer: ActivationFile.layerName(layer), accuracy: mean(accuracy), accuracySD: sd(accuracy), selectivity: mean(selectivity),
            selectivitySD: sd(selectivity), majority: runs[0].splits["dev"]!.majorityBaseline,
            ranking: Array(runs[0].ranking.prefix(max(experiment.k, 50))),
            warnings: runs[0].warnings)
    }

    /// The best layer of a property (best mean dev accuracy): its probe on all training rows,
    /// top neurons and their weights, top words, and ablation curves.
    struct Analysis: Codable {
        var best: Int
        var topNeurons: [Int]
        var topWeights: [Double]
        var ablation: AblationStudy.Result
        var topWords: TopActivations
    }

    private func analyse(_ name: String, probes: [String], of extract: String) throws -> Analysis {
        let layers = try probes.map { try load(ExperimentResults.LayerProbe.self, "probe-\($0).json") }
        let best = layers.indices.max { layers[$0].accuracy < layers[$1].accuracy }!
        let x = try activations(extract)[best]
        let (labelled, tokens) = try self.tokens(name)
        let classes = Array(Set(tokens.labels)).sorted()
        let trainSet = tokens.dataset(x, tokens.trainRows, classes: classes), devSet = tokens.dataset(x, tokens.devRows, classes: classes)
        let probe = FittedProbe.fit(trainSet, settings: settings)
        let topNeurons = Array(layers[best].ranking.prefix(experiment.k))
        let weights = probe.standardizedWeights
        let topWeights = topNeurons.map { n in (0..<weights.rows).reduce(0.0) { $0 + abs(weights[$1, n]) } }
        let counts = experiment.ablation.map { max(1, Int(($0 * Double(x.columns)).rounded())) }
        let ablation = try AblationStudy.run(
            [ProbeStudy.Split(name: "train", data: trainSet, words: nil), ProbeStudy.Split(name: "dev", data: devSet, words: nil)],
            probe: probe, probeSettings: settings, settings: .init(counts: counts, fills: [.zero], seeds: 5, minimalDelta: experiment.minimalDelta)
        ) { task, done, total in self.progress("\(task) \(name)", done, total) }
        let topWords = TopActivations.find(
            x, sentenceWords: labelled.sentenceWords, forms: labelled.words, labels: labelled.flatLabels, neurons: Array(topNeurons.prefix(3)),
            count: min(8, x.rows))
        return Analysis(best: best, topNeurons: topNeurons, topWeights: topWeights, ablation: ablation, topWords: topWords)
    }

    private func dynamics(_ name: String, reference: ModelEntry) throws -> Dynamics {
        let layout = try self.layout()
        let target = try activations(reference.extract)
        let series = try layout.series.map { ($0.name, try activations($0.extract)) }
        guard series.allSatisfy({ $0.1.count == target.count }) else {
            throw StudyError("\(reference.folder) has \(target.count) states, the checkpoints \(series[0].1.count): similarity needs the same layers")
        }
        return try Comparator.dynamics(
            checkpoints: series, reference: target, layerNames: target.indices.map(ActivationFile.layerName), tokens: try tokens(name).1,
            k: experiment.k, settings: settings
        ) { self.progress("dynamics \(name) to \(reference.name)", $0, $1) }
    }

    private func compare(_ name: String, base: ModelEntry, other: ModelEntry) throws -> ModelComparison {
        let (a, b) = (try activations(base.extract), try activations(other.extract))
        guard a.count == b.count else {
            throw StudyError("\(other.folder) has \(b.count) states, \(base.folder) \(a.count): they cannot be compared layer by layer")
        }
        return try ModelComparison.compare(
            base: a, other: b, layerNames: a.indices.map(ActivationFile.layerName), tokens: try tokens(name).1, k: experiment.k, settings: settings,
            sameNeurons: a.first?.columns == b.first?.columns
        ) { self.progress("fine-tuning \(name)", $0, $1) }
    }

    /// Each layer's probe warnings, and a warning for a layer whose mean dev accuracy over the
    /// seeds is within one SD of the majority baseline (the first seed's probe may be just above).
    static func warnings(_ property: String, _ layers: [ExperimentResults.LayerProbe]) -> [String] {
        layers.flatMap { layer in
            var out = layer.warnings.map { "\(property), \(layer.layer): \($0)" }
            if layer.accuracy - layer.majority <= max(layer.accuracySD, 1e-9) && !layer.warnings.contains(where: { $0.contains("majority") }) {
                out.append(
                    String(
                        format: "%@, %@: mean dev accuracy %.4f ± %.4f is within one SD of the majority baseline %.4f: no sign of the property there",
                        property, layer.layer, layer.accuracy, layer.accuracySD, layer.majority))
            }
            return out
        }
    }

    // MARK: Results

    /// The results from the cache; every cell must be done (the error lists those that are not).
    public func assemble() throws -> ExperimentResults {
        let e = experiment
        let layout = try self.layout()
        let missing = layout.cells.filter { !isDone($0) }
        guard missing.isEmpty else {
            throw StudyError(
                "\(missing.count) of \(layout.cells.count) cells are not in \(cache): \(missing.map(\.id).joined(separator: ", ")); run them (or their shards) first"
            )
        }
        func key(_ id: String) -> String { layout.cells.first { $0.id == id }!.key }
        func records(_ id: String) throws -> [LSTMCheckpoint] {
            guard let (folder, steps) = layout.training[id] else { return [] }
            try ensureIntact(id)
            return try steps.map { step in
                let path = folder + "/step-\(step)"
                var record = try JSONCoding.decoder().decode(LSTMCheckpoint.self, from: MappedFile.data(path + "/trainer_state.json"))
                record.folder = e.relative(path)
                return record
            }
        }
        var warnings: [String] = []
        var properties: [ExperimentResults.PropertyResult] = []
        for name in e.properties where Property(name: name) != nil {
            let layers = try layout.cells.filter { $0.kind == .probe && $0.id.hasPrefix("probe \(name) ") }.map {
                try load(ExperimentResults.LayerProbe.self, "probe-\($0.key).json")
            }
            warnings += Self.warnings(name, layers)
            if let top = layers.first, layers.allSatisfy({ $0.accuracy <= top.majority + 1e-9 }) {
                warnings.append("\(name): no layer beats the majority baseline \(String(format: "%.3f", top.majority)) on dev")
            }
            let analysis = try load(Analysis.self, "analysis-\(key("analysis \(name)")).json")
            let dynamics = try load(Dynamics.self, "dynamics-\(key("dynamics \(name)")).json")
            let toReference = try layout.reference.map { r in try load(Dynamics.self, "dynamics-\(key("dynamics \(name) to \(r.name)")).json") }
            let fineTuning = try layout.finetuned.map { _ in try load(ModelComparison.self, "finetuning-\(key("fine-tuning \(name)")).json") }
            properties.append(
                .init(
                    property: name, layers: layers, bestLayer: layers[analysis.best].layer, topNeurons: analysis.topNeurons,
                    topWeights: analysis.topWeights, ablation: analysis.ablation, topWords: analysis.topWords, dynamics: dynamics,
                    dynamicsToTagger: toReference, fineTuning: fineTuning))
        }
        return ExperimentResults(
            version: Self.version, experiment: e.portable,
            inputHashes: Dictionary(uniqueKeysWithValues: layout.hashes.map { (e.relative($0.key), $0.value) }), checkpoints: try records("train lm"),
            tagger: try records("train tagger").last, finetuned: try records("train finetune").last, checkpointNames: layout.series.map(\.name),
            properties: properties,
            interactions: try e.interactions.map { _ in
                try layout.cells.filter { $0.kind == .interactions }.map { try load(InteractionStudy.self, $0.output) }
            }, warnings: warnings)
    }
}

private func mean(_ v: [Double]) -> Double { v.isEmpty ? 0 : v.reduce(0, +) / Double(v.count) }
private func sd(_ v: [Double]) -> Double {
    guard v.count > 1 else { return 0 }
    let m = mean(v)
    return (v.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(v.count - 1)).squareRoot()
}
