import ArgumentParser
import Foundation
import SondeBase
import SondeCorpus
import SondeExperiment

/// A runner that shows progress bars on a terminal and timestamped lines in logs.
func makeRunner(_ experiment: Experiment, force: Bool) -> ExperimentRunner {
    let runner = ExperimentRunner(experiment)
    runner.force = force
    var bars: [String: Progress] = [:]
    runner.progress = { stage, done, total in
        let bar = bars[stage] ?? Progress(what: stage)
        bars[stage] = bar
        bar.update(done, total)
    }
    runner.log = Progress.log
    return runner
}

/// Runs an experiment (or only assembles it from the cache, `merge`) and writes results.json and
/// report.html into its output folder.
func runExperiment(_ experiment: Experiment, force: Bool, merge: Bool = false, json: Bool) throws {
    let runner = makeRunner(experiment, force: force)
    let results = try merge ? runner.assemble() : runner.run()
    let out = experiment.output
    try runner.write(results)
    struct Summary: Encodable {
        let results: String, report: String, computed: [CellID], cached: [CellID], warnings: [String]
    }
    if json {
        return try printJSON(
            Summary(
                results: out + "/results.json", report: out + "/report.html", computed: runner.computed, cached: runner.cached,
                warnings: results.warnings))
    }
    if !merge {
        print(
            runner.computed.isEmpty
                ? "nothing recomputed: every cell came from the cache"
                : "computed \(runner.computed.count) cells: \(runner.computed.map(\.description).joined(separator: ", "))")
    }
    for p in results.properties {
        let best = p.layers.first { $0.layer == p.bestLayer }!
        print(
            "\(p.property): best layer \(p.bestLayer), dev accuracy \(f(best.accuracy)) ± \(f(best.accuracySD)), selectivity \(f(best.selectivity))")
    }
    if let t = results.taskSpaces {
        let sharing = t.spaces.map { $0.gradient.map { f($0.parameterSharing) } ?? "–" }.joined(separator: " ")
        let stable = (t.stability["transferMargin"]?.toLast ?? []).map(f).joined(separator: " ")
        print("task spaces at \(t.checkpoints.joined(separator: ", ")): parameter sharing \(sharing); transfer vs the last \(stable)")
        for s in t.sizes { print("task space at hidden \(s.hidden): parameter sharing \(s.space.gradient.map { f($0.parameterSharing) } ?? "–")") }
    }
    for c in results.claims ?? [] { print("claim: \(c.claim) — \(c.verdict.rawValue): \(c.reason)") }
    results.warnings.forEach { print("warning: " + $0) }
    print("wrote \(out)/results.json and \(out)/report.html")
}

/// `I/N` with 0 ≤ I < N.
struct ShardSpec: ExpressibleByArgument {
    let index: Int, count: Int
    init?(argument: String) {
        let parts = argument.split(separator: "/")
        guard parts.count == 2, let i = Int(parts[0]), let n = Int(parts[1]), n >= 1, (0..<n).contains(i) else { return nil }
        (index, count) = (i, n)
    }
}

struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a whole study from an experiment file (TOML): train, extract, probe, ablate, compare; results.json and report.html.",
        discussion: """
            A study is a set of cells — one model's training, one checkpoint's extraction, one \
            (property, layer) probe over seeds, one property's analysis, similarity over training, \
            the fine-tuning comparison, one checkpoint's task spaces ([taskspace]) — each cached under OUTPUT/cache (or the file's `cache`) by a content hash of its \
            inputs and settings: a rerun recomputes only what a changed setting touches, and an \
            interrupted run continues. `--plan` lists the cells, `--dry-run` those that would run. \
            On several machines: `--shard I/N` runs one shard's cells (level by level with --level), \
            `--merge` writes the results once every cell is in the cache; `sonde slurm` does both \
            through Slurm. `sonde demo --print-experiment` prints a complete example file; \
            `studies/` has files that declare a paper's claims ([[claims]]: earlier, rises, falls, \
            lower-than, higher-than over named quantities), whose verdicts head results.json and \
            the report.

            Examples:
              sonde run study.toml
              sonde run study.toml --dry-run
              sonde run study.toml --shard 0/4 --level 2
              sonde run study.toml --merge
            """)

    @Argument(help: "The experiment file.") var file: String
    @Flag(help: "Check the file and stop.") var check = false
    @Flag(help: "Recompute every cell this run executes.") var force = false
    @Flag(help: "List the study's cells (id, level, content hash, dependencies, cached or not) and stop.") var plan = false
    @Flag(help: "List the cells that would run (those not in the cache) and stop.") var dryRun = false
    @Option(help: "With --plan: the shard count, to show each cell's shard and the shards not complete.") var shards: Int?
    @Option(help: "Run only shard I of N (I from 0), e.g. 2/8; no results are written (see --merge).") var shard: ShardSpec?
    @Option(help: "With --shard: run only the cells of this level (a level's dependencies are on lower levels).") var level: Int?
    @Flag(help: "Write results.json and report.html from the cache; lists the cells still missing.") var merge = false
    @Flag(help: "Check every cached output against its checksum record and list what a run would recompute (exit 65 when something is damaged).")
    var verify = false
    @OptionGroup var output: OutputOptions

    func validate() throws {
        if level != nil && shard == nil { throw ValidationError("--level goes with --shard I/N") }
        if let shards, shards < 1 { throw ValidationError("--shards must be at least 1") }
        if [plan || dryRun, shard != nil, merge, check, verify].filter({ $0 }).count > 1 {
            throw ValidationError("choose one of --check, --verify, --plan/--dry-run, --shard and --merge")
        }
    }

    func run() throws {
        let experiment = try Experiment.read(file)
        if check {
            let inputs = try experiment.checkInputs()
            struct Checked: Encodable { let experiment: Experiment, inputs: [String] }
            if output.json { return try printJSON(Checked(experiment: experiment.portable, inputs: inputs)) }
            print(
                "\(file): valid (output \(experiment.relative(experiment.output)), \(experiment.properties.count) propert\(experiment.properties.count == 1 ? "y" : "ies")); every input read:"
            )
            return inputs.forEach { print("  " + $0) }
        }
        if verify { return try verifyCache(experiment) }
        if plan || dryRun { return try showPlan(experiment) }
        if let shard {
            let runner = makeRunner(experiment, force: force)
            try runner.run(shard: shard.index, of: shard.count, level: level)
            if output.json { return try printJSON(["computed": runner.computed, "cached": runner.cached]) }
            return print(
                "shard \(shard.index)/\(shard.count)\(level.map { " level \($0)" } ?? ""): computed \(runner.computed.count) cells, \(runner.cached.count) cached"
            )
        }
        try runExperiment(experiment, force: force, merge: merge, json: output.json)
    }

    func verifyCache(_ experiment: Experiment) throws {
        let check = try ExperimentRunner(experiment).verifyCache()
        if output.json {
            try printJSON(check)
        } else {
            for d in check.damaged { print("damaged  \(d.cell)  \(d.output): \(d.problem)") }
            print(
                "\(check.intact.count) cells intact, \(check.damaged.count) damaged (a run recomputes them), \(check.notComputed.count) not computed yet"
            )
        }
        if !check.damaged.isEmpty { throw ExitCode(.malformedInput) }
    }

    func showPlan(_ experiment: Experiment) throws {
        let plan = try ExperimentRunner(experiment).plan()
        let done = Set(plan.done)
        let cells = dryRun ? plan.cells.filter { !done.contains($0.id) } : plan.cells
        var shardOf: [CellID: Int] = [:]
        if let shards { for i in 0..<shards { for c in plan.cells(shard: i, of: shards) { shardOf[c.id] = i } } }
        let incomplete = Set(plan.cells.filter { !done.contains($0.id) }.compactMap { shardOf[$0.id] }).sorted()
        if output.json {
            struct Row: Encodable {
                let id: CellID, kind: String, level: Int, key: String, dependencies: [CellID], output: String, cached: Bool, shard: Int?
            }
            struct PlanReport: Encodable { let cells: [Row], levels: Int, toRun: Int, incompleteShards: [Int]? }
            return try printJSON(
                PlanReport(
                    cells: cells.map {
                        Row(
                            id: $0.id, kind: $0.kind.rawValue, level: $0.level, key: $0.key, dependencies: $0.dependencies, output: $0.output,
                            cached: done.contains($0.id), shard: shardOf[$0.id])
                    }, levels: plan.levels, toRun: plan.cells.count - done.count, incompleteShards: shards == nil ? nil : incomplete))
        }
        for c in cells {
            let shard = shardOf[c.id].map { "  shard \($0)" } ?? ""
            print("level \(c.level)  \(c.key)  \(done.contains(c.id) ? "cached " : "to run ")\(shard)  \(c.id)")
        }
        print("\(plan.cells.count) cells in \(plan.levels) levels, \(plan.cells.count - done.count) to run")
        if shards != nil && !incomplete.isEmpty {
            print(
                "shards not complete: \(incomplete.map(String.init).joined(separator: ",")) (resubmit them alone: sonde slurm \(file) --out DIR --only \(incomplete.map(String.init).joined(separator: ",")) --submit)"
            )
        }
    }
}

struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "The bundled study on the embedded treebank: an LSTM over training, a tagger, a fine-tuned copy, probes, ablation, report.",
        discussion: """
            Writes the embedded treebank (`sonde corpus generate`) and the experiment into --out, then \
            runs it: a small LSTM language model with checkpoints over training, a POS tagger, a topic \
            classifier and a copy fine-tuned on the topic (genre: each document's topic); probes for part of speech, number and \
            topic on every layer; ablation; similarity over training, to the tagger, to the topic classifier and before/after \
            fine-tuning; and Saphra & Lopez's claim that part of speech is learned before topic, with its verdict. A few \
            minutes on 2 cores; a rerun takes seconds (cached).
            """)

    static let experiment = """
        # The bundled Sonde study (sonde demo). Paths are relative to this file's folder;
        # "sonde:default" is the embedded treebank, written to corpus/default.conllu when missing.
        output = "."

        [corpus]
        paths = ["sonde:default"]

        [lstm]
        hidden = 64
        layers = 2
        steps = 300
        checkpoints = [0, 20, 50, 100, 200, 300]
        batch_size = 16
        learning_rate = 0.005
        tagger = "upos"
        references = ["genre"]
        finetune = "genre"
        finetune_steps = 40

        [probe]
        properties = ["upos", "feats.Number", "genre"]
        lambda = 0.01
        alpha = 0.5
        seeds = [1, 2, 3]
        k = 8

        [analyses]
        ablation = [0.05, 0.1, 0.25, 0.5, 1.0]

        # Saphra & Lopez (2019): part of speech is learned before topic. A topic classifier
        # (references) is trained beside the tagger; the verdict is computed per measure.
        [[claims]]
        claim = "part of speech is learned earlier than topic (layer 1's similarity to the POS tagger against its similarity to the topic classifier)"
        kind = "earlier"
        quantities = ["similarity * layer1 to tagger", "similarity * layer1 to genre"]

        """

    @Option(name: .shortAndLong, help: "The folder to write into.") var out = "sonde-demo"
    @Flag(help: "Print the demo's experiment file and stop.") var printExperiment = false
    @Flag(help: "Recompute every cell.") var force = false
    @OptionGroup var output: OutputOptions

    func run() throws {
        if printExperiment { return print(Self.experiment, terminator: "") }
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        try AtomicFile.write(to: out + "/experiment.toml") { try $0.write(Array(Self.experiment.utf8)) }
        let experiment = try Experiment.read(out + "/experiment.toml")
        try runExperiment(experiment, force: force, json: output.json)
    }
}
