import Foundation
import SondeBase
import SondeCorpus
import SondeModels
import SondeSimilarity

/// Linguistic task spaces of a native LSTM (Weber, Jumelet, Bruni & Hupkes 2024): how tuning on
/// one phenomenon's minimal pairs changes every other one (the transfer space), how their
/// gradient differentials overlap (the gradient space), and how both agree with a linguist's
/// grouping of the phenomena.
public enum TaskSpace {
    public struct Settings: Sendable {
        public var tuning = PairTuningSettings()
        /// Tuning seeds (each orders the pairs differently); T is their mean and SD.
        public var seeds = 3
        /// The share of each task's pairs held out for evaluation (seeded split).
        public var testShare = 0.5
        public var splitSeed: UInt64 = 1
        public var transfer = true
        public var gradient = true
        /// Run the comparisons on each task once (seed 1): dense FTGD, plain LM tuning on the
        /// good sentences, a random mask of equal size, and good/bad swapped at random.
        public var nulls = true
        public init() {}
    }

    /// A task's test split as the model scores it: accuracy and mean margin.
    public struct Evaluation: Codable, Sendable, Equatable {
        public let accuracy: Double
        public let meanMargin: Double
        public let pairs: Int

        /// `model` on `task`'s pairs (none scored: accuracy and mean margin 0, and `pairs` 0).
        init(_ model: any LanguageModel, _ task: PairTask) throws {
            let margins = try PairScoring.margins(model, task).margins
            pairs = margins.count
            (accuracy, meanMargin) = PairScoring.summary(margins)
        }
    }

    /// K × K over tasks, row = the task tuned on, column = the task evaluated.
    public struct Transfer: Codable, Sendable {
        /// eval2 − eval1 of the mean margin (nats) and the accuracy, mean and SD over seeds.
        public let margin: [[Double]]
        public let marginSD: [[Double]]
        public let accuracy: [[Double]]
        public let accuracySD: [[Double]]
        /// `margin` with each row divided by its diagonal (self-transfer); NaN when that is 0.
        public let normalised: [[Double]]
    }

    public struct Gradient: Codable, Sendable {
        /// Cosine of the tasks' Δg, and the Jaccard overlap of their masks.
        public let cosine: [[Double]]
        public let maskOverlap: [[Double]]
        /// ‖Δg‖₂ / ‖Δg‖₁ per task.
        public let concentration: [Double]
        /// Mean mask overlap of tasks in one group minus that of tasks in different groups.
        public let parameterSharing: Double
    }

    /// One variant of tuning on a task, evaluated on the task itself and on LM perplexity.
    public struct Comparison: Codable, Sendable {
        public let task: String
        public let variant: String
        public let selfTransfer: Double
        public let selfAccuracy: Double
        /// Dev perplexity after tuning (before: `Result.perplexity`), when dev sentences are given.
        public let perplexity: Double?
    }

    public struct Result: Codable, Sendable {
        public let tasks: [String]
        public let groups: [String]
        public let trainPairs: [Int]
        public let before: [Evaluation]
        public let perplexity: Double?
        public let settings: [String: String]
        public let transfer: Transfer?
        public let gradient: Gradient?
        /// Against the same-group hypothesis: of the transfer margins, the normalised ones, the
        /// gradient cosines and the mask overlaps.
        public let agreement: [String: TaskSpaceMath.Agreement]
        public let comparisons: [Comparison]
        public let warnings: [String]
    }

    typealias Pair = (good: [String], bad: [String])

    /// Cosines of the tasks' gradients, Jaccard overlap of their masks, concentration, and the
    /// mask overlap within minus between groups.
    static func gradientSpace(_ gradients: [[Float]], masks: [ParameterMask], groups: [String]) -> Gradient {
        let overlap = TaskSpaceMath.jaccard(masks.map(\.indices))
        let sharing = TaskSpaceMath.agreement(overlap, hypothesis: TaskSpaceMath.sameGroup(groups), permutations: 0).withinMinusBetween
        return Gradient(
            cosine: TaskSpaceMath.cosines(gradients), maskOverlap: overlap, concentration: gradients.map { SondeBase.concentration($0) },
            parameterSharing: sharing)
    }

    static func wordPairs(_ pairs: [MinimalPair]) -> [Pair] {
        pairs.map { (MinimalPairs.words($0.good), MinimalPairs.words($0.bad)) }
    }

