import Foundation
import SondeCorpus
import SondeModels
import SondeStudy

extension Experiment {
    /// `[taskspace]`: linguistic task spaces (Weber et al. 2024: transfer between phenomena by
    /// FTGD, and the overlap of their gradient differentials) of the native language model at its
    /// checkpoints, and of the same model trained at other hidden sizes. The comparisons of
    /// `sonde taskspace` (dense, LM tuning, random mask, swapped) are left to that command: over
    /// a series of checkpoints they would cost four times the spaces.
    public struct TaskSpaceSettings: Codable, Sendable, Equatable {
        /// Minimal pairs: a pairs TSV or folder (`sonde pairs make`), or BLiMP .jsonl files.
        public var pairs: String
        /// The tasks used, by name (nil: every task of `pairs`).
        public var tasks: [String]? = nil
        /// At most this many pairs of each task, split (seeded) into train and test halves.
        public var limit = 100
        /// The checkpoints whose spaces are built (nil: all of the language model's).
        public var steps: [Int]? = nil
        /// Further hidden sizes: the language model trained again at each (all else as `[lstm]`),
        /// and its last checkpoint's space.
        public var sizes: [Int] = []
        public var seeds = 3
        /// The share of parameters FTGD updates, by |Δg|.
        public var mask = 0.01
        public var learningRate = 1e-3
        /// Passes over each task's train pairs.
        public var epochs = 1

        public init(pairs: String) { self.pairs = pairs }

        /// The settings of `TaskSpace.run`.
        var study: TaskSpace.Settings {
            var s = TaskSpace.Settings()
            (s.tuning.mask, s.tuning.learningRate, s.tuning.epochs) = (mask, learningRate, epochs)
            (s.seeds, s.nulls) = (seeds, false)
            return s
        }

        /// What one space's cell depends on besides its model and the chosen tasks' pairs: the
        /// tuning settings — not the pairs' path (a moved study finds its cells), nor which tasks,
        /// checkpoints or sizes the study asks for (a step or a size added computes only its own).
        var key: String {
            get throws {
                var s = self
                (s.pairs, s.tasks, s.limit, s.steps, s.sizes) = ("", nil, 0, nil, [])
                return try CellKey.json(s)
            }
        }

        /// The chosen tasks, each cut to `limit` pairs; an unknown task is an error naming the others.
        func chosenTasks() throws -> [PairTask] {
            var all = try MinimalPairs.read(pairs)
            if let tasks {
                all = try tasks.map { name in
                    guard let task = all.first(where: { $0.id == name }) else {
                        throw StudyError("[taskspace] tasks: no task '\(name)' in \(pairs); it has \(all.map(\.id).joined(separator: ", "))")
                    }
                    return task
                }
            }
            return all.map { PairTask(id: $0.id, group: $0.group, pairs: Array($0.pairs.prefix(limit))) }
        }
    }

    /// Reads `[taskspace]` (nil when absent), checked against the language model's settings.
    static func readTaskSpace(_ file: ExperimentFile, lstm: LSTMTrainingSettings, resolve: (String) -> String) throws -> TaskSpaceSettings? {
        guard let t = try file.table("taskspace") else { return nil }
        let name = "taskspace"
        guard let value = t["pairs"] else {
            throw file.fail(name, "pairs", "missing: minimal pairs (a BLiMP folder or .jsonl file, or a pairs TSV from `sonde pairs make`)")
        }
        guard let pairs = value.string, !pairs.isEmpty else { throw file.fail(name, "pairs", "expected a path") }
        var s = TaskSpaceSettings(pairs: resolve(pairs))
        if let tasks = try file.strings(t, name, "tasks") {
            guard tasks.count >= 2 else { throw file.fail(name, "tasks", "a task space needs at least two tasks") }
            if let twice = tasks.first(where: { n in tasks.filter { $0 == n }.count > 1 }) {
                throw file.fail(name, "tasks", "'\(twice)' is listed twice")
            }
            s.tasks = tasks
        }
        s.limit = try file.int(t, name, "limit", 2...1_000_000) ?? s.limit
        if let steps = try file.ints(t, name, "steps") {
            if let missing = steps.first(where: { !lstm.checkpointSteps.contains($0) }) {
                throw file.fail(
                    name, "steps",
                    "no checkpoint at step \(missing); the language model's are \(lstm.checkpointSteps.map(String.init).joined(separator: ", "))")
            }
            s.steps = Array(Set(steps)).sorted()
        }
        if let sizes = try file.ints(t, name, "sizes") {
            if let bad = sizes.first(where: { $0 < 1 || $0 > 4096 || $0 == lstm.hidden }) {
                throw file.fail(name, "sizes", "\(bad): expected hidden sizes in 1…4096 other than [lstm] hidden (\(lstm.hidden))")
            }
            s.sizes = Array(Set(sizes)).sorted()
        }
        s.seeds = try file.int(t, name, "seeds", 1...100) ?? s.seeds
        s.mask = try file.number(t, name, "mask", { $0 > 0 && $0 <= 1 }, "a share in (0, 1]") ?? s.mask
        s.learningRate = try file.number(t, name, "learning_rate", { $0 > 0 }, "a positive number") ?? s.learningRate
        s.epochs = try file.int(t, name, "epochs", 1...1000) ?? s.epochs
        return s
    }
}
