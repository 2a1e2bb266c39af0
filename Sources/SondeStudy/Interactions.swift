import Foundation
import SondeBase
import SondeCorpus
import SondeModels

/// Word interdependence over a treebank (Saphra & Lopez 2020): every pair of words at most
/// `maxDistance` apart, its interdependence at the later word (`WordInteraction`), its linear
/// distance and its syntactic distance (the path length between the two words in the sentence's
/// dependency tree), and curves of the mean by linear distance and by syntactic distance at
/// each linear distance — whether words close in the tree interact more than their distance
/// in the string predicts.
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
    /// Every pair, when asked for.
    public var interdependence: [Pair]?

    /// - Parameters:
    ///   - name: the model's name in the result (a checkpoint's folder name).
    ///   - keepPairs: put every pair into the result (large: about `maxDistance` per word).
    public static func run(
        _ model: LSTMModel, name: String, corpus: Corpus, maxDistance: Int, layers: [Int], keepPairs: Bool,
        progress: (Int, Int) -> Void = { _, _ in }
    ) -> InteractionStudy {
        var pairs: [Pair] = []
        // In groups of sentences, for progress; each group runs as batched decompositions.
        var found: [[WordInteraction]] = []
        for start in stride(from: 0, to: corpus.sentences.count, by: 256) {
            let group = corpus.sentences[start..<min(corpus.sentences.count, start + 256)].map { $0.words.map(\.form) }
            found += model.interdependence(group, maxDistance: maxDistance, layers: layers)
            progress(found.count, corpus.sentences.count)
        }
        for (s, sentence) in corpus.sentences.enumerated() {
            let distances = sentence.dependencyDistances()
            for w in found[s] {
                pairs.append(
                    Pair(
                        sentence: s, first: w.first, second: w.second, layer: w.layer, linearDistance: w.second - w.first,
                        syntacticDistance: distances?[w.first][w.second], interdependence: w.value, relativeToState: w.relativeToState))
            }
        }
        func points(_ key: (Pair) -> Int?) -> [Point] {
            var groups: [[Int]: [Double]] = [:]
            for p in pairs {
                guard let k = key(p) else { continue }
                groups[[p.layer, p.linearDistance, k], default: []].append(p.interdependence)
            }
            return groups.keys.sorted { $0.lexicographicallyPrecedes($1) }.map { k in
                let (mean, sd) = meanAndSpread(groups[k]!)
                return Point(layer: k[0], linearDistance: k[1], syntacticDistance: k[2] < 0 ? nil : k[2], count: groups[k]!.count, mean: mean, sd: sd)
            }
        }
        return InteractionStudy(
            model: name, sentences: corpus.sentences.count, maxDistance: maxDistance, layers: layers, byLinearDistance: points { _ in -1 },
            bySyntacticDistance: points(\.syntacticDistance), interdependence: keepPairs ? pairs : nil)
    }
}

extension Sentence {
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