    /// Builds the spaces for `tasks` from `model`. `dev`: sentences for LM perplexity before and
    /// after each comparison tuning. `progress` gets (done, total) in tunings.
    public static func run(
        model: any PairTunableModel, tasks: [PairTask], settings: Settings, hypothesis: [[Double]]? = nil, dev: [[String]]? = nil,
        progress: (Int, Int) -> Void = { _, _ in }
    ) throws -> Result {
        guard tasks.count >= 2 else { throw StudyError("a task space needs at least two tasks; \(tasks.count) given") }
        let splits = tasks.map { $0.split(testShare: settings.testShare, seed: settings.splitSeed) }
        let tests = zip(tasks, splits).map { PairTask(id: $0.id, group: $0.group, pairs: $1.test) }
        let trains = splits.map { wordPairs($0.train) }
        var warnings: [String] = []
        if let empty = trains.indices.first(where: { trains[$0].isEmpty || tests[$0].pairs.isEmpty }) {
            throw StudyError("task \(tasks[empty].id) has too few pairs to split into train and test (\(tasks[empty].pairs.count))")
        }
        func evaluate(_ m: any LanguageModel) throws -> [Evaluation] {
            try tests.map { try Evaluation(m, $0) }
        }
        let before = try evaluate(model)
        for (t, e) in zip(tasks, before) where e.pairs == 0 {
            warnings.append("no test pair of \(t.id) can be scored: its differing words are unknown")
        }
        let perplexity = try dev.map { try model.score($0).perplexity }
        let k = tasks.count
        let groups = tasks.map(\.group)
        let hypothesis = hypothesis ?? TaskSpaceMath.sameGroup(groups)
        guard hypothesis.count == k, hypothesis.allSatisfy({ $0.count == k }) else {
            throw StudyError("the hypothesis is not \(k) × \(k), one row and column per task")
        }
        if (0..<k).allSatisfy({ i in (0..<k).allSatisfy { j in i == j || hypothesis[i][j] == 0 } }) {
            warnings.append("the hypothesis relates no two tasks: agreement is undefined")
        }
        let tuningCount = (settings.transfer ? k * settings.seeds : 0) + (settings.nulls ? 4 * k : 0)
        var done = 0
        var agreement: [String: TaskSpaceMath.Agreement] = [:]

        // Masks and the gradient space from the train splits.
        let gradients = trains.map { model.marginGradient($0).gradient }
        let masks = gradients.map { g in
            settings.tuning.mask >= 1
                ? ParameterMask.all(g.count)
                : ParameterMask.top(g, share: settings.tuning.mask, perTensor: settings.tuning.perTensor ? model.parameterTensors.map(\.range) : nil)
        }
        var gradient: Gradient?
        if settings.gradient {
            let space = gradientSpace(gradients, masks: masks, groups: groups)
            gradient = space
            agreement["gradientCosine"] = TaskSpaceMath.agreement(space.cosine, hypothesis: hypothesis)
            agreement["maskOverlap"] = TaskSpaceMath.agreement(space.maskOverlap, hypothesis: hypothesis)
        }

        var transfer: Transfer?
        if settings.transfer {
            var margins = [[[Double]]](repeating: [], count: k), accuracies = margins
            for a in 0..<k {
                for seed in 0..<settings.seeds {
                    var tuning = settings.tuning
                    tuning.seed = settings.tuning.seed &+ UInt64(seed)
                    let after = try evaluate(model.tuned(on: trains[a], mask: masks[a], settings: tuning, progress: { _, _ in }))
                    margins[a].append(zip(after, before).map { $0.meanMargin - $1.meanMargin })
                    accuracies[a].append(zip(after, before).map { $0.accuracy - $1.accuracy })
                    done += 1
                    progress(done, tuningCount)
                }
            }
            func summary(_ runs: [[[Double]]]) -> (mean: [[Double]], sd: [[Double]]) {
                let cells = runs.map { seeds in (0..<k).map { b in meanAndSpread(seeds.map { $0[b] }) } }
                return (cells.map { $0.map(\.mean) }, cells.map { $0.map { $0.standardDeviation ?? 0 } })
            }
            let (m, msd) = summary(margins), (acc, accsd) = summary(accuracies)
            let normalised = m.enumerated().map { a, row in row.map { row[a] != 0 ? $0 / row[a] : .nan } }
            transfer = Transfer(margin: m, marginSD: msd, accuracy: acc, accuracySD: accsd, normalised: normalised)
            agreement["transferMargin"] = TaskSpaceMath.agreement(m, hypothesis: hypothesis)
            if normalised.allSatisfy({ $0.allSatisfy(\.isFinite) }) {
                agreement["transferNormalised"] = TaskSpaceMath.agreement(normalised, hypothesis: hypothesis)
            }
            if let a = (0..<k).first(where: { m[$0][$0] <= 0 }) {
                warnings.append(
                    "tuning on \(tasks[a].id) did not raise its own margin (self-transfer \(String(format: "%.4f", m[a][a])) nats): try more epochs or a larger rate"
                )
            }
        }

        var comparisons: [Comparison] = []
        if settings.nulls {
            for a in 0..<k {
                var dense = settings.tuning
                dense.mask = 1
                var lm = settings.tuning
                lm.objective = .languageModel
                var generator = SplitMix64(seed: settings.splitSeed &+ UInt64(a) &* 7919)
                let swapped = trains[a].map { pair in generator.below(2) == 0 ? pair : (good: pair.bad, bad: pair.good) }
                let variants: [(String, [Pair], ParameterMask, PairTuningSettings)] = [
                    ("ftgd", trains[a], masks[a], settings.tuning),
                    ("dense", trains[a], .all(model.parameterCount), dense),
                    ("lm", trains[a], masks[a], lm),
                    (
                        "random-mask", trains[a],
                        .random(count: masks[a].indices.count, parameters: model.parameterCount, seed: settings.tuning.seed &+ UInt64(a)),
                        settings.tuning
                    ),
                    ("swapped", swapped, masks[a], settings.tuning),
                ]
                for (name, pairs, mask, tuning) in variants {
                    if name == "ftgd" && transfer != nil, dev == nil {
                        comparisons.append(
                            Comparison(
                                task: tasks[a].id, variant: name, selfTransfer: transfer!.margin[a][a], selfAccuracy: transfer!.accuracy[a][a],
                                perplexity: nil))
                        continue
                    }
                    let tuned = model.tuned(on: pairs, mask: mask, settings: tuning, progress: { _, _ in })
                    let own = try Evaluation(tuned, tests[a])
                    comparisons.append(
                        Comparison(
                            task: tasks[a].id, variant: name, selfTransfer: own.meanMargin - before[a].meanMargin,
                            selfAccuracy: own.accuracy - before[a].accuracy, perplexity: try dev.map { try tuned.score($0).perplexity }))
                    if name != "ftgd" {
                        done += 1
                        progress(done, tuningCount)
                    }
                }
            }
        }
        let t = settings.tuning
        return Result(
            tasks: tasks.map(\.id), groups: groups, trainPairs: trains.map(\.count), before: before, perplexity: perplexity,
            settings: [
                "objective": t.objective.rawValue, "mask": String(t.mask), "perTensor": String(t.perTensor), "remask": String(t.remask),
                "optimizer": t.optimizer.rawValue, "learningRate": String(t.learningRate), "epochs": String(t.epochs),
                "batchSize": String(t.batchSize), "seeds": String(settings.seeds), "testShare": String(settings.testShare),
            ],
            transfer: transfer, gradient: gradient, agreement: agreement, comparisons: comparisons, warnings: warnings)
    }
}

