import Foundation
import SondeBase
import SondeCorpus
import SondeLinalg
import SondeModels
import SondeProbe
import SondeSimilarity
import SondeStudy

/// Runs an `Experiment` as cells (`StudyLayout`) in dependency order — train (LM, tagger,
/// fine-tuned copy), extract each checkpoint, probe each property on each layer over seeds,
/// analyse the best layer, follow over training, compare before and after fine-tuning — each
/// cached under `Experiment.cacheFolder` (OUTPUT/cache by default) by its content key, so a rerun
/// recomputes only what a changed setting touches and an interrupted run continues. The cells can also run as shards in
/// separate processes (`run(shard:)`) and be merged (`assemble`).
public final class ExperimentRunner {
    public let experiment: Experiment
    /// Recompute every cell this run executes.
    public var force = false
    /// (task, done, total) while a cell runs.
    public var progress: (String, Int, Int) -> Void = { _, _, _ in }
    /// A line when a cell starts or is found in the cache.
    public var log: (String) -> Void = { _ in }
    /// The cells this runner computed and found cached.
    public private(set) var computed: [CellID] = [], cached: [CellID] = []

    public static let version = "0.3.0"
    let cache: String

    public init(_ experiment: Experiment) {
        self.experiment = experiment
        cache = experiment.cacheFolder
    }

    private var layoutMemo: StudyLayout?

    func layout() throws -> StudyLayout {
        if let layoutMemo { return layoutMemo }
        layoutMemo = try StudyLayout(experiment)
        return layoutMemo!
    }

    /// The study's cells, and which are in the cache.
    public func plan() throws -> StudyPlan {
        let layout = try self.layout()
        return StudyPlan(cells: layout.cells.map(layout.studyCell), done: layout.cells.filter(isDone).map(\.id))
    }

    /// Whether the cell's output and its checksum record are in the cache (whether they agree is
    /// checked when the output is read: `ensureIntact`).
    private func isDone(_ cell: any Cell) -> Bool {
        let path = cache + "/" + cell.output
        guard FileManager.default.fileExists(atPath: CellChecksum.recordPath(path)) else { return false }
        return (cell as? TrainCell)?.isComplete(in: cache) ?? FileManager.default.fileExists(atPath: path)
    }

    /// The cache checked against the plan, nothing recomputed: each cell's output intact,
    /// damaged (a run recomputes it; `problem` says why) or not computed yet.
    public struct CacheCheck: Codable, Sendable {
        public struct Damaged: Codable, Sendable {
            public var cell: CellID
            public var output: String
            public var problem: String
        }
        public var intact: [CellID] = []
        public var damaged: [Damaged] = []
        public var notComputed: [CellID] = []
    }

    public func verifyCache() throws -> CacheCheck {
        var check = CacheCheck()
        for cell in try layout().cells {
            let path = cache + "/" + cell.output
            let recorded = FileManager.default.fileExists(atPath: CellChecksum.recordPath(path))
            let cutShort = (cell as? TrainCell).map { !recorded && !$0.isComplete(in: cache) } ?? false
            if !FileManager.default.fileExists(atPath: path) || cutShort {
                check.notComputed.append(cell.id)
            } else if let problem = CellChecksum.problem(path) {
                check.damaged.append(.init(cell: cell.id, output: experiment.relative(path), problem: problem))
            } else {
                check.intact.append(cell.id)
            }
        }
        return check
    }

    // MARK: Running cells

    /// Runs every cell not in the cache (every cell with `force`), in plan order, and assembles
    /// the results.
    /// Whole runs of one cache folder take turns (an exclusive lock on `cache/.lock`, released by
    /// the kernel when a process dies): two runs recomputing the same cells (`--force`) would
    /// otherwise delete what the other reads (found by benchmarks/soak.sh). Shards, which run
    /// different cells side by side, do not take it.
    public func run() throws -> ExperimentResults {
        try FileManager.default.createDirectory(atPath: cache, withIntermediateDirectories: true)
        let lock = open(cache + "/.lock", O_CREAT | O_RDWR | O_CLOEXEC, 0o644)
        guard lock >= 0 else { throw FileError(.cannotWrite, cache + "/.lock", "cannot open the study's lock file (\(errnoText()))") }
        defer { close(lock) }
        if flock(lock, LOCK_EX | LOCK_NB) != 0 {
            log("waiting: another run using this cache holds \(cache)/.lock")
            while flock(lock, LOCK_EX) != 0 && errno == EINTR {}
        }
        try execute(try layout().cells)
        return try assemble()
    }

    /// Runs shard `index` of `count` (only `level` when given), cells whose output is cached
    /// skipped. A dependency of another shard that is not in the cache yet is an error naming it.
    public func run(shard index: Int, of count: Int, level: Int? = nil) throws {
        // Shards of a level run at once: a damaged dependency is not theirs to rewrite.
        repairsDependencies = false
        let ids = Set(try plan().cells(shard: index, of: count).filter { level == nil || $0.level == level }.map(\.id))
        try execute(try layout().cells.filter { ids.contains($0.id) })
    }

