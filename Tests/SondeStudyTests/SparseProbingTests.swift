import Foundation
import SondeLinalg
import SondeProbe
import Testing

@testable import SondeStudy

/// k-sparse probing: on planted data every ranker finds the planted neurons at k = their count
/// and the curve saturates there; the F statistic and mean difference against sums written out.
struct SparseProbingTests {
    @Test func everyRankerFindsThePlantedNeuronsAndTheCurveSaturates() throws {
        let planted = PlantedData(samples: 1500, neurons: 40, classes: 3, planted: 4, copies: 0, separation: 2.5, seed: 21)
        let all = planted.dataset
        let train = ProbeDataset(x: all.x.rows(0..<1000), labels: Array(all.labels[0..<1000]), classes: all.classes)
        let held = ProbeDataset(x: all.x.rows(1000..<1500), labels: Array(all.labels[1000..<1500]), classes: all.classes)
        let ks = SparseProbing.defaultKs(neurons: 40)
        #expect(ks == [1, 2, 4, 8, 16, 32, 40])
        let result = try SparseProbing.run(
            train: train, evaluation: held, ks: ks, rankers: SparseProbing.Ranker.defaults + [.iou, .probeless],
            settings: ProbeSettings(penalty: .elasticNet(lambda: 1e-3, alpha: 0.5)))
        #expect(result.allNeuronsAccuracy > result.majorityBaseline + 0.3)
        for curve in result.curves {
            let atFour = try #require(curve.points.first { $0.k == 4 })
            #expect(Set(atFour.neurons) == Set(planted.planted), "\(curve.ranker): \(atFour.neurons) vs \(planted.planted)")
            let best = curve.points.map(\.accuracy).max()!
            #expect(atFour.accuracy >= best - 0.02, "\(curve.ranker) saturates at 4: \(atFour.accuracy) vs \(best)")
            #expect(curve.points.first { $0.k == 1 }!.accuracy < atFour.accuracy)
        }
        #expect(result.agreement.count == 15)  // 6 rankers, each pair once
        for pair in result.agreement { #expect(pair.jaccard["4"] == 1) }
    }

    /// The F statistic and one-vs-rest mean difference of each neuron, written out on a small set.
    @Test func scoresMatchTheirDefinitions() throws {
        let x: [[Float]] = [[1, 5, 0], [2, 5, 1], [3, 6, 0], [7, 6, 1], [8, 5, 0], [9, 7, 1]]
        let labels = [0, 0, 0, 1, 1, 1]
        let data = ProbeDataset(x: Matrix(x), labels: labels, classes: ["a", "b"])
        func column(_ j: Int) -> [Double] { x.map { Double($0[j]) } }
        var f: [Double] = [], gap: [Double] = []
        for j in 0..<3 {
            let v = column(j), mean = v.reduce(0, +) / 6
            let groups = [Array(v[0..<3]), Array(v[3..<6])], groupMeans = groups.map { $0.reduce(0, +) / 3 }
            let between = zip(groups, groupMeans).reduce(0.0) { $0 + Double($1.0.count) * ($1.1 - mean) * ($1.1 - mean) }
            let within = zip(groups, groupMeans).reduce(0.0) { s, g in s + g.0.reduce(0.0) { $0 + ($1 - g.1) * ($1 - g.1) } }
            f.append((between / 1) / (within / 4))
            let sd = (v.reduce(0.0) { $0 + ($1 - mean) * ($1 - mean) } / 6).squareRoot()
            gap.append(abs(groupMeans[0] - groupMeans[1]) / sd)
        }
        let settings = ProbeSettings()
        let byF = try SparseProbing.ordering(.fStatistic, train: data, settings: settings)
        let byGap = try SparseProbing.ordering(.meanDifference, train: data, settings: settings)
        #expect(byF == f.indices.sorted { f[$0] > f[$1] })
        #expect(byGap == gap.indices.sorted { gap[$0] > gap[$1] })
        #expect(byF == [0, 1, 2])  // F: 54, 1, 0.5
    }
}
