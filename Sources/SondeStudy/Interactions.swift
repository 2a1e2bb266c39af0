import Foundation
import SondeBase
import SondeCorpus
import SondeModels

/// Word interdependence over a treebank (Saphra & Lopez 2020): every pair of words at most
/// `maxDistance` apart, its interdependence at the later word (`WordInteraction`), its linear
/// distance and its syntactic distance (the path length between the two words in the sentence's
/// dependency tree), and curves of the mean by linear distance and by syntactic distance at
/// each linear distance — whether words close in the tree interact more than their distance
/// in the string predicts. With a training corpus, pairs that span a constituent (the words
/// from the first to the second are the whole yield of one node of the tree) are also counted
/// by how often that phrase occurs in training: familiar (at least `familiarCount` times)
/// against rare (at most once) — "LSTMs compose bottom-up": familiar phrases interact early.
public struct InteractionStudy: Codable, Sendable {
    public struct Pair: Codable, Sendable {
        public var sentence: Int
        public var first: Int
        public var second: Int
        public var layer: Int
        public var linearDistance: Int
        /// nil when the sentence has no complete dependency tree.
        public var syntacticDistance: Int?
        public var interdependence: Double
        public var relativeToState: Double
        /// With a training corpus, for a pair that spans a constituent: how often its words
        /// occur in training, in that order.
        public var phraseCount: Int?
    }

    /// The mean interdependence of constituent pairs at one linear distance, familiar or rare.
    public struct PhrasePoint: Codable, Sendable, Equatable {
        public var layer: Int
        public var linearDistance: Int
        public var familiar: Bool
        public var count: Int
        public var mean: Double
        public var sd: Double?
    }

    /// A mean over the pairs of one linear distance (and one syntactic distance, in
    /// `bySyntacticDistance`): count, mean and sample SD of their interdependence.
    public struct Point: Codable, Sendable, Equatable {
        public var layer: Int
        public var linearDistance: Int
        public var syntacticDistance: Int?
        public var count: Int
        public var mean: Double
        public var sd: Double?
    }

    public var model: String
    public var sentences: Int
    public var maxDistance: Int
    public var layers: [Int]
    public var byLinearDistance: [Point]
    public var bySyntacticDistance: [Point]
    /// With a training corpus: constituent pairs whose phrase occurs at least `familiarCount`
    /// times in it (familiar) and at most once (rare).
    public var byPhraseFrequency: [PhrasePoint]?
    public var familiarCount: Int?
    /// Every pair, when asked for.
    public var interdependence: [Pair]?

