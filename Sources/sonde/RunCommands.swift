import ArgumentParser
import Foundation
import SondeBase
import SondeCorpus
import SondeReport
import SondeStudy

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
    let results = try withInputErrors { try merge ? runner.assemble() : runner.run() }
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
    let out = experiment.output
    try withInputErrors {
        try AtomicFile.write(to: out + "/results.json") { try $0.write(Array(try encoder.encode(results)) + [0x0A]) }
        try AtomicFile.write(to: out + "/report.html") { try $0.write(Array(StudyReport.html(results).utf8)) }
    }
    struct Summary: Encodable {
        let results: String, report: String, computed: [String], cached: [String], warnings: [String]
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
                : "computed \(runner.computed.count) cells: \(runner.computed.joined(separator: ", "))")
    }
    for p in results.properties {
        let best = p.layers.first { $0.layer == p.bestLayer }!
        print(
            "\(p.property): best layer \(p.bestLayer), dev accuracy \(f(best.accuracy)) ± \(f(best.accuracySD)), selectivity \(f(best.selectivity))")
    }
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
            the fine-tuning comparison — each cached under OUTPUT/cache by a content hash of its \
            inputs and settings: a rerun recomputes only what a changed setting touches, and an \
            interrupted run continues. `--plan` lists the cells, `--dry-run` those that would run. \
            On several machines: `--shard I/N` runs one shard's cells (level by level with --level), \
            `--merge` writes the results once every cell is in the cache; `sonde slurm` does both \
            through Slurm. `sonde demo --print-experiment` prints a complete example file.

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
        let experiment = try withInputErrors { try Experiment.read(file) }
        if check {
            let inputs = try withInputErrors { try experiment.checkInputs() }
            struct Checked: Encodable { let experiment: Experiment, inputs: [String] }
            if output.json { return try printJSON(Checked(experiment: experiment.portable, inputs: inputs)) }
            print("\(file): valid (output \(experiment.relative(experiment.output)), \(experiment.properties.count) properties); every input read:")
            return inputs.forEach { print("  " + $0) }
        }
        if verify { return try verifyCache(experiment) }
        if plan || dryRun { return try showPlan(experiment) }
        if let shard {
            let runner = makeRunner(experiment, force: force)
            try withInputErrors { try runner.run(shard: shard.index, of: shard.count, level: level) }
            if output.json { return try printJSON(["computed": runner.computed, "cached": runner.cached]) }
            return print(
                "shard \(shard.index)/\(shard.count)\(level.map { " level \($0)" } ?? ""): computed \(runner.computed.count) cells, \(runner.cached.count) cached"
            )
        }
        try runExperiment(experiment, force: force, merge: merge, json: output.json)
    }

    func verifyCache(_ experiment: Experiment) throws {
        let check = try withInputErrors { try ExperimentRunner(experiment).verifyCache() }
        if output.json {
            try printJSON(check)
        } else {
            for d in check.damaged { print("damaged  \(d.cell)  \(d.output): \(d.problem)") }
            print(
                "\(check.intact.count) cells intact, \(check.damaged.count) damaged (a run recomputes them), \(check.notComputed.count) not computed yet"
            )
        }
        if !check.damaged.isEmpty { throw ExitCode(65) }
    }

    func showPlan(_ experiment: Experiment) throws {
        let plan = try withInputErrors { try ExperimentRunner(experiment).plan() }
        let done = Set(plan.done)
        let cells = dryRun ? plan.cells.filter { !done.contains($0.id) } : plan.cells
        var shardOf: [String: Int] = [:]
        if let shards { for i in 0..<shards { for c in plan.cells(shard: i, of: shards) { shardOf[c.id] = i } } }
        let incomplete = Set(plan.cells.filter { !done.contains($0.id) }.compactMap { shardOf[$0.id] }).sorted()
        if output.json {
            struct Row: Encodable {
                let id: String, kind: String, level: Int, key: String, dependencies: [String], output: String, cached: Bool, shard: Int?
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
            runs it: a small LSTM language model with checkpoints over training, a POS tagger and a copy \
            fine-tuned on the topic (genre: each document's topic); probes for part of speech, number and topic on every layer; \
            ablation; similarity over training, to the tagger and before/after fine-tuning. A few \
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

        """

    @Option(name: .shortAndLong, help: "The folder to write into.") var out = "sonde-demo"
    @Flag(help: "Print the demo's experiment file and stop.") var printExperiment = false
    @Flag(help: "Recompute every cell.") var force = false
    @OptionGroup var output: OutputOptions

    func run() throws {
        if printExperiment { return print(Self.experiment, terminator: "") }
        try withInputErrors {
            try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
            try AtomicFile.write(to: out + "/experiment.toml") { try $0.write(Array(Self.experiment.utf8)) }
        }
        let experiment = try withInputErrors { try Experiment.read(out + "/experiment.toml") }
        try runExperiment(experiment, force: force, json: output.json)
    }
}

struct SlurmCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "slurm",
        abstract: "Write (and with --submit, submit) Slurm job arrays that run a study's cells in shards, then merge them.",
        discussion: """
            One job array per level of the study's plan (`sonde run FILE --plan`): task I runs \
            `sonde run FILE --shard I/N --level K`; each array starts after the previous one \
            succeeded (--dependency=afterok), and a last job merges the cache into results.json and \
            report.html. Shards write content-addressed files into OUTPUT/cache atomically, so no two \
            shards write the same file and a resubmitted shard skips what is done. The folder gets \
            level-K.sbatch, merge.sbatch, submit.sh and logs/. After a failure, \
            `sonde run FILE --plan --shards N` names the shards not complete; resubmit them alone \
            with --only. The output folder must be on a file system every node sees.

            Examples:
              sonde slurm study.toml --out jobs --array 8 --partition cpu --time 2:00:00 --cpus 4 --mem 16G
              sonde slurm study.toml --out jobs --array 8 --submit
              sonde slurm study.toml --out jobs --array 8 --only 3,7 --submit
            """)

    @Argument(help: "The experiment file.") var file: String
    @Option(name: .shortAndLong, help: "The folder for the job scripts and their logs.") var out: String
    @Option(help: "Shards per level (array tasks).") var array = 4
    @Option(help: "Only these shards, e.g. 3,7 (to resubmit the ones that failed).") var only: String?
    @Option(help: "Slurm partition (#SBATCH --partition).") var partition: String?
    @Option(help: "Time limit per task (#SBATCH --time), e.g. 1:00:00.") var time: String?
    @Option(help: "CPUs per task (#SBATCH --cpus-per-task).") var cpus: Int?
    @Option(help: "Memory per task (#SBATCH --mem), e.g. 8G.") var mem: String?
    @Flag(help: "Submit through sbatch (else only write the scripts).") var submit = false
    @OptionGroup var output: OutputOptions

    func validate() throws {
        if array < 1 { throw ValidationError("--array must be at least 1") }
        if let cpus, cpus < 1 { throw ValidationError("--cpus must be at least 1") }
        for value in [partition, time, mem].compactMap({ $0 }) where value.contains(where: { $0.isWhitespace || $0 == "'" }) {
            throw ValidationError("'\(value)': Slurm values cannot hold spaces or quotes")
        }
        if out.contains(where: \.isWhitespace) { throw ValidationError("--out: #SBATCH lines cannot quote a folder with spaces; choose another") }
    }

    struct Report: Encodable {
        let folder: String
        let shards: Int
        let levels: [SlurmJobs.Level]
        let scripts: [String]
        /// "level K" / "merge" → job id, when submitted.
        let jobs: [String: String]?
    }

    func run() throws {
        let experiment = try withInputErrors { try Experiment.read(file) }
        let shards = try only.map { text in
            try text.split(separator: ",").map { item -> Int in
                guard let i = Int(item), (0..<array).contains(i) else { throw ValidationError("--only: '\(item)' is not a shard of 0…\(array - 1)") }
                return i
            }
        }
        let plan = try withInputErrors { try ExperimentRunner(experiment).plan() }
        let folder = URL(fileURLWithPath: out).standardizedFileURL.path
        let sonde = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        let jobs = SlurmJobs(
            plan: plan, shards: array, only: shards, sonde: URL(fileURLWithPath: sonde).standardizedFileURL.path,
            experiment: URL(fileURLWithPath: file).standardizedFileURL.path, folder: folder,
            resources: .init(partition: partition, time: time, cpus: cpus, memory: mem))
        try withInputErrors {
            try FileManager.default.createDirectory(atPath: folder + "/logs", withIntermediateDirectories: true)
            for (name, text) in jobs.files.sorted(by: { $0.key < $1.key }) {
                try AtomicFile.write(to: folder + "/" + name) { try $0.write(Array(text.utf8)) }
            }
        }
        var submitted: [String: String]?
        if submit {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/bin/bash")
            process.arguments = [folder + "/submit.sh"]
            let pipe = Pipe(), errors = Pipe()
            (process.standardOutput, process.standardError) = (pipe, errors)
            try process.run()
            let text = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            guard process.terminationStatus == 0 else {
                writeMessage(
                    "sonde: sbatch failed (\(message.trimmingCharacters(in: .whitespacesAndNewlines))); is this a Slurm submit host? The scripts are in \(folder): submit them with bash \(folder)/submit.sh\n"
                )
                throw ExitCode(69)
            }
            submitted = Dictionary(
                text.split(separator: "\n").compactMap { line in
                    let parts = line.split(separator: " ")
                    return parts.count >= 2 ? (parts.dropLast().joined(separator: " "), String(parts.last!)) : nil
                }, uniquingKeysWith: { a, _ in a })
        }
        let report = Report(folder: folder, shards: array, levels: jobs.levels, scripts: jobs.files.keys.sorted(), jobs: submitted)
        if output.json { return try printJSON(report) }
        for l in jobs.levels {
            print(
                "level \(l.level): \(l.cells) cells in shards \(l.shards.map(String.init).joined(separator: ","))\(submitted?["level \(l.level)"].map { " — job \($0)" } ?? "")"
            )
        }
        if let submitted {
            print("merge job \(submitted["merge"] ?? "?"): results in \(experiment.output)/results.json; logs in \(folder)/logs")
        } else {
            print("wrote \(folder)/submit.sh and \(jobs.files.count - 1) job scripts; submit with: bash \(folder)/submit.sh (or rerun with --submit)")
        }
    }
}
