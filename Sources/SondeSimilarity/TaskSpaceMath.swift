import Foundation
import SondeBase

/// The matrix arithmetic of linguistic task spaces (Weber et al. 2024): similarities between
/// tasks' gradient differentials and masks, and how well a K × K space agrees with a linguist's
/// hypothesis.
public enum TaskSpaceMath {
    /// Cosine similarity of every pair of vectors (0 when one of them is zero).
    public static func cosines(_ vectors: [[Float]]) -> [[Double]] {
        let norms = vectors.map { v in v.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot() }
        return vectors.indices.map { a in
            vectors.indices.map { b in
                guard norms[a] > 0, norms[b] > 0 else { return 0 }
                var dot = 0.0
                for i in vectors[a].indices { dot += Double(vectors[a][i]) * Double(vectors[b][i]) }
                return dot / (norms[a] * norms[b])
            }
        }
    }

    /// |A ∩ B| / |A ∪ B| of every pair of index sets (1 for two empty sets).
    public static func jaccard(_ sets: [[Int]]) -> [[Double]] {
        let sets = sets.map(Set.init)
        return sets.map { a in sets.map { b in SondeBase.jaccard(a, b) } }
    }

    /// Agreement of a task space with a hypothesis matrix over the off-diagonal cells.
    public struct Agreement: Codable, Sendable, Equatable {
        public let pearson: Double
        public let spearman: Double
        /// One-sided Mantel p: the share of joint row-and-column permutations of the hypothesis
        /// whose Pearson correlation reaches the observed one — all K! of them when there are no
        /// more than the permutations asked for (exact), else that many seeded ones plus the
        /// identity, (reached + 1) / (permutations + 1).
        public let mantelP: Double
        /// Permutations drawn, or K! when the test was exact.
        public let permutations: Int
        /// Mean of the cells the hypothesis marks related (1) minus the mean of the others (0).
        public let withinMinusBetween: Double
    }

    /// Off-diagonal cells in row-major order.
    public static func offDiagonal(_ m: [[Double]]) -> [Double] {
        m.indices.flatMap { i in m.indices.filter { $0 != i }.map { m[i][$0] } }
    }

    /// Pearson and Spearman over the off-diagonal cells of `space` and `hypothesis`, the Mantel
    /// test with `permutations` seeded permutations, and the within-minus-between difference.
    public static func agreement(_ space: [[Double]], hypothesis: [[Double]], permutations: Int = 999, seed: UInt64 = 2026) -> Agreement {
        let k = space.count
        let x = offDiagonal(space), h = offDiagonal(hypothesis)
        let r = pearson(x, h)
        func reaches(_ p: [Int]) -> Bool {
            let permuted = (0..<k).map { i in (0..<k).map { hypothesis[p[i]][p[$0]] } }
            return pearson(x, offDiagonal(permuted)) >= r - 1e-12
        }
        var reached = 0, drawn = permutations, p = 1.0
        let factorial = (1...max(k, 1)).reduce(1.0) { $0 * Double($1) }
        if factorial <= Double(permutations) {
            // Every permutation, in lexicographic order (Heap's order would do as well).
            var order = Array(0..<k)
            drawn = 0
            while true {
                drawn += 1
                if reaches(order) { reached += 1 }
                guard let i = (0..<(k - 1)).last(where: { order[$0] < order[$0 + 1] }) else { break }
                let j = ((i + 1)..<k).last { order[$0] > order[i] }!
                order.swapAt(i, j)
                order[(i + 1)...].reverse()
            }
            p = Double(reached) / Double(drawn)
        } else {
            var generator = SplitMix64(seed: seed)
            for _ in 0..<permutations where reaches(generator.shuffled(Array(0..<k))) { reached += 1 }
            p = Double(reached + 1) / Double(permutations + 1)
        }
        let within = zip(x, h).filter { $0.1 == 1 }.map(\.0), between = zip(x, h).filter { $0.1 == 0 }.map(\.0)
        return Agreement(
            pearson: r, spearman: spearman(x, h), mantelP: permutations == 0 ? .nan : p, permutations: drawn,
            withinMinusBetween: meanAndSpread(within).mean - meanAndSpread(between).mean)
    }

    /// The hypothesis that tasks of one group are related: 1 for the same group, else 0.
    public static func sameGroup(_ groups: [String]) -> [[Double]] {
        groups.map { a in groups.map { a == $0 ? 1 : 0 } }
    }
}
