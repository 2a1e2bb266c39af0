import Foundation
import SondeCorpus
import SondeModels
import SondeStudy

/// The plan of a study: its cells in dependency order with their levels, and what the assembly
/// reads — each property's cells, the models.
struct StudyLayout {
    /// A property's cells, for the assembly.
    struct PropertyCells {
        var name: String
        var probes: [ProbeCell]
        var analysis: AnalysisCell
        var sparsity: SparsityCell?
        var erasure: ErasureCell?
        var dynamics: DynamicsCell
        var toReference: DynamicsCell?
        /// To each further reference (`[lstm] references`), in their order.
        var toReferences: [DynamicsCell]
        var fineTuning: FineTuningCell?
    }

    var corpus: Corpus
    /// Content hashes of the inputs and of each trained model, for results.json.
    var hashes: [String: String]
    var cells: [any Cell] = []
    var levels: [CellID: Int] = [:]
    var series: [ModelEntry] = []
    var reference: ModelEntry?
    /// The further references, by property (`[lstm] references`).
    var references: [(property: String, model: ModelEntry)] = []
    var finetuned: ModelEntry?
    var training: [CellID.TrainedModel: TrainCell] = [:]
    var interactions: [InteractionsCell] = []
    /// The language model's checkpoints' task spaces, oldest first, and those of its other sizes.
    var taskSpaces: [TaskSpaceCell] = []
    var sizeSpaces: [(hidden: Int, cell: TaskSpaceCell)] = []
    var properties: [PropertyCells] = []

    mutating func add(_ cell: any Cell) {
        levels[cell.id] = cell.dependencies.map { levels[$0]! + 1 }.max() ?? 0
        cells.append(cell)
    }

    func cell(_ id: CellID) -> (any Cell)? { cells.first { $0.id == id } }

    func key(_ id: CellID) -> String { cell(id)!.key }

    func studyCell(_ cell: any Cell) -> StudyCell {
        StudyCell(id: cell.id, key: cell.key, level: levels[cell.id]!, dependencies: cell.dependencies, output: cell.output)
    }

    /// Plans an experiment: reads its treebank (for the content keys) and lays out its cells.
    init(_ e: Experiment) throws {
        let read = try CorpusReader.read(try e.corpusFiles())
        corpus = read.corpus
        if e.limit > 0 { corpus.sentences = Array(corpus.sentences.prefix(e.limit)) }
        hashes = [:]
        for path in read.files { hashes[path] = try CellKey.file(path) }
        let corpusKey = CellKey.hash(read.files.map { hashes[$0]! } + [String(e.limit)])
        if let models = e.models {
            try addModels(models, corpusKey: corpusKey)
        } else {
            try addTraining(e, corpusKey: corpusKey)
        }
        try addProperties(e)
    }

    /// Existing checkpoints: each folder's content is its address.
    private mutating func addModels(_ models: Experiment.ModelSeries, corpusKey: String) throws {
        let tokenizerKey = try models.tokenizer.map { [try CellKey.file($0)] } ?? []
        func entry(_ folder: String, _ name: String) throws -> ModelEntry {
            let fingerprint = CellKey.hash([try ModelIdentity.fingerprint(folder: folder)] + tokenizerKey)
            hashes[folder] = fingerprint
            add(ExtractCell(model: name, key: CellKey.hash([fingerprint, corpusKey, "extract"]), dependencies: [], folder: folder))
            return ModelEntry(name: name, folder: folder)
        }
        series = try zip(models.checkpoints, models.names ?? Self.names(models.checkpoints)).map { try entry($0, $1) }
        reference = try models.reference.map { try entry($0, "reference " + ($0 as NSString).lastPathComponent) }
        finetuned = try models.finetuned.map { try entry($0, "fine-tuned " + ($0 as NSString).lastPathComponent) }
    }

