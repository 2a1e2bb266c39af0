import Foundation
import SondeBase
import SondeCorpus
import SondeModels

/// Minimal pairs scored by a language model: margin m = ln p(good) − ln p(bad) per pair, and
/// per task its accuracy (m > 0) and mean margin with a bootstrap interval.
public enum PairScoring {
    /// What a pair's margin compares.
    public enum Variant: String, Codable, Sendable, CaseIterable {
        /// The whole sentences' log-probabilities (BLiMP's simple LM method).
        case sum
        /// The mean log-probability per token (not biased towards the shorter sentence).
        case mean
        /// Only the span where the two differ, given the prefix they share: tokens after the
        /// common prefix and before the common suffix (BLiMP's one-prefix method when one word
        /// differs).
        case critical
    }

    public struct TaskScore: Codable, Sendable, Equatable {
        public let task: String
        public let group: String
        /// Pairs scored, and of the task's pairs.
        public let pairs: Int
        public let total: Int
        /// Pairs left out because a word where they differ is unknown to the model (LSTMs).
        public let outOfVocabulary: Int
        /// Pairs left out because their two sentences are the same (a flaw of the set).
        public let identical: Int
        /// pairs / total.
        public let coverage: Double
        public let accuracy: Double
        /// Mean margin in nats, and its 95% bootstrap interval (1,000 resamples of the pairs).
        public let meanMargin: Double
        public let marginLow: Double
        public let marginHigh: Double
        /// The margin of each pair scored, in the task's order.
        public let margins: [Double]

        init(task: PairTask, margins: [Double], outOfVocabulary: Int, identical: Int, seed: UInt64) {
            self.task = task.id
            group = task.group
            pairs = margins.count
            total = task.pairs.count
            self.outOfVocabulary = outOfVocabulary
            self.identical = identical
            coverage = total > 0 ? Double(pairs) / Double(total) : 0
            self.margins = margins
            (accuracy, meanMargin) = PairScoring.summary(margins)
            (marginLow, marginHigh) = PairScoring.bootstrap(margins, seed: seed)
        }
    }

    /// The sentence as a model reads it (words split as a treebank would).
    static func sentence(_ text: String) -> SentenceText { SentenceText(text: text, words: MinimalPairs.words(text)) }

    /// Scores every pair of `tasks` under `model` (a sonde-lstm checkpoint or a causal transformer).
    /// `ablations` act inside the model (an erasure: amnesic probing of the pairs).
    public static func score(
        _ model: any LanguageModel, tasks: [PairTask], variant: Variant = .sum, seed: UInt64 = 2026, ablations: [NeuronAblation] = [],
        progress: (Int, Int) -> Void = { _, _ in }
    ) throws -> [TaskScore] {
        let total = tasks.reduce(0) { $0 + $1.pairs.count }
        var done = 0
        return try tasks.map { task in
            let counted = try margins(model, task, variant, ablations: ablations) { progress(done + $0, total) }
            done += task.pairs.count
            return TaskScore(task: task, margins: counted.margins, outOfVocabulary: counted.unknown, identical: counted.identical, seed: seed)
        }
    }

    /// The margins of the pairs of `task` that can be scored, and how many were left out
    /// (a differing word unknown to the model; both sentences the same). No bootstrap: what a
    /// task space evaluates dozens of times per tuned copy.
    static func margins(
        _ model: any LanguageModel, _ task: PairTask, _ variant: Variant = .sum, ablations: [NeuronAblation] = [],
        progress: (Int) -> Void = { _ in }
    ) throws -> (margins: [Double], unknown: Int, identical: Int) {
        let scored = try model.pairLogProbabilities(
            task.pairs.map { (sentence($0.good), sentence($0.bad)) }, ablations: ablations, progress: progress)
        var margins: [Double] = [], unknown = 0, identical = 0
        for (i, pair) in task.pairs.enumerated() {
            if pair.good == pair.bad { identical += 1; continue }
            guard let m = margin(scored[i].good, scored[i].bad, variant) else { unknown += 1; continue }
            margins.append(m)
        }
        return (margins, unknown, identical)
    }

    /// The share of margins above 0 and their mean (0 and 0 for none).
    static func summary(_ margins: [Double]) -> (accuracy: Double, mean: Double) {
        guard !margins.isEmpty else { return (0, 0) }
        return (Double(margins.filter { $0 > 0 }.count) / Double(margins.count), margins.reduce(0, +) / Double(margins.count))
    }

    /// The pair's margin, or nil when a token where the two differ is unknown to the model.
    static func margin(_ good: ScoredSentence, _ bad: ScoredSentence, _ variant: Variant) -> Double? {
        let (g, b) = (good.tokens, bad.tokens)
        var prefix = 0
        while prefix < min(g.count, b.count) && g[prefix] == b[prefix] { prefix += 1 }
        var suffix = 0
        while suffix < min(g.count, b.count) - prefix && g[g.count - 1 - suffix] == b[b.count - 1 - suffix] { suffix += 1 }
        let spanG = prefix..<(g.count - suffix), spanB = prefix..<(b.count - suffix)
        if spanG.contains(where: { good.unknown[$0] }) || spanB.contains(where: { bad.unknown[$0] }) { return nil }
        switch variant {
        case .sum: return good.total - bad.total
        case .mean: return good.total / Double(max(g.count, 1)) - bad.total / Double(max(b.count, 1))
        case .critical:
            return spanG.reduce(0) { $0 + good.logProbabilities[$1] } - spanB.reduce(0) { $0 + bad.logProbabilities[$1] }
        }
    }

    /// The 2.5th and 97.5th percentiles of the mean over 1,000 seeded resamples.
    static func bootstrap(_ values: [Double], seed: UInt64) -> (Double, Double) {
        guard values.count > 1 else { return (values.first ?? 0, values.first ?? 0) }
        var generator = SplitMix64(seed: seed)
        let means = (0..<1000).map { _ in (0..<values.count).reduce(0.0) { s, _ in s + values[generator.below(values.count)] } / Double(values.count)
        }
        .sorted()
        return (means[24], means[974])
    }
}
