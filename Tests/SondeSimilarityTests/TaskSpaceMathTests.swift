import Foundation
import Testing

@testable import SondeSimilarity

struct TaskSpaceMathTests {
    /// Pearson and Spearman (with tied ranks) against scipy.stats 1.x: pearsonr and spearmanr of
    /// x = [0.3, −0.1, 0.7, 0.2, 0.2, 0.9], y = [1, 0, 1, 0, 0, 1].
    @Test func correlationsMatchScipy() {
        let x = [0.3, -0.1, 0.7, 0.2, 0.2, 0.9], y: [Double] = [1, 0, 1, 0, 0, 1]
        #expect(abs(TaskSpaceMath.pearson(x, y) - 0.7960297521679913) < 1e-12)
        #expect(abs(TaskSpaceMath.spearman(x, y) - 0.8911327886790069) < 1e-12)
    }

    /// A space equal to its hypothesis, groups {0, 1} and {2, 3}: r = 1, and of the 4! = 24 joint
    /// permutations exactly the 8 that keep the grouping (swaps within groups, and of the groups)
    /// reach it, so the exact Mantel p is 8/24; within − between is 1.
    @Test func mantelIsExactForFewTasks() {
        let h = TaskSpaceMath.sameGroup(["a", "a", "b", "b"])
        let a = TaskSpaceMath.agreement(h, hypothesis: h)
        #expect(abs(a.pearson - 1) < 1e-12 && a.permutations == 24 && abs(a.mantelP - 8.0 / 24) < 1e-12)
        #expect(a.withinMinusBetween == 1)
        // Sampled when K! exceeds the permutations asked for: (reached + 1) / (N + 1).
        let seven = TaskSpaceMath.sameGroup(["a", "a", "b", "b", "c", "c", "c"])
        let sampled = TaskSpaceMath.agreement(seven, hypothesis: seven, permutations: 199)
        #expect(sampled.permutations == 199 && sampled.mantelP < 0.05)
    }

    @Test func cosinesJaccardAndConcentration() {
        let c = TaskSpaceMath.cosines([[1, 0, 0], [1, 1, 0], [0, 0, 0]])
        #expect(abs(c[0][1] - 1 / 2.0.squareRoot()) < 1e-12 && c[2][0] == 0 && abs(c[1][1] - 1) < 1e-12)
        #expect(TaskSpaceMath.jaccard([[1, 2, 3], [2, 3, 4], []]) == [[1, 0.5, 0], [0.5, 1, 0], [0, 0, 1]])
        #expect(TaskSpaceMath.concentration([3, 0, 0]) == 1)
        #expect(abs(TaskSpaceMath.concentration([1, 1, 1, 1]) - 0.5) < 1e-12)
    }
}
