import ArgumentParser
import Foundation
import SondeBase
import SondeCorpus
import SondeModels
import SondeStudy

struct SyntheticCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "synthetic",
        abstract: "Saphra & Lopez's synthetic language of long-range rules around familiar and unfamiliar conduits.",
        discussion: """
            "LSTMs Compose (and Learn) Bottom-Up" (Findings of EMNLP 2020): sequences of random \
            symbols, each with one rule ⟨r c r⟩ — an open symbol, a conduit c (a fixed sequence of \
            symbols) and the close the open symbol determines. Half the conduits also occur on their \
            own elsewhere in training (familiar); the paper finds the rules around them learned \
            earlier. `make` writes the data; train an LSTM on it (`sonde lm train --corpus \
            DIR/train.txt`); `score` says, per checkpoint, how often the right close is ranked first \
            after ⟨r c on held-out instances, familiar and unfamiliar apart.

            Examples:
              sonde synthetic make --out conduits
              sonde lm train --corpus conduits/train.txt --out lm --hidden 128 --steps 2000 --checkpoints 0,100,200,400,800,1600,2000
              sonde synthetic score lm/step-* --data conduits
            """,
        subcommands: [Make.self, Score.self])

    struct Make: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write train.txt and dev.txt (one sequence per line) and probes.tsv (prefix, close, familiar).")
        @Option(name: .shortAndLong, help: "The folder to write into.") var out: String
        @Option(help: "Filler symbols.") var fillers = 1_000
        @Option(help: "Rules (open/close pairs).") var rules = 10
        @Option(help: "Conduits, half of them familiar.") var conduits = 100
        @Option(help: "Symbols in a conduit.") var conduitLength = 5
        @Option(help: "How often each familiar conduit occurs on its own in training.") var repeats = 10
        @Option(help: "Symbols in a sequence.") var sequenceLength = 35
        @Option(help: "Training sequences with a rule.") var sequences = 20_000
        @Option(help: "Held-out instances per conduit.") var probes = 5
        @Option(help: "The seed.") var seed: UInt64 = 2020
        @OptionGroup var output: OutputOptions

        func validate() throws {
            for (name, value, range) in [
                ("fillers", fillers, 2...1_000_000), ("rules", rules, 2...10_000), ("conduits", conduits, 2...100_000),
                ("conduit-length", conduitLength, 1...1_000), ("repeats", repeats, 0...100_000), ("sequence-length", sequenceLength, 3...10_000),
                ("sequences", sequences, 1...10_000_000), ("probes", probes, 1...100_000),
            ] where !range.contains(value) {
                throw ValidationError("--\(name) must be in \(range.lowerBound)…\(range.upperBound)")
            }
        }

        func run() throws {
            var settings = ConduitLanguage.Settings()
            (settings.fillers, settings.rules, settings.conduits, settings.conduitLength) = (fillers, rules, conduits, conduitLength)
            (settings.repeats, settings.sequenceLength, settings.trainSequences, settings.testPerConduit, settings.seed) = (
                repeats, sequenceLength, sequences, probes, seed
            )
            let language = ConduitLanguage(settings)
            try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
            for (name, lines) in [("train.txt", language.train), ("dev.txt", language.dev)] {
                try AtomicFile.write(to: out + "/" + name) { w in
                    for line in lines { try w.write(Array((line.joined(separator: " ") + "\n").utf8)) }
                }
            }
            try AtomicFile.write(to: out + "/probes.tsv") { w in
                for p in language.tests {
                    try w.write(Array("\(p.prefix.joined(separator: " "))\t\(p.close)\t\(p.familiar ? "familiar" : "unfamiliar")\n".utf8))
                }
            }
            if output.json {
                return try printJSON(["folder": out, "train": String(language.train.count), "probes": String(language.tests.count)])
            }
            print("wrote \(out)/train.txt (\(language.train.count) sequences), dev.txt, probes.tsv (\(language.tests.count) held-out rules)")
        }
    }

    struct Score: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Per checkpoint: the share of held-out rules whose close is ranked first, familiar and unfamiliar.")
        @Argument(help: "Checkpoint folders (oldest first).") var checkpoints: [String]
        @Option(help: "The folder `make` wrote.") var data: String
        @OptionGroup var output: OutputOptions

        func run() throws {
            let probes = try ConduitProbes.read(data + "/probes.tsv")
            let closes = Array(Set(probes.map(\.close))).sorted()
            var scores: [ConduitScore] = []
            for folder in checkpoints {
                let model = try LSTMModel(folder: folder)
                scores.append(
                    try ConduitScore.score(model, name: (folder as NSString).lastPathComponent, probes: probes, closes: closes))
            }
            if output.json { return try printJSON(["checkpoints": scores]) }
            var rows = [["checkpoint", "familiar", "unfamiliar", "ln p familiar", "ln p unfamiliar"]]
            for s in scores {
                rows.append([s.model, f(s.familiarAccuracy), f(s.unfamiliarAccuracy), f(s.familiarLogProbability), f(s.unfamiliarLogProbability)])
            }
            formatTable(rows).forEach { print($0) }
            if let s = scores.first { print("chance: \(f(s.chance)) (\(closes.count) closes)") }
        }
    }
}
