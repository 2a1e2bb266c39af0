import Foundation
import Testing

@testable import SondeSimilarity

struct TaskSpaceMathTests {
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

    @Test func cosinesAndJaccard() {
        let c = TaskSpaceMath.cosines([[1, 0, 0], [1, 1, 0], [0, 0, 0]])
        #expect(abs(c[0][1] - 1 / 2.0.squareRoot()) < 1e-12 && c[2][0] == 0 && abs(c[1][1] - 1) < 1e-12)
        #expect(TaskSpaceMath.jaccard([[1, 2, 3], [2, 3, 4], []]) == [[1, 0.5, 0], [0.5, 1, 0], [0, 0, 1]])
    }
}
