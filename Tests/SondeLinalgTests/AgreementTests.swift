import Foundation
import SondeBase
import Testing

/// The shared small statistics (SondeBase/Agreement.swift) against closed forms, scipy and
/// brute force.
struct AgreementTests {
    @Test func jaccardCountsSharedOverAll() {
        #expect(jaccard(Set([1, 2, 3]), Set([2, 3, 4])) == 0.5)
        #expect(jaccard(Set<Int>(), Set<Int>()) == 1 && jaccard(Set([1]), Set<Int>()) == 0)
        // The first k of two orderings: {1, 2} and {3, 2} share 1 of 3.
        #expect(jaccard([1, 2, 3, 4], [3, 2, 9, 8], k: 2) == 1.0 / 3.0)
    }

    /// Pearson and Spearman (with tied ranks) against scipy.stats 1.x: pearsonr and spearmanr of
    /// x = [0.3, −0.1, 0.7, 0.2, 0.2, 0.9], y = [1, 0, 1, 0, 0, 1].
    @Test func correlationsMatchScipy() {
        let x = [0.3, -0.1, 0.7, 0.2, 0.2, 0.9], y: [Double] = [1, 0, 1, 0, 0, 1]
        #expect(abs(pearson(x, y) - 0.7960297521679913) < 1e-12)
        #expect(abs(spearman(x, y) - 0.8911327886790069) < 1e-12)
        #expect(midRanks(x) == [4, 1, 5, 2.5, 2.5, 6])
        #expect(pearson([1, 2, 3], [4, 4, 4]).isNaN && spearman([1], [2]).isNaN)
    }

    /// Without ties the closed form 1 − 6Σd²/(n(n² − 1)) equals Pearson's correlation of the
    /// ranks: checked over every ordering of 5 items against the first (tolerance: rounding).
    @Test func spearmanWithoutTiesIsPearsonOfRanks() {
        func permutations(_ a: [Int]) -> [[Int]] {
            a.count <= 1 ? [a] : a.indices.flatMap { i in permutations(Array(a[..<i] + a[(i + 1)...])).map { [a[i]] + $0 } }
        }
        let identity = Array(0..<5)
        for p in permutations(identity) {
            let ranks = p.map(Double.init)
            #expect(abs(spearman(identity.map(Double.init), ranks) - pearson(identity.map(Double.init), ranks)) < 1e-12)
        }
        #expect(rankCorrelation(orderings: [0, 1, 2, 3, 4], [0, 1, 2, 3, 4]) == 1)
        #expect(rankCorrelation(orderings: [0, 1, 2, 3, 4], [4, 3, 2, 1, 0]) == -1)
        // One swap of neighbours among 4: Σd² = 2, ρ = 1 − 6·2 / (4·15) = 0.8.
        #expect(abs(rankCorrelation(orderings: [0, 1, 2, 3], [1, 0, 2, 3]) - 0.8) < 1e-12)
        #expect(rankCorrelation(orderings: [0], [0]) == 1)
    }

    /// ‖x‖₂/‖x‖₁: 1 for one entry, 1/√n spread evenly over n, 0 for zero; √(9+16)/7 for (3, −4).
    @Test func concentrationIsL2OverL1() {
        #expect(concentration([Float(3), 0, 0]) == 1)
        #expect(abs(concentration([Float](repeating: 2, count: 4)) - 0.5) < 1e-12)
        #expect(concentration([Float](repeating: 0, count: 3)) == 0)
        #expect(abs(concentration([Float(3), -4]) - 5.0 / 7) < 1e-12)
    }

    /// The sample mean and SD (divisor n − 1) of 2, 4, 4, 4, 5, 5, 7, 9: mean 5, SD √(32/7).
    @Test func meanAndSpreadUseTheSampleDivisor() {
        let (mean, sd) = meanAndSpread([2, 4, 4, 4, 5, 5, 7, 9])
        #expect(mean == 5 && abs(sd! - (32.0 / 7).squareRoot()) < 1e-12)
        #expect(meanAndSpread([3]).standardDeviation == nil && meanAndSpread([]).mean.isNaN)
    }
}
