import ArgumentParser
import Foundation
import SondeBase
import SondeCorpus
import SondeModels
import SondeReport
import SondeSimilarity
import SondeStudy

extension PairTuningSettings.Objective: ExpressibleByArgument {}

struct TaskSpaceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "taskspace",
        abstract: "Linguistic task spaces of a native LSTM: transfer between phenomena by FTGD, and their gradient overlap.",
        discussion: """
            After Weber, Jumelet, Bruni & Hupkes (2024); their settings are not published, so these \
            are documented choices. Each task's pairs are split (seeded) into train and test. The \
            gradient space: the cosine of the tasks' gradient differentials Δg = Σ ∇θ[ln p(good) − \
            ln p(bad)] over their train pairs and the Jaccard overlap of their top --mask share of \
            |Δg|. The transfer space: for each task a copy is tuned on its train pairs (FTGD: only \
            the masked parameters move, along Δg; --objective margin or logistic) and every task's \
            test margin is measured again; T[a,b] = mean margin after − before (and accuracy), mean \
            and SD over --seeds, kept asymmetric, and normalised by self-transfer. Both are compared \
            with a hypothesis (same group = related, or a TSV of task, task, 1) by Pearson, Spearman \
            and a Mantel permutation test. Comparisons per task: dense FTGD, plain LM tuning on the \
            good sentences, a random mask of the same size, and good/bad swapped at random, each \
            with its self-transfer and (with --dev) dev perplexity. Writes OUT/taskspace.json and \
            OUT/report.html (heatmaps ordered by group). `taskspace dynamics` follows the same \
            over checkpoints or model sizes.
            """,
        subcommands: [Build.self, Dynamics.self], defaultSubcommand: Build.self)

}

/// The options `taskspace` and `taskspace dynamics` share: pairs, tuning and output.
struct TaskSpaceOptions: ParsableArguments {
    @Option(help: "Minimal pairs: a pairs TSV or folder (sonde pairs make), or BLiMP .jsonl files.")
    var pairs: String
    @Option(help: "Tasks to use, comma-separated (default: all).")
    var tasks: String?
    @Option(help: "Use at most this many pairs of each task.")
    var limit: Int?
    @Option(help: "transfer, gradient, or both (comma-separated).")
    var method = "transfer,gradient"
    @Option(help: "The share of parameters FTGD updates, by |Δg| (1 = dense).")
    var mask = 0.01
    @Flag(help: "The mask share per tensor instead of over all parameters.")
    var perTensor = false
    @Flag(help: "Recompute the mask from each mini-batch's Δg.")
    var remask = false
    @Option(help: "margin (ascend Σ m), logistic (ascend Σ ln σ(m)) or lm (LM tuning on the good sentences).")
    var objective: PairTuningSettings.Objective = .margin
    @Option(help: "adam or sgd.")
    var optimizer: LSTMTrainingSettings.Optimizer = .adam
    @Option(help: "The learning rate.")
    var lr = 1e-3
    @Option(help: "Passes over each task's train pairs.")
    var epochs = 1
    @Option(help: "Pairs per update.")
    var batchSize = 16
    @Option(help: "Tuning seeds per task (T is their mean ± SD).")
    var seeds = 3
    @Option(help: "The first tuning seed (seed k of --seeds is this + k; each orders the pairs).")
    var seed: UInt64 = 1
    @Option(help: "The share of each task's pairs held out for testing.")
    var testShare = 0.5
    @Option(help: "The seed of the train/test split.")
    var splitSeed: UInt64 = 1
    @Flag(help: "Leave out the comparisons (dense, lm, random mask, swapped).")
    var noNulls = false
    @Option(help: "groups (same group = related) or a TSV of task, task, value.")
    var hypothesis = "groups"
    @Option(help: "A treebank for dev perplexity before and after tuning.")
    var dev: String?
    @Option(help: "Sentences of --dev to use.")
    var devLimit = 500
    @Option(name: .shortAndLong, help: "The folder to write taskspace.json and report.html into.")
    var out: String
    var methods: [String] { method.split(separator: ",").map(String.init) }

    func validate() throws {
        if let bad = methods.first(where: { $0 != "transfer" && $0 != "gradient" }) {
            throw ValidationError("unknown --method '\(bad)'; use transfer, gradient")
        }
        try requireNumber("mask", mask, "in (0, 1]") { $0 > 0 && $0 <= 1 }
        try requireNumber("lr", lr, "positive") { $0 > 0 }
        try requireNumber("test-share", testShare, "in (0, 1)") { $0 > 0 && $0 < 1 }
        guard epochs >= 1, batchSize >= 1, seeds >= 1, devLimit >= 1 else {
            throw ValidationError("--epochs, --batch-size, --seeds and --dev-limit must be positive")
        }
        if let limit, limit < 2 { throw ValidationError("--limit must be at least 2 (a train and a test pair)") }
    }

    /// The tasks chosen, each cut to --limit pairs.
    func chosenTasks() throws -> [PairTask] {
        var all = try MinimalPairs.read(pairs)
        if let tasks {
            let wanted = tasks.split(separator: ",").map(String.init)
            if let missing = wanted.first(where: { w in !all.contains { $0.id == w } }) {
                throw ValidationError("no task '\(missing)' in \(pairs); tasks: \(all.map(\.id).joined(separator: ", "))")
            }
            all = wanted.map { w in all.first { $0.id == w }! }
        }
        if let limit { all = all.map { PairTask(id: $0.id, group: $0.group, pairs: Array($0.pairs.prefix(limit))) } }
        return all
    }

