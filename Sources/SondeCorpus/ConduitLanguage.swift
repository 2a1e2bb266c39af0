import SondeBase

/// The synthetic language of Saphra & Lopez, "LSTMs Compose (and Learn) Bottom-Up" (Findings of
/// EMNLP 2020), as we read their generator (`nsaphra/acd`, `synthetic_range_data.py`: "long
/// distant rules … surrounding an inner conduit which may or may not appear a number of times
/// elsewhere in the corpus"): sequences of random filler symbols, each holding one long-range
/// rule `⟨r c r⟩` — an open symbol, a conduit c (a fixed sequence of filler symbols) and the
/// close symbol that the open one determines. Half the conduits are *familiar*: they also occur
/// on their own, without brackets, elsewhere in training; the others occur only inside rules.
/// A model has learned the rule when, after `⟨r c`, it predicts `r⟩` rather than another rule's
/// close; the paper's finding is that rules around familiar conduits are learned earlier.
public struct ConduitLanguage: Sendable {
    public struct Settings: Codable, Sendable, Equatable {
        public var fillers = 1_000
        public var rules = 10
        /// Conduits in all, half of them familiar.
        public var conduits = 100
        public var conduitLength = 5
        /// How often each familiar conduit occurs on its own in training.
        public var repeats = 10
        public var sequenceLength = 35
        public var trainSequences = 20_000
        /// Held-out rule instances per conduit, in new filler.
        public var testPerConduit = 5
        public var seed: UInt64 = 2020
        public init() {}
    }

    /// A held-out rule instance: the sequence up to the close, the close it needs, and whether
    /// its conduit is familiar.
    public struct Probe: Sendable, Equatable {
        public var prefix: [String]
        public var close: String
        public var familiar: Bool
    }

    public let settings: Settings
    public let train: [[String]]
    public let dev: [[String]]
    public let tests: [Probe]
    /// Every rule's close symbol, the candidates a prediction is chosen among.
    public let closes: [String]

    public static func open(_ r: Int) -> String { "<\(r)" }
    public static func close(_ r: Int) -> String { "\(r)>" }

    public init(_ settings: Settings) {
        self.settings = settings
        var g = SplitMix64(seed: settings.seed)
        func pick(_ n: Int) -> Int { Int(g.unit() * Double(n)) % n }
        func filler() -> String { "f\(pick(settings.fillers))" }
        let conduits = (0..<settings.conduits).map { _ in (0..<settings.conduitLength).map { _ in filler() } }
        let familiar = settings.conduits / 2  // conduits 0..<familiar are familiar
        /// A sequence of filler with `insert` placed at a random position.
        func sequence(_ insert: [String]) -> [String] {
            let length = max(settings.sequenceLength, insert.count)
            var s = (0..<(length - insert.count)).map { _ in filler() }
            s.insert(contentsOf: insert, at: pick(s.count + 1))
            return s
        }
        func rule(_ c: Int) -> [String] {
            let r = pick(settings.rules)
            return [Self.open(r)] + conduits[c] + [Self.close(r)]
        }
        var train = (0..<settings.trainSequences).map { i in sequence(rule(i % settings.conduits)) }
        for c in 0..<familiar { for _ in 0..<settings.repeats { train.append(sequence(conduits[c])) } }
        // Shuffled so that the familiar conduits' own sequences are spread over training.
        train = g.shuffled(train)
        self.train = train
        dev = (0..<max(1, settings.trainSequences / 20)).map { i in sequence(rule(i % settings.conduits)) }
        var tests: [Probe] = []
        for c in 0..<settings.conduits {
            for _ in 0..<settings.testPerConduit {
                let full = sequence(rule(c))
                let end = full.firstIndex { $0.hasSuffix(">") }!
                tests.append(Probe(prefix: Array(full[..<end]), close: full[end], familiar: c < familiar))
            }
        }
        self.tests = tests
        closes = (0..<settings.rules).map(Self.close)
    }
}

/// `probes.tsv` as `sonde synthetic make` writes it: per line the prefix (space-separated
/// symbols), the close it needs and `familiar` or `unfamiliar`, tab-separated.
public enum ConduitProbes {
    public static func read(_ path: String) throws -> [ConduitLanguage.Probe] {
        let file = try TextFile(path: path)
        var probes: [ConduitLanguage.Probe] = []
        try file.forEachLine { number, range in
            let fields = file.string(range).split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            guard fields.count == 3, ["familiar", "unfamiliar"].contains(fields[2]), !fields[1].isEmpty else {
                throw CorpusError(path, line: number, "expected prefix<TAB>close<TAB>familiar|unfamiliar")
            }
            let prefix = fields[0].split(separator: " ").map(String.init)
            guard !prefix.isEmpty else { throw CorpusError(path, line: number, "empty prefix") }
            probes.append(.init(prefix: prefix, close: fields[1], familiar: fields[2] == "familiar"))
        }
        guard !probes.isEmpty else { throw CorpusError(path, line: 1, "no probes") }
        return probes
    }
}
