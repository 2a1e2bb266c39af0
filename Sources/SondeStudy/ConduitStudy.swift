import SondeCorpus
import SondeModels

/// Whether a language model has learned the long-range rules of `ConduitLanguage`: for each
/// held-out instance, the close it ranks first among all rules' closes after the prefix
/// (ln p(close | prefix), the word-level LSTM's prediction of the word after the prefix), on
/// familiar and unfamiliar conduits apart.
public struct ConduitScore: Codable, Sendable, Equatable {
    public var model: String
    public var familiarAccuracy: Double
    public var unfamiliarAccuracy: Double
    /// The mean ln p(the right close | prefix) on each.
    public var familiarLogProbability: Double
    public var unfamiliarLogProbability: Double
    /// Accuracy of a model that guesses a close at random.
    public var chance: Double

    public static func score(_ model: LSTMModel, name: String, probes: [ConduitLanguage.Probe], closes: [String]) throws -> ConduitScore {
        let candidates = probes.flatMap { p in closes.map { SentenceText(text: (p.prefix + [$0]).joined(separator: " "), words: p.prefix + [$0]) } }
        let scored = try model.logProbabilities(candidates)
        var hits = [true: 0, false: 0], totals = [true: 0, false: 0], logp = [true: 0.0, false: 0.0]
        for (i, probe) in probes.enumerated() {
            // The close's own log-probability: the token after the prefix.
            let values = closes.indices.map { scored[i * closes.count + $0].logProbabilities[probe.prefix.count] }
            let best = values.indices.max { values[$0] < values[$1] }!
            let right = closes.firstIndex(of: probe.close)!
            hits[probe.familiar]! += best == right ? 1 : 0
            totals[probe.familiar]! += 1
            logp[probe.familiar]! += values[right]
        }
        func share(_ familiar: Bool) -> Double { Double(hits[familiar]!) / Double(max(totals[familiar]!, 1)) }
        func mean(_ familiar: Bool) -> Double { logp[familiar]! / Double(max(totals[familiar]!, 1)) }
        return ConduitScore(
            model: name, familiarAccuracy: share(true), unfamiliarAccuracy: share(false), familiarLogProbability: mean(true),
            unfamiliarLogProbability: mean(false), chance: 1 / Double(closes.count))
    }
}