    /// The native LSTM: the language model over training, and the tagger and fine-tuned copy
    /// when asked for.
    private mutating func addTraining(_ e: Experiment, corpusKey: String) throws {
        let corpus = self.corpus, cache = e.cacheFolder
        let analysis = Property(name: e.properties[0])
        func train(_ cell: TrainCell) -> TrainCell {
            training[cell.model] = cell
            add(cell)
            hashes[cell.model.description] = cell.key
            return cell
        }
        func extract(_ name: String, _ folder: String, key: String, after: TrainCell) -> ModelEntry {
            add(ExtractCell(model: name, key: key, dependencies: [after.id], folder: folder))
            return ModelEntry(name: name, folder: folder)
        }
        let lmKey = CellKey.hash([corpusKey, try CellKey.json(e.lstm)])
        let lm = train(TrainCell(model: .lm, key: lmKey, dependencies: [], settings: e.lstm) { try TrainingTasks.split(corpus, analysis: analysis) })
        for step in e.lstm.checkpointSteps {
            series.append(
                extract("step-\(step)", lm.checkpoint(step, in: cache), key: CellKey.hash([lmKey, String(step), corpusKey, "extract"]), after: lm))
        }
        if let settings = e.interactions {
            let settingsKey = try CellKey.json(settings)
            for step in e.lstm.checkpointSteps {
                let cell = InteractionsCell(
                    step: step, key: CellKey.hash([lmKey, String(step), corpusKey, settingsKey, "interactions"]), dependencies: [lm.id],
                    folder: lm.checkpoint(step, in: cache), settings: settings)
                interactions.append(cell)
                add(cell)
            }
        }
        if let settings = e.taskSpace {
            let tasks = try settings.chosenTasks()
            let tasksKey = CellKey.hash([try CellKey.json(tasks), try settings.key, "taskspace"])
            hashes[settings.pairs] = CellKey.hash([try CellKey.json(tasks)])
            func space(_ model: String, _ key: String, after: TrainCell, _ step: Int) -> TaskSpaceCell {
                let cell = TaskSpaceCell(
                    model: model, key: CellKey.hash([key, String(step), tasksKey]), dependencies: [after.id],
                    folder: after.checkpoint(step, in: cache),
                    tasks: tasks, settings: settings)
                add(cell)
                return cell
            }
            taskSpaces = (settings.steps ?? e.lstm.checkpointSteps).map { space("step-\($0)", lmKey, after: lm, $0) }
            for hidden in settings.sizes {
                var lstm = e.lstm
                lstm.hidden = hidden
                let key = CellKey.hash([corpusKey, try CellKey.json(lstm)])
                let cell = train(
                    TrainCell(model: .size(hidden), key: key, dependencies: [], settings: lstm) {
                        try TrainingTasks.split(corpus, analysis: analysis)
                    })
                sizeSpaces.append((hidden, space("hidden-\(hidden)", key, after: cell, lstm.checkpointSteps.last!)))
            }
        }
        if let tagger = e.tagger, let property = Property(name: tagger) {
            var settings = e.lstm
            settings.checkpoints = [settings.steps]
            let key = CellKey.hash([corpusKey, try CellKey.json(settings), tagger])
            let cell = train(
                TrainCell(model: .tagger, key: key, dependencies: [], settings: settings) { try TrainingTasks.split(corpus, property: property) })
            reference = extract("tagger", cell.checkpoint(settings.steps, in: cache), key: CellKey.hash([key, corpusKey, "extract"]), after: cell)
        }
        for name in e.references {
            guard let property = Property(name: name) else { continue }
            var settings = e.lstm
            settings.checkpoints = [settings.steps]
            let key = CellKey.hash([corpusKey, try CellKey.json(settings), name, "reference"])
            let cell = train(
                TrainCell(model: .reference(name), key: key, dependencies: [], settings: settings) {
                    try TrainingTasks.split(corpus, property: property)
                })
            references.append(
                (
                    name,
                    extract(
                        "reference-\(name)", cell.checkpoint(settings.steps, in: cache), key: CellKey.hash([key, corpusKey, "extract"]), after: cell)
                ))
        }
        if let finetune = e.finetune, let property = Property(name: finetune) {
            var settings = e.lstm
            (settings.steps, settings.checkpoints) = (e.finetuneSteps, [e.finetuneSteps])
            let key = CellKey.hash([lmKey, try CellKey.json(settings), finetune])
            let last = series.last!.folder
            let cell = train(
                TrainCell(
                    model: .finetune, key: key, dependencies: [lm.id], settings: settings,
                    task: { try TrainingTasks.split(corpus, property: property) },
                    start: { try LSTMModel(folder: last) }))
            finetuned = extract(
                "fine-tuned", cell.checkpoint(settings.steps, in: cache), key: CellKey.hash([key, corpusKey, "extract"]), after: cell)
        }
    }

