import Foundation
import SondeLinalg
import Testing

@testable import SondeProbe

/// The IoU and Gaussian rankers against a direct numpy computation of their definitions
/// (benchmarks/references/erasure_rankers_reference.py: the percentile by numpy's linear
/// interpolation, IoU by set counts; the Gaussian greedy search by scipy's multivariate_normal),
/// and on planted data, where they must find the planted neurons.
struct RankerTests {
    /// a[i][j] = sin(0.9·i·(j+1) + 0.3j) + 0.7[i%3 == j%3] (j < 5), a[i][5] = 2·a[i][1], Float;
    /// 40 rows, labels i % 3.
    static let iouData: ProbeDataset = {
        var x = Matrix<Float>(rows: 40, columns: 6)
        for i in 0..<40 {
            for j in 0..<5 { x[i, j] = Float(sin(0.9 * Double(i) * Double(j + 1) + 0.3 * Double(j)) + (i % 3 == j % 3 ? 0.7 : 0)) }
            x[i, 5] = 2 * x[i, 1]
        }
        return ProbeDataset(x: x, labels: (0..<40).map { $0 % 3 }, classes: ["a", "b", "c"])
    }()

    @Test(arguments: [
        (80.0, [0.375, 0.4, 0.4, 0.375, 0.4, 0.4], [1, 2, 4, 5, 0, 3]),
        (95.0, [0.14285714285714285, 0.15384615384615385, 0.15384615384615385, 0.14285714285714285, 0.15384615384615385, 0.15384615384615385], [1, 2, 4, 5, 0, 3]),
    ] as [(Double, [Double], [Int])])
    func iouMatchesTheDefinition(percentile: Double, scores: [Double], ranking: [Int]) {
        let result = Rankings.iou(Self.iouData, percentile: percentile)
        #expect(result.scores == scores)  // ratios of small counts: exact
        #expect(result.ordering == ranking)
    }

    @Test func gaussianGreedyMatchesTheReference() throws {
        // x[i][j] = sin(1.1i + 0.7j² + 0.3) + 0.5cos(0.37i(j+2)) + s[j](label − 1), Float; label i % 3;
        // rows 0…29 train, 30…44 held out.
        let s = [0.1, 1.5, 0.0, -1.0, 0.5]
        var x = Matrix<Float>(rows: 45, columns: 5)
        for i in 0..<45 {
            for j in 0..<5 {
                let (a, b) = (Double(i), Double(j))
                x[i, j] = Float(sin(1.1 * a + 0.7 * b * b + 0.3) + 0.5 * cos(0.37 * a * (b + 2)) + s[j] * Double(i % 3 - 1))
            }
        }
        let labels = (0..<45).map { $0 % 3 }
        let train = ProbeDataset(x: x.rows(0..<30), labels: Array(labels[0..<30]), classes: ["a", "b", "c"])
        let heldOut = ProbeDataset(x: x.rows(30..<45), labels: Array(labels[30..<45]), classes: ["a", "b", "c"])
        let result = try Rankings.gaussian(train, heldOut: heldOut, count: 5, ridge: 1e-3)
        #expect(result.ordering == [1, 3, 2, 0, 4])
        let expected = [-0.8259275401993967, -0.35438441995829184, -0.13447190222831906, -0.29428228650653426, -11.758287032415199]
        // The last step rests on a small eigenvalue (≈ 0.0028 + ridge): a relative tolerance.
        #expect(zip(result.scores, expected).allSatisfy { abs($0 - $1) <= 1e-8 * max(1, abs($1)) }, "\(result.scores)")
    }

    /// On planted data the top 16 of each ranker cover at least 10 of the 16 planted neurons
    /// (the neuron or one of its noisy copies). IoU scores each neuron alone, so a planted
    /// neuron's copies rank beside it: it is checked on planted neurons without copies (with two
    /// copies each, its top 16 holds 6 planted groups); the Gaussian ranker, which gains nothing
    /// from a copy of a neuron it has, on planted neurons with copies.
    @Test func rankersFindPlantedNeurons() throws {
        func covered(_ top: [Int], _ planted: PlantedData) -> Int {
            zip(planted.planted, planted.copies).filter { p, copies in top.contains(p) || copies.contains(where: top.contains) }.count
        }
        let alone = PlantedData(samples: 900, neurons: 100, classes: 4, planted: 16, copies: 0, separation: 2, seed: 11)
        let iou = Array(Rankings.iou(alone.dataset).ordering.prefix(16))
        #expect(covered(iou, alone) >= 10, "IoU covers \(covered(iou, alone))")
        let planted = PlantedData(samples: 900, neurons: 60, classes: 4, planted: 16, copies: 2, separation: 2, seed: 11)
        let data = planted.dataset
        func covered(_ top: [Int]) -> Int { covered(top, planted) }
        let train = ProbeDataset(x: data.x.rows(0..<600), labels: Array(data.labels[0..<600]), classes: data.classes)
        let heldOut = ProbeDataset(x: data.x.rows(600..<900), labels: Array(data.labels[600..<900]), classes: data.classes)
        let gaussian = try Rankings.gaussian(train, heldOut: heldOut, count: 16)
        #expect(covered(gaussian.ordering) >= 10, "Gaussian covers \(covered(gaussian.ordering))")
        #expect(zip(gaussian.scores, gaussian.scores.dropFirst()).prefix(5).allSatisfy { $0 < $1 }, "the first steps raise the held-out score")
    }
}
