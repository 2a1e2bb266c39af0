import Foundation
import SondeBase
import Testing

@testable import SondeLinalg
@testable import SondeProbe

@Suite struct PathTests {
    /// The first λ is λ_max: every weight is zero there and only there; the last point agrees
    /// with a cold fit at the same λ; the entry order starts with planted neurons.
    @Test func pathFromLambdaMax() {
        let planted = PlantedData(samples: 3000, neurons: 40, classes: 3, planted: 4, copies: 1, seed: 21)
        let split = 2000
        let train = ProbeDataset(
            x: planted.dataset.x.rows(0..<split), labels: Array(planted.dataset.labels[..<split]), classes: planted.dataset.classes)
        let dev = ProbeDataset(
            x: planted.dataset.x.rows(split..<3000), labels: Array(planted.dataset.labels[split...]), classes: planted.dataset.classes)
        var ticks: [(Int, Int)] = []
        let path = RegularizationPath.fit(train: train, dev: dev, alpha: 1, count: 8, minRatio: 1e-2, progress: { ticks.append(($0, $1)) })
        #expect(path.points.count == 8 && ticks.map(\.0) == Array(1...8) && ticks.allSatisfy { $0.1 == 8 })
        #expect(path.points[0].nonzeroNeurons == 0)
        #expect(path.points[1].nonzeroNeurons > 0)
        #expect(path.points.allSatisfy { $0.converged })
        let lambdas = path.points.map(\.lambda)
        #expect(zip(lambdas, lambdas.dropFirst()).allSatisfy { $0 > $1 })
        let cold = FittedProbe.fit(train, settings: ProbeSettings(penalty: .elasticNet(lambda: lambdas[7], alpha: 1), tolerance: 1e-6))
        #expect(abs(cold.diagnostics.objective - path.probes[7].diagnostics.objective) < 1e-4 * cold.diagnostics.objective)
        // The chosen λ has the best dev accuracy.
        let accuracies = path.points.map { $0.selectionAccuracy! }
        #expect(accuracies[path.selected] == accuracies.max()!)
        #expect(path.selectedProbe.evaluate(dev).accuracy == accuracies[path.selected])
        // The first neurons to enter are planted ones.
        #expect(Set(path.entryOrder.prefix(2)).isSubset(of: Set(planted.planted + planted.copies.flatMap { $0 })))
        #expect(Set(path.entryOrder) == Set(0..<40))
    }

    /// The entry order alone stops once every neuron has entered; it is the whole path's.
    @Test func entryOrderStopsEarlyWithTheSameOrder() {
        let planted = PlantedData(samples: 1500, neurons: 24, classes: 3, planted: 4, copies: 1, seed: 8)
        let whole = RegularizationPath.fit(train: planted.dataset, alpha: 0.5, count: 30)
        #expect(whole.points.last!.nonzeroNeurons == 24)
        #expect(RegularizationPath.entryOrder(train: planted.dataset, alpha: 0.5, count: 30) == whole.entryOrder)
    }

    /// Refits on subsets (standardised once, memoised, warm-started from a contained subset)
    /// reach the objective of a cold `FittedProbe.fit` on the copied columns, and give the
    /// weights in the order the neurons were asked for.
    @Test func subsetProbesMatchColdFits() {
        let planted = PlantedData(samples: 2000, neurons: 30, classes: 4, planted: 5, copies: 1, seed: 12)
        let data = planted.dataset
        let settings = ProbeSettings(penalty: .elasticNet(lambda: 1 / 2000, alpha: 0), tolerance: 1e-7)
        let probes = SubsetProbes(data, settings: settings)
        for neurons in [[3], [3, 17], [17, 3, 9, 25], [0, 1, 2, 3, 9, 17, 25, 29]] {
            let ours = probes.fit(neurons)
            let cold = FittedProbe.fit(ProbeDataset(x: data.x.columns(neurons), labels: data.labels, classes: data.classes), settings: settings)
            #expect(abs(ours.diagnostics.objective - cold.diagnostics.objective) < 1e-6 * cold.diagnostics.objective)
            for c in 0..<4 {
                for j in neurons.indices { #expect(abs(ours.weights[c, j] - cold.weights[c, j]) < 1e-3 * max(1, abs(cold.weights[c, j]))) }
            }
            #expect(
                ours.evaluate(ProbeDataset(x: data.x.columns(neurons), labels: data.labels, classes: data.classes)).accuracy
                    == cold.evaluate(ProbeDataset(x: data.x.columns(neurons), labels: data.labels, classes: data.classes)).accuracy)
        }
        // A subset asked again in another order is the same fit, permuted.
        let a = probes.fit([9, 3, 17, 25]), b = probes.fit([17, 3, 9, 25])
        #expect(a.weights.columns([2, 1, 0, 3]).elements == b.weights.elements)
    }

    @Test func crossValidationChoosesLambda() {
        let planted = PlantedData(samples: 1500, neurons: 20, classes: 3, planted: 3, copies: 1, seed: 4)
        var totals: [Int] = []
        let path = RegularizationPath.fit(train: planted.dataset, folds: 3, alpha: 0.5, count: 5, progress: { totals.append($1) })
        #expect(totals == Array(repeating: 20, count: 20))
        #expect(path.points.allSatisfy { $0.selectionAccuracy != nil })
        #expect(path.points[path.selected].selectionAccuracy! > 0.8)
    }
}

@Suite struct ControlTaskTests {
    @Test func oneLabelPerTypeSharedAcrossSplits() {
        let train = ["the", "dog", "the", "cat", "dog"]
        let test = ["cat", "bird", "the"]
        let labels = ControlTask.labels(words: [train, test], trainLabels: [0, 1, 0, 1, 1], classes: 2, seed: 9)
        #expect(labels[0][0] == labels[0][2] && labels[0][0] == labels[1][2])
        #expect(labels[0][3] == labels[1][0] && labels[0][1] == labels[0][4])
        #expect(labels == ControlTask.labels(words: [train, test], trainLabels: [0, 1, 0, 1, 1], classes: 2, seed: 9))
    }

    /// Types draw their label from the training distribution: with 20,000 types and
    /// frequencies (0.7, 0.2, 0.1), each class's share is within 0.02 of its frequency.
    @Test func labelsFollowTheTrainingDistribution() {
        let words = (0..<20_000).map { "w\($0)" }
        let train = (0..<100).map { $0 < 70 ? 0 : ($0 < 90 ? 1 : 2) }
        let labels = ControlTask.labels(words: [words], trainLabels: train, classes: 3, seed: 1)[0]
        for (c, p) in [0.7, 0.2, 0.1].enumerated() {
            let share = Double(labels.filter { $0 == c }.count) / 20_000
            #expect(abs(share - p) < 0.02)
        }
    }
}

@Suite struct ProbeFileTests {
    /// A saved probe loads back with identical weights, settings and predictions.
    @Test func saveAndLoad() throws {
        let data = try smallDataset()
        let probe = FittedProbe.fit(data, settings: ProbeSettings(penalty: .neurox(l1: 0.01, l2: 0.02), standardize: false))
        let path = NSTemporaryDirectory() + "probe-\(UUID().uuidString).safetensors"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try ProbeFile.write(probe, to: path)
        let loaded = try ProbeFile.read(path)
        #expect(loaded.weights == probe.weights && loaded.intercepts == probe.intercepts)
        #expect(loaded.settings == probe.settings && loaded.diagnostics == probe.diagnostics && loaded.classes == probe.classes)
        #expect(loaded.predict(data.x) == probe.predict(data.x))
    }
}
