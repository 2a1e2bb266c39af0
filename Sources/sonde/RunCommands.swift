import ArgumentParser
import Foundation
import SondeBase
import SondeCorpus
import SondeReport
import SondeStudy

/// Runs an experiment and writes results.json and report.html into its output folder.
func runExperiment(_ experiment: Experiment, force: Bool, json: Bool) throws {
    let runner = ExperimentRunner(experiment)
    runner.force = force
    var bars: [String: Progress] = [:]
    runner.progress = { stage, done, total in
        let bar = bars[stage] ?? Progress(what: stage)
        bars[stage] = bar
        bar.update(done, total)
    }
    runner.log = {
        writeMessage(
            ISO8601DateFormatter.string(from: Date(), timeZone: .current, formatOptions: [.withTime, .withColonSeparatorInTime]) + " " + $0 + "\n")
    }
    let results = try withInputErrors { try runner.run() }
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
    let out = experiment.output
    try withInputErrors {
        try AtomicFile.write(to: out + "/results.json") { try $0.write(Array(try encoder.encode(results)) + [0x0A]) }
        try AtomicFile.write(to: out + "/report.html") { try $0.write(Array(StudyReport.html(results).utf8)) }
    }
    if json { return try printJSON(["results": out + "/results.json", "report": out + "/report.html", "computed": "\(results.computed.count)"]) }
    print(results.computed.isEmpty ? "nothing recomputed: every stage came from the cache" : "computed: \(results.computed.joined(separator: ", "))")
    for p in results.properties {
        let best = p.layers.first { $0.layer == p.bestLayer }!
        print(
            "\(p.property): best layer \(p.bestLayer), dev accuracy \(f(best.accuracy)) ± \(f(best.accuracySD)), selectivity \(f(best.selectivity))")
    }
    results.warnings.forEach { print("warning: " + $0) }
    print("wrote \(out)/results.json and \(out)/report.html")
}

struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a whole study from an experiment file (TOML): train, extract, probe, ablate, compare; results.json and report.html.",
        discussion: """
            Each stage is cached under OUTPUT/cache by a content hash of its inputs and settings: a \
            rerun recomputes only what a changed setting touches, and an interrupted run continues. \
            `sonde demo --print-experiment` prints a complete example.
            """)

    @Argument(help: "The experiment file.") var file: String
    @Flag(help: "Check the file and stop.") var check = false
    @Flag(help: "Recompute every stage.") var force = false
    @OptionGroup var output: OutputOptions

    func run() throws {
        let experiment = try withInputErrors { try Experiment.read(file) }
        if check {
            if output.json { return try printJSON(experiment) }
            return print("\(file): valid (output \(experiment.output), \(experiment.properties.count) properties)")
        }
        try runExperiment(experiment, force: force, json: output.json)
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
        # The bundled Sonde study (sonde demo). Paths are relative to this file's folder.
        output = "."

        [corpus]
        paths = ["corpus/default.conllu"]

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
    @Flag(help: "Recompute every stage.") var force = false
    @OptionGroup var output: OutputOptions

    func run() throws {
        if printExperiment { return print(Self.experiment, terminator: "") }
        let corpus = out + "/corpus/default.conllu"
        try withInputErrors {
            try FileManager.default.createDirectory(atPath: out + "/corpus", withIntermediateDirectories: true)
            if !FileManager.default.fileExists(atPath: corpus) {
                var generator = TreebankGenerator(seed: TreebankGenerator.defaultSeed)
                try ConlluWriter.write(generator.corpus(sentences: TreebankGenerator.defaultSentences), to: corpus)
            }
            try AtomicFile.write(to: out + "/experiment.toml") { try $0.write(Array(Self.experiment.utf8)) }
        }
        let experiment = try withInputErrors { try Experiment.read(out + "/experiment.toml") }
        try runExperiment(experiment, force: force, json: output.json)
    }
}