    /// - Parameters:
    ///   - name: the model's name in the result (a checkpoint's folder name).
    ///   - keepPairs: put every pair into the result (large: about `maxDistance` per word).
    ///   - training: the corpus the model was trained on, for phrase frequencies.
    public static func run(
        _ model: LSTMModel, name: String, corpus: Corpus, maxDistance: Int, layers: [Int], keepPairs: Bool, training: Corpus? = nil,
        familiarCount: Int = 10, progress: (Int, Int) -> Void = { _, _ in }
    ) -> InteractionStudy {
        var pairs: [Pair] = []
        // In groups of sentences, for progress; each group runs as batched decompositions.
        var found: [[WordInteraction]] = []
        for start in stride(from: 0, to: corpus.sentences.count, by: 256) {
            let group = corpus.sentences[start..<min(corpus.sentences.count, start + 256)].map { $0.words.map(\.form) }
            found += model.interdependence(group, maxDistance: maxDistance, layers: layers)
            progress(found.count, corpus.sentences.count)
        }
        // The constituent phrases of the pairs, then their counts in training.
        let constituents = corpus.sentences.map { $0.constituentSpans() }
        var counts: [String: Int] = [:]
        if let training {
            for (s, sentence) in corpus.sentences.enumerated() {
                for w in found[s] where constituents[s].contains([w.first, w.second]) {
                    counts[sentence.words[w.first...w.second].map(\.form).joined(separator: " ")] = 0
                }
            }
            for sentence in training.sentences {
                let forms = sentence.words.map(\.form)
                for i in forms.indices {
                    for j in (i + 1)..<min(forms.count, i + maxDistance + 1) {
                        let phrase = forms[i...j].joined(separator: " ")
                        if counts[phrase] != nil { counts[phrase]! += 1 }
                    }
                }
            }
        }
        for (s, sentence) in corpus.sentences.enumerated() {
            let distances = sentence.dependencyDistances()
            for w in found[s] {
                let phrase = training != nil && constituents[s].contains([w.first, w.second])
                    ? counts[sentence.words[w.first...w.second].map(\.form).joined(separator: " ")] : nil
                pairs.append(
                    Pair(
                        sentence: s, first: w.first, second: w.second, layer: w.layer, linearDistance: w.second - w.first,
                        syntacticDistance: distances?[w.first][w.second], interdependence: w.value, relativeToState: w.relativeToState,
                        phraseCount: phrase))
            }
        }
        /// Pairs grouped by (layer, linear distance, `key`), their key and interdependence's count,
        /// mean and SD, in key order; pairs whose key is nil are left out.
        func groups(_ key: (Pair) -> Int?) -> [(key: [Int], count: Int, mean: Double, sd: Double?)] {
            var groups: [[Int]: [Double]] = [:]
            for p in pairs {
                guard let k = key(p) else { continue }
                groups[[p.layer, p.linearDistance, k], default: []].append(p.interdependence)
            }
            return groups.keys.sorted { $0.lexicographicallyPrecedes($1) }.map { k in
                let (mean, sd) = meanAndSpread(groups[k]!)
                return (k, groups[k]!.count, mean, sd)
            }
        }
        func points(_ key: (Pair) -> Int?) -> [Point] {
            groups(key).map { Point(layer: $0.key[0], linearDistance: $0.key[1], syntacticDistance: $0.key[2] < 0 ? nil : $0.key[2], count: $0.count, mean: $0.mean, sd: $0.sd) }
        }
        let byPhrase = training.map { _ in
            groups { p in p.phraseCount.flatMap { $0 >= familiarCount ? 1 : $0 <= 1 ? 0 : nil } }.map {
                PhrasePoint(layer: $0.key[0], linearDistance: $0.key[1], familiar: $0.key[2] == 1, count: $0.count, mean: $0.mean, sd: $0.sd)
            }
        }
        return InteractionStudy(
            model: name, sentences: corpus.sentences.count, maxDistance: maxDistance, layers: layers, byLinearDistance: points { _ in -1 },
            bySyntacticDistance: points(\.syntacticDistance), byPhraseFrequency: byPhrase, familiarCount: training == nil ? nil : familiarCount,
            interdependence: keepPairs ? pairs : nil)
    }
}

extension Sentence {
    /// The (first, last) word indices of every constituent of the dependency tree with more
    /// than one word: a node's yield (itself and everything below it) when it is contiguous.
    /// Empty without a complete tree.
    public func constituentSpans() -> Set<[Int]> {
        let n = words.count
        guard dependencyDistances() != nil else { return [] }  // heads in range, no cycle
        var (low, high, size) = (Array(0..<n), Array(0..<n), [Int](repeating: 1, count: n))
        // Each word's yield grows up its chain of heads (n steps at most: no cycle).
        for i in 0..<n {
            var node = i
            while let head = words[node].head, head > 0 {
                node = head - 1
                low[node] = min(low[node], i)
                high[node] = max(high[node], i)
                size[node] += 1
            }
        }
        return Set((0..<n).filter { size[$0] > 1 && high[$0] - low[$0] + 1 == size[$0] }.map { [low[$0], high[$0]] })
    }

    /// The path length between every two words in the dependency tree (`head`: 1-based, 0 the
    /// root), [i][j]; nil when a word has no head, a head points outside the sentence, or the
    /// heads form a cycle.
    public func dependencyDistances() -> [[Int]]? {
        let n = words.count
        var parent = [Int](repeating: -1, count: n)
        for (i, w) in words.enumerated() {
            guard let head = w.head, (0...n).contains(head), head != i + 1 else { return nil }
            parent[i] = head - 1
        }
        // Each word's ancestors with their distances, root last; a walk longer than n is a cycle.
        var ancestors: [[Int: Int]] = []
        for i in 0..<n {
            var path: [Int: Int] = [i: 0]
            var (node, steps) = (i, 0)
            while parent[node] >= 0 {
                node = parent[node]
                steps += 1
                guard steps <= n else { return nil }
                path[node] = steps
            }
            ancestors.append(path)
        }
        return (0..<n).map { i in
            (0..<n).map { j in
                // The lowest common ancestor minimises the summed distances.
                ancestors[i].compactMap { node, up in ancestors[j][node].map { up + $0 } }.min() ?? (ancestors[i].count + ancestors[j].count)
            }
        }
    }
}