    /// Probes, the analysis, dynamics and fine-tuning, per property.
    private mutating func addProperties(_ e: Experiment) throws {
        let final = series.last!
        let finalKey = key(final.extract)
        let probeKey = try CellKey.json([String(e.lambda), String(e.alpha), String(e.k)])
        let seriesKeys = series.map { key($0.extract) }
        let layerCount = e.models == nil ? e.lstm.layers : try languageModelLayerCount(final.folder)
        // Named measures enter the keys; the defaults do not. "dev": these cells' probes are
        // evaluated on dev since the one probe engine (test before), so older outputs are redone.
        let measureKey = ["dev"] + (e.measures.map { ["measures"] + $0 } ?? [])
        for name in e.properties where Property(name: name) != nil {
            let probes = try (0...layerCount).map { layer in
                ProbeCell(
                    property: name, layer: layer, key: CellKey.hash([finalKey, name, String(layer), probeKey, try CellKey.json(e.seeds)]),
                    extract: final.extract)
            }
            probes.forEach { add($0) }
            let analysisKey = CellKey.hash(
                [finalKey, name, probeKey, try CellKey.json(e.ablation), try CellKey.json(e.minimalDelta)] + probes.map(\.key))
            let analysis = AnalysisCell(property: name, key: analysisKey, extract: final.extract, probes: probes)
            add(analysis)
            let sparsity = try e.sparsity.map { ks in
                SparsityCell(
                    property: name,
                    key: CellKey.hash([
                        analysis.key, try CellKey.json(ks), try CellKey.json((e.rankers ?? SparseProbing.Ranker.defaults).map(\.rawValue)),
                    ]),
                    extract: final.extract, analysis: analysis)
            }
            sparsity.map { add($0) }
            let erasure =
                e.erasure == true
                ? ErasureCell(
                    property: name, key: CellKey.hash([analysis.key, "erasure", "leace"]), extract: final.extract, analysis: analysis,
                    folder: final.folder)
                : nil
            erasure.map { add($0) }
            let dynamics = DynamicsCell(
                property: name, key: CellKey.hash(seriesKeys + [name, probeKey] + measureKey), series: series, reference: final,
                toLastCheckpoint: true)
            add(dynamics)
            let toReference = reference.map { r in
                DynamicsCell(
                    property: name, key: CellKey.hash(seriesKeys + [key(r.extract), name, probeKey] + measureKey), series: series, reference: r,
                    toLastCheckpoint: false)
            }
            toReference.map { add($0) }
            let toReferences = references.map { r in
                DynamicsCell(
                    property: name, key: CellKey.hash(seriesKeys + [key(r.model.extract), name, probeKey] + measureKey), series: series,
                    reference: r.model, toLastCheckpoint: false)
            }
            toReferences.forEach { add($0) }
            let fineTuning = finetuned.map { f in
                FineTuningCell(property: name, key: CellKey.hash([finalKey, key(f.extract), name, probeKey] + measureKey), base: final, other: f)
            }
            fineTuning.map { add($0) }
            properties.append(
                PropertyCells(
                    name: name, probes: probes, analysis: analysis, sparsity: sparsity, erasure: erasure, dynamics: dynamics,
                    toReference: toReference, toReferences: toReferences, fineTuning: fineTuning))
        }
    }

    /// Distinct names for model folders: their last component, with the parent's when two share it.
    static func names(_ folders: [String]) -> [String] {
        let last = folders.map { ($0 as NSString).lastPathComponent }
        return folders.indices.map { i in
            last.filter { $0 == last[i] }.count > 1
                ? (((folders[i] as NSString).deletingLastPathComponent as NSString).lastPathComponent + "/" + last[i]) : last[i]
        }
    }
}