    var settings: TaskSpace.Settings {
        var settings = TaskSpace.Settings()
        settings.tuning.mask = mask
        settings.tuning.perTensor = perTensor
        settings.tuning.remask = remask
        settings.tuning.objective = objective
        settings.tuning.optimizer = optimizer
        settings.tuning.learningRate = lr
        settings.tuning.epochs = epochs
        settings.tuning.batchSize = batchSize
        settings.tuning.seed = seed
        (settings.seeds, settings.testShare, settings.splitSeed) = (seeds, testShare, splitSeed)
        (settings.transfer, settings.gradient, settings.nulls) = (methods.contains("transfer"), methods.contains("gradient"), !noNulls)
        return settings
    }

    func hypothesisMatrix(_ tasks: [PairTask]) throws -> [[Double]]? {
        hypothesis == "groups" ? nil : try TaskSpace.readHypothesis(hypothesis, tasks: tasks.map(\.id))
    }

    func devSentences() throws -> [[String]]? {
        try dev.map { try readTreebank([$0], limit: devLimit).sentences.map { $0.words.map(\.form) } }
    }

    /// Writes `value` as OUT/`name` (pretty JSON) and the report.
    func write<T: Encodable>(_ value: T, _ name: String, report: String) throws -> String {
        let path = out + "/" + name
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        let data = try JSONCoding.encoder(pretty: true).encode(value)
        try AtomicFile.write(to: path) { try $0.write(Array(data) + [0x0A]) }
        try AtomicFile.write(to: out + "/report.html") { try $0.write(Array(report.utf8)) }
        return path
    }

}

extension TaskSpaceCommand {
    struct Build: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "build", abstract: "The task spaces of one sonde-lstm checkpoint (the default subcommand).")

        @Option(help: "A sonde-lstm language-model checkpoint.")
        var model: String
        @OptionGroup var options: TaskSpaceOptions
        @OptionGroup var output: OutputOptions

        func run() throws {
            let tasks = try options.chosenTasks()
            guard let lstm = try loadModel(model, tokenizer: nil) as? any PairTunableModel else {
                throw ValidationError("\(model) is not a sonde-lstm checkpoint: FTGD needs the gradient of a native LSTM")
            }
            let (matrix, dev) = (try options.hypothesisMatrix(tasks), try options.devSentences())
            let progress = Progress(what: "tunings")
            let result = try TaskSpace.run(model: lstm, tasks: tasks, settings: options.settings, hypothesis: matrix, dev: dev) {
                progress.update($0, $1)
            }
            let path = try options.write(result, "taskspace.json", report: TaskSpaceReport.html(result, model: model))
            if output.json { return try printJSON(result) }
            TaskSpaceOptions.present(result)
            print("wrote \(path) and \(options.out)/report.html")
        }
    }

    struct Dynamics: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Follow minimal pairs and task spaces over checkpoints or model sizes.",
            discussion: """
                --checkpoints A B … (oldest first) or --models S M L (smallest first). Every model \
                gets its scoring curve (accuracy and mean margin on each task's test split); when \
                all are sonde-lstm checkpoints each also gets its task spaces, and their stability: \
                the Pearson correlation of T (and of the gradient spaces) between successive models \
                and with the last. GPT-2 and GPT-NeoX series get the curves.
                """)

        @Option(parsing: .upToNextOption, help: "Checkpoint folders, oldest first.")
        var checkpoints: [String] = []
        @Option(parsing: .upToNextOption, help: "Model folders of increasing size.")
        var models: [String] = []
        @Option(help: "The tokenizer.json of transformer checkpoints, when not in their folders.")
        var tokenizer: String?
        @OptionGroup var options: TaskSpaceOptions
        @OptionGroup var output: OutputOptions

        func validate() throws {
            guard checkpoints.isEmpty != models.isEmpty else { throw ValidationError("give --checkpoints A B … or --models S M L") }
        }

        func run() throws {
            let folders = checkpoints.isEmpty ? models : checkpoints
            let tasks = try options.chosenTasks()
            let (matrix, dev) = (try options.hypothesisMatrix(tasks), try options.devSentences())
            let progress = Progress(what: "models")
            let names = folders.map { ($0 as NSString).lastPathComponent }
            let result = try TaskSpace.dynamics(
                names: names, load: { try loadModel(folders[$0], tokenizer: tokenizer) }, tasks: tasks, settings: options.settings,
                hypothesis: matrix, dev: dev
            ) { progress.update($0, $1) }
            let path = try options.write(result, "dynamics.json", report: TaskSpaceReport.html(result))
            if output.json { return try printJSON(result) }
            var rows = [["task"] + names]
            for (t, task) in result.tasks.enumerated() { rows.append([task] + result.accuracy.map { f($0[t]) }) }
            print("accuracy on the test pairs")
            formatTable(rows).forEach { print($0) }
            for (name, s) in result.stability.sorted(by: { $0.key < $1.key }) {
                print(
                    "\(name) stability: successive \(s.successive.map(f).joined(separator: " ")); to the last \(s.toLast.map(f).joined(separator: " "))"
                )
            }
            print("wrote \(path) and \(options.out)/report.html")
            for w in result.warnings { writeMessage("sonde: warning: \(w)\n") }
        }
    }
}