extension TaskSpace {
    /// A phenomenon set followed over checkpoints (or across model sizes): the scoring curves of
    /// every model, and for native LSTMs the task spaces and how stable they are.
    public struct Dynamics: Codable, Sendable {
        public let models: [String]
        public let tasks: [String]
        public let groups: [String]
        /// [model][task] on the test splits: accuracy and mean margin (nats).
        public let accuracy: [[Double]]
        public let meanMargin: [[Double]]
        /// The task space of each model (all native LSTMs), else nil.
        public let spaces: [Result]?
        /// Transformers: each model's gradient space restricted to its output (unembedding)
        /// matrix — the full Δg needs backpropagation Sonde's transformers do not run.
        public let unembedding: [Gradient]?
        /// Per space ("transferMargin", "gradientCosine", "maskOverlap", or for transformers
        /// "unembeddingCosine", "unembeddingMaskOverlap"): Pearson over the
        /// off-diagonal cells between each model and the one before (models − 1 values) and
        /// between each model and the last.
        public let stability: [String: Stability]
        public let warnings: [String]
    }

    public struct Stability: Codable, Sendable, Equatable {
        public let successive: [Double]
        public let toLast: [Double]
    }

    /// `load(i)` gives model i of `names` (loaded one at a time: a series of large checkpoints
    /// need not fit in memory together). Transformers get scoring curves; when every model is a
    /// native LSTM, each also gets its task space (`settings`) and the spaces' stability.
    public static func dynamics(
        names: [String], load: (Int) throws -> any LanguageModel, tasks: [PairTask], settings: Settings, hypothesis: [[Double]]? = nil,
        dev: [[String]]? = nil, progress: (Int, Int) -> Void = { _, _ in }
    ) throws -> Dynamics {
        guard !names.isEmpty else { throw StudyError("no models to follow") }
        let splits = tasks.map { $0.split(testShare: settings.testShare, seed: settings.splitSeed) }
        let tests = zip(tasks, splits).map { PairTask(id: $0.id, group: $0.group, pairs: $1.test) }
        let trains = splits.map { $0.train.map { (good: $0.good, bad: $0.bad) } }
        var accuracy: [[Double]] = [], margin: [[Double]] = [], spaces: [Result] = [], unembedding: [Gradient] = []
        var allTunable = true
        for i in names.indices {
            let model = try load(i)
            if let tunable = model as? any PairTunableModel, allTunable {
                let space = try run(model: tunable, tasks: tasks, settings: settings, hypothesis: hypothesis, dev: dev)
                spaces.append(space)
                accuracy.append(space.before.map(\.accuracy))
                margin.append(space.before.map(\.meanMargin))
            } else {
                allTunable = false
                let scores = try tests.map { try Evaluation(model, $0) }
                accuracy.append(scores.map(\.accuracy))
                margin.append(scores.map(\.meanMargin))
                if settings.gradient, let transformer = model as? any UnembeddingGradientModel {
                    let gradients = try trains.map { try transformer.unembeddingMarginGradient($0) }
                    let masks = gradients.map { ParameterMask.top($0, share: settings.tuning.mask) }
                    unembedding.append(gradientSpace(gradients, masks: masks, groups: tasks.map(\.group)))
                }
            }
            progress(i + 1, names.count)
        }
        var warnings: [String] = []
        var stability: [String: Stability] = [:]
        if allTunable {
            stability = Self.stability(spaces)
            warnings = zip(names, spaces).flatMap { name, space in space.warnings.map { "\(name): \($0)" } }
        } else {
            if !spaces.isEmpty { warnings.append("not every model is a native LSTM: scoring curves only, no task spaces") }
            if unembedding.count == names.count {
                stability["unembeddingCosine"] = Self.stability(unembedding.map(\.cosine))
                stability["unembeddingMaskOverlap"] = Self.stability(unembedding.map(\.maskOverlap))
            }
        }
        return Dynamics(
            models: names, tasks: tasks.map(\.id), groups: tasks.map(\.group), accuracy: accuracy, meanMargin: margin,
            spaces: allTunable ? spaces : nil, unembedding: unembedding.count == names.count ? unembedding : nil, stability: stability,
            warnings: warnings)
    }

    /// The stability of a series of spaces, by name ("transferMargin", "gradientCosine",
    /// "maskOverlap"): each present in every space.
    public static func stability(_ spaces: [Result]) -> [String: Stability] {
        var out: [String: Stability] = [:]
        let transfer = spaces.compactMap { $0.transfer?.margin }, gradient = spaces.compactMap(\.gradient)
        if !spaces.isEmpty && transfer.count == spaces.count { out["transferMargin"] = stability(transfer) }
        if !spaces.isEmpty && gradient.count == spaces.count {
            out["gradientCosine"] = stability(gradient.map(\.cosine))
            out["maskOverlap"] = stability(gradient.map(\.maskOverlap))
        }
        return out
    }

    /// Pearson over the off-diagonal cells between successive matrices and with the last.
    static func stability(_ matrices: [[[Double]]]) -> Stability {
        func r(_ a: [[Double]], _ b: [[Double]]) -> Double { pearson(TaskSpaceMath.offDiagonal(a), TaskSpaceMath.offDiagonal(b)) }
        let last = matrices.last ?? []
        return Stability(successive: zip(matrices, matrices.dropFirst()).map { r($0, $1) }, toLast: matrices.map { r($0, last) })
    }
}
