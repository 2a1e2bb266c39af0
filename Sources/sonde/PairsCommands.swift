import ArgumentParser
import Foundation
import SondeBase
import SondeCorpus
import SondeModels
import SondeProbe
import SondeStudy

extension PairScoring.Variant: ExpressibleByArgument {}

struct PairsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pairs",
        abstract: "Minimal pairs (a good and a bad sentence): make them, and score a language model on them.",
        subcommands: [Make.self, Score.self])

    struct Make: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make minimal pairs from the embedded grammar or a CoNLL-U treebank (seeded) and write them as a TSV.",
            discussion: """
                --grammar tasks (group: example): \(PairGenerator.grammarTasks.map { "\($0.id) (\($0.group): \($0.example))" }.joined(separator: "; ")). \
                --conllu tasks: \(TreebankPairs.tasks.map(\.id).joined(separator: ", ")): a treebank sentence, \
                and the same with the finite present verb of its subject, or the demonstrative of a \
                noun, swapped for the same lemma's form of the other Number found in the treebank \
                (forms spelled alike in both numbers are skipped and counted). Writes OUT/pairs.tsv \
                (task, group, good, bad, prefix), which `sonde pairs score` and `sonde taskspace` \
                read like a BLiMP folder.
                """)

        @Flag(help: "From the embedded grammar's lexicon.")
        var grammar = false
        @Option(help: "From this CoNLL-U treebank (files or folders, comma-separated).")
        var conllu: String?
        @Option(help: "Tasks, comma-separated (default: all).")
        var tasks: String?
        @Option(help: "Pairs per task.")
        var n = 1000
        @Option(help: "The random seed.")
        var seed: UInt64 = 1
        @Option(name: .shortAndLong, help: "The folder to write pairs.tsv into.")
        var out: String
        @OptionGroup var output: OutputOptions

        func validate() throws {
            guard grammar != (conllu != nil) else { throw ValidationError("say where the pairs come from: --grammar or --conllu PATH") }
            guard n > 0 else { throw ValidationError("--n must be positive") }
            let known = grammar ? PairGenerator.grammarTasks.map(\.id) : TreebankPairs.tasks.map(\.id)
            if let bad = taskList.first(where: { !known.contains($0) }) {
                throw ValidationError("unknown task '\(bad)'; tasks: \(known.joined(separator: ", "))")
            }
        }

        var taskList: [String] { tasks.map { $0.split(separator: ",").map(String.init) } ?? [] }

        func run() throws {
            var skipped: [String: [String: Int]] = [:]
            let made: [PairTask]
            if let conllu {
                let treebank = try readTreebank(conllu.split(separator: ",").map(String.init), limit: nil)
                let result = try TreebankPairs.make(treebank, tasks: taskList, count: n, seed: seed)
                skipped = result.skipped
                made = result.tasks
            } else {
                made = try PairGenerator.grammar(tasks: taskList, count: n, seed: seed)
            }
            let path = out + "/pairs.tsv"
            try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
            try MinimalPairs.writeTSV(made, to: path)
            struct Made: Encodable {
                let task: String
                let group: String
                let pairs: Int
                /// Treebank sentences skipped, by reason.
                let skipped: [String: Int]?
            }
            struct Result: Encodable {
                let file: String
                let tasks: [Made]
                let warnings: [String]
            }
            let warnings = made.filter { $0.pairs.count < n }.map {
                "\($0.id) has only \($0.pairs.count) pairs (\(grammar ? "distinct ones in the grammar's lexicon" : "sentences of the treebank that have one"))"
            }
            if output.json {
                return try printJSON(
                    Result(
                        file: path, tasks: made.map { Made(task: $0.id, group: $0.group, pairs: $0.pairs.count, skipped: skipped[$0.id]) },
                        warnings: warnings))
            }
            for w in warnings { writeMessage("sonde: warning: \(w)\n") }
            for task in made {
                for (reason, count) in (skipped[task.id] ?? [:]).sorted(by: { $0.key < $1.key }) {
                    print("\(task.id): skipped \(count) sentences: \(reason)")
                }
            }
            print("wrote \(made.reduce(0) { $0 + $1.pairs.count }) pairs of \(made.count) tasks to \(path)")
        }
    }

    struct Score: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Score a causal language model on minimal pairs: accuracy and mean margin per task.",
            discussion: """
                The margin of a pair is ln p(good) − ln p(bad); a pair is right when it is positive. \
                Models: sonde-lstm checkpoints (words split as a UD treebank would; a sentence is \
                `<s> w₁ … wₙ` predicting `w₁ … wₙ </s>`; pairs whose differing words are unknown to \
                the model are left out and counted), GPT-2 and GPT-NeoX (the text's tokens after \
                `<|endoftext|>`). --variant sum (whole sentences), mean (per token) or critical (the \
                differing span given the shared prefix). Pairs: a BLiMP .jsonl file or folder, or a \
                TSV from `sonde pairs make`. Per task: pairs scored, coverage, accuracy, mean margin \
                with a 95% bootstrap interval; per group the means. With --erase (an eraser from `sonde \
                erase fit` on --erase-layer's activations) the pairs are scored again with the concept \
                erased inside the model and with random erasers of its rank (amnesic probing): a task \
                that needs the concept loses accuracy beyond the random erasures'.
                """)

        @Option(help: "The model folder (a sonde-lstm checkpoint or a causal transformer: GPT-2, GPT-NeoX, Llama, Mistral, Qwen, OLMo-2, Gemma-2).")
        var model: String
        @Option(help: "The tokenizer.json, when not in the model folder.")
        var tokenizer: String?
        @Option(help: "Minimal pairs: a BLiMP .jsonl file or folder, or a pairs TSV (or a folder holding pairs.tsv).")
        var pairs: String
        @Option(help: "sum, mean or critical.")
        var variant: PairScoring.Variant = .sum
        @Flag(help: "Compare only the span where the sentences differ, given their shared prefix (= --variant critical).")
        var prefix = false
        @Option(help: "Score only the first N pairs of each task.")
        var limit: Int?
        @Option(help: "An eraser saved by `sonde erase fit` on activations of --erase-layer.") var erase: String?
        @Option(help: "The layer the eraser acts on (0 = embeddings).") var eraseLayer: Int?
        @Option(help: "Random erasers of the same rank scored as the control.") var eraseControls: Int = 3
        @OptionGroup var output: OutputOptions

        func validate() throws {
            if let limit, limit < 1 { throw ValidationError("--limit must be positive") }
            if (erase == nil) != (eraseLayer == nil) { throw ValidationError("--erase and --erase-layer go together") }
            guard (0...100).contains(eraseControls) else { throw ValidationError("--erase-controls must be in 0…100") }
        }

        /// The pairs with the concept erased inside the model, and with random erasers of its rank.
        struct Erasure: Encodable {
            let eraser: String
            let layer: Int
            let method: ConceptEraser.Method
            let rank: Int
            let accuracy: Double
            /// Per task: accuracy and mean margin with the erasure.
            let tasks: [PairScoring.TaskScore]
            /// Each random eraser's overall accuracy, and their mean and SD.
            let controlAccuracies: [Double]
            let controlAccuracy: Double?
            let controlAccuracySD: Double?
        }

        func erasure(_ lm: any LanguageModel, _ tasks: [PairTask], _ variant: PairScoring.Variant) throws -> Erasure? {
            guard let erase, let layer = eraseLayer else { return nil }
            let eraser = try loadEraser(erase, layer: layer, for: lm)
            func overall(_ e: ConceptEraser, _ what: String) throws -> [PairScoring.TaskScore] {
                let progress = Progress(what: "pairs (\(what))")
                return try PairScoring.score(lm, tasks: tasks, variant: variant, ablations: [NeuronAblation(layer: layer, eraser: e)]) {
                    progress.update($0, $1)
                }
            }
            let erased = try overall(eraser, "erased")
            let controls = try (0..<eraseControls).map { s in
                PairScoring.GroupScore(
                    "", try overall(ConceptEraser.random(neurons: eraser.neurons, rank: eraser.rank, mean: eraser.mean, seed: 1 &+ UInt64(s)), "random \(s + 1)")
                ).accuracy
            }
            let spread = meanAndSpread(controls)
            return Erasure(
                eraser: erase, layer: layer, method: eraser.method, rank: eraser.rank, accuracy: PairScoring.GroupScore("", erased).accuracy,
                tasks: erased, controlAccuracies: controls, controlAccuracy: controls.isEmpty ? nil : spread.mean,
                controlAccuracySD: controls.isEmpty ? nil : spread.standardDeviation ?? 0)
        }

        func run() throws {
            var tasks = try MinimalPairs.read(pairs)
            if let limit { tasks = tasks.map { PairTask(id: $0.id, group: $0.group, pairs: Array($0.pairs.prefix(limit))) } }
            let lm = try loadModel(model, tokenizer: tokenizer)
            let progress = Progress(what: "pairs")
            let variant = prefix ? .critical : variant
            let scores = try PairScoring.score(lm, tasks: tasks, variant: variant) { progress.update($0, $1) }
            var warnings: [String] = []
            let unscored = scores.filter { $0.pairs == 0 }.map(\.task)
            if !unscored.isEmpty {
                warnings.append("no pair of \(unscored.joined(separator: ", ")) could be scored (their differing words are unknown to the model)")
            }
            let low = scores.filter { $0.pairs > 0 && $0.coverage < 0.5 }.map(\.task)
            if !low.isEmpty { warnings.append("under half the pairs scored for \(low.joined(separator: ", ")): read their accuracy with care") }
            let all = PairScoring.GroupScore("", scores), groups = PairScoring.groups(scores)
            let erased = try erasure(lm, tasks, variant)
            struct Result: Encodable {
                let model: String
                let variant: PairScoring.Variant
                let pairs: Int
                let accuracy: Double
                let tasks: [PairScoring.TaskScore]
                let groups: [PairScoring.GroupScore]
                let erasure: Erasure?
                let warnings: [String]
            }
            if output.json {
                return try printJSON(
                    Result(
                        model: model, variant: variant, pairs: all.pairs, accuracy: all.accuracy, tasks: scores, groups: groups, erasure: erased,
                        warnings: warnings))
            }
            var rows = [["task", "group", "pairs", "coverage", "accuracy", "mean margin", "95% interval"]]
            for s in scores {
                rows.append([
                    s.task, s.group, String(s.pairs), String(format: "%.2f", s.coverage), f(s.accuracy), f(s.meanMargin),
                    "[\(f(s.marginLow)), \(f(s.marginHigh))]",
                ])
            }
            formatTable(rows).forEach { print($0) }
            print("")
            var groupRows = [["group", "tasks", "pairs", "accuracy", "mean margin"]]
            for g in groups { groupRows.append([g.group, String(g.tasks), String(g.pairs), f(g.accuracy), f(g.meanMargin)]) }
            formatTable(groupRows).forEach { print($0) }
            print("overall accuracy \(f(all.accuracy)) over \(all.pairs) pairs (\(variant.rawValue) margins)")
            if let erased {
                print("")
                var erasedRows = [["task", "accuracy", "erased", "change"]]
                for (plain, gone) in zip(scores, erased.tasks) {
                    erasedRows.append([plain.task, f(plain.accuracy), f(gone.accuracy), String(format: "%+.3f", gone.accuracy - plain.accuracy)])
                }
                formatTable(erasedRows).forEach { print($0) }
                let control = erased.controlAccuracy.map { "; random erasures of rank \(erased.rank): \(f($0)) ± \(f(erased.controlAccuracySD ?? 0))" } ?? ""
                print("with the \(erased.method.rawValue) eraser at layer \(erased.layer) (rank \(erased.rank)): accuracy \(f(erased.accuracy))" + control)
            }
            for w in warnings { writeMessage("sonde: warning: \(w)\n") }
        }
    }
}