    private func execute(_ cells: [any Cell]) throws {
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
            // A shard cannot make what a lower level lacks; one process (which may share the
            // folder with another that is rewriting the dependency) recomputes it when it reads it.
            if !repairsDependencies, let missing = cell.dependencies.first(where: { !isDone(layout.cell($0)!) }) {
                let level = layout.levels[missing]!
                throw StudyError(
                    "\(cell.id) needs '\(missing)' (level \(level)), which is not in \(cache) yet (or has no checksum record: an older Sonde's): run the shards of level \(level) first (`sonde slurm` chains the levels)"
                )
            }
            // An output without its record is foreign (an older Sonde) unless it is a training
            // folder cut short, which continues from its last complete checkpoint.
            let path = cache + "/" + cell.output
            if !force && FileManager.default.fileExists(atPath: path) && ((cell as? TrainCell)?.isComplete(in: cache) ?? true) {
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
    private func compute(_ cell: any Cell) throws {
        for dependency in cell.dependencies {
            if repairsDependencies {
                try ensureIntact(dependency)
            } else if !verified.contains(dependency), let d = try layout().cell(dependency) {
                if let problem = CellChecksum.problem(cache + "/" + d.output) {
                    throw StudyError(
                        "\(cache)/\(d.output) (\(dependency)): \(problem); recompute it with the shards of level \(try layout().levels[dependency]!) (or one `sonde run` without --shard) before this level"
                    )
                }
                verified.insert(dependency)
            }
        }
        try? FileManager.default.removeItem(atPath: CellChecksum.recordPath(cache + "/" + cell.output))
        log("running: \(cell.id)")
        try cell.run(self)
        try CellChecksum.record(cache + "/" + cell.output)
        verified.insert(cell.id)
        computed.append(cell.id)
    }

    /// The cells whose outputs this process has checked against their records (or written).
    private var verified: Set<CellID> = []

    /// Checks a done cell's output against its checksum record before it is read, once per
    /// process; a damaged or foreign output is recomputed, with a warning that says why.
    func ensureIntact(_ id: CellID) throws {
        guard !verified.contains(id), let cell = try layout().cell(id) else { return }
        if let problem = CellChecksum.problem(cache + "/" + cell.output) { try recompute(cell, because: problem) } else { verified.insert(id) }
    }

    private func recompute(_ cell: any Cell, because problem: String) throws {
        let path = cache + "/" + cell.output
        log("warning: \(path): \(problem), recomputing")
        CellChecksum.remove(path)
        activationMemo[cell.id] = nil
        try compute(cell)
    }

    // MARK: What cells read and write

    func store<T: Encodable>(_ value: T, as name: String) throws {
        let data = try JSONCoding.encoder().encode(value)
        try AtomicFile.write(to: cache + "/" + name) { try $0.write(Array(data)) }
    }

    /// A JSON cell's output, checked against its record first; one that does not decode
    /// (written by another version of Sonde) is recomputed once.
    func load<T: Decodable>(_ type: T.Type, of cell: any Cell) throws -> T {
        let decoder = JSONCoding.decoder()
        let path = cache + "/" + cell.output
        try ensureIntact(cell.id)
        do { return try decoder.decode(T.self, from: MappedFile.data(path)) } catch {
            try recompute(cell, because: "unreadable (\(error))")
        }
        do { return try decoder.decode(T.self, from: MappedFile.data(path)) } catch {
            throw StudyError("\(path): unreadable cell output even when recomputed (\(error)); please report this")
        }
    }

    // Per-process memory of what several cells read.
    private var activationMemo: [CellID: [Matrix<Float>]] = [:]
    private var tokensMemo: [String: (LabelledCorpus, StudyTokens)] = [:]

    /// The layers of an extraction cell's activation file.
    func activations(_ extract: CellID) throws -> [Matrix<Float>] {
        if let memo = activationMemo[extract] { return memo }
        try ensureIntact(extract)
        let file = try TensorCollection.read(cache + "/" + (try layout().cell(extract)!.output))
        var layers: [Matrix<Float>] = []
        while let tensor = file[ActivationFile.layerName(layers.count)] { layers.append(try ActivationSource.matrix(tensor, of: file)) }
        activationMemo = [extract: layers].merging(activationMemo.prefix(3).map { $0 }) { a, _ in a }
        return layers
    }

    /// A property's tokens over the study's treebank, with their split.
    func tokens(_ property: String) throws -> (LabelledCorpus, StudyTokens) {
        if let memo = tokensMemo[property] { return memo }
        let labelled = try LabelledCorpus(try layout().corpus, property: Property(name: property)!)
        tokensMemo[property] = (labelled, labelled.tokens)
        return tokensMemo[property]!
    }

    /// Probes of the study's settings by (extraction, layer, property): the dynamics cells of one
    /// property (to the last checkpoint and to each reference) fit the same probes.
    private(set) var probeMemo: [String: ProbeStudy.Result] = [:]

    /// The probe of `x`, `extract`'s layer `layer`, for `tokens`' property (`ProbeStudy.layer`),
    /// fitted once a process.
    func probe(_ x: Matrix<Float>, of extract: CellID, layer: Int, _ tokens: StudyTokens) -> ProbeStudy.Result {
        let key = "\(extract) \(layer) \(tokens.property)"
        if let memo = probeMemo[key] { return memo }
        let result = ProbeStudy.layer(x, tokens, settings: probeSettings)
        probeMemo[key] = result
        return result
    }

    /// The experiment's similarity measures (`[analyses] measures`), or `default`.
    func measures(default measures: [any SimilarityMeasure]) -> [any SimilarityMeasure] {
        experiment.measures?.compactMap(SimilarityMeasures.named) ?? measures
    }

    var probeSettings: ProbeSettings { ProbeSettings(penalty: .elasticNet(lambda: experiment.lambda, alpha: experiment.alpha)) }
}
