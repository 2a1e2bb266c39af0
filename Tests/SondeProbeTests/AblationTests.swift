import SondeBase
import SondeLinalg
import Testing

@testable import SondeProbe

/// Probe-level ablation and the minimal neuron set, on planted data with known redundant copies.
struct AblationTests {
    let planted = PlantedData(samples: 3000, neurons: 60, classes: 4, planted: 5, copies: 2, seed: 5)

    func probe() -> FittedProbe {
        FittedProbe.fit(planted.dataset, settings: ProbeSettings(penalty: .elasticNet(lambda: 1e-3, alpha: 0.5)))
    }

    @Test func closedForms() {
        let p = probe(), data = planted.dataset
        let full = p.evaluate(data).accuracy
        let all = Array(0..<60)
        // Keeping every neuron (or removing none) is the unablated probe, exactly.
        #expect(Ablation.accuracy(p, data, chosen: all, kind: .keep, fill: .zero) == full)
        #expect(Ablation.accuracy(p, data, chosen: [], kind: .remove, fill: .mean) == full)
        // Zeroing every neuron leaves the intercepts: every token gets argmax(b), so the accuracy
        // is that class's share of the data.
        let interceptClass = p.intercepts.indices.max { p.intercepts[$0] < p.intercepts[$1] }!
        let share = Double(data.labels.filter { $0 == interceptClass }.count) / Double(data.count)
        #expect(Ablation.accuracy(p, data, chosen: all, kind: .remove, fill: .zero) == share)
        // The correction trick against rebuilding the activations and predicting again.
        let chosen = [planted.planted[0], planted.copies[1][0], 7, 33]
        var x = data.x
        for i in 0..<x.rows { for j in chosen { x[i, j] = Float(p.means[j]) } }
        let rebuilt = p.evaluate(ProbeDataset(x: x, labels: data.labels, classes: data.classes)).accuracy
        #expect(abs(Ablation.accuracy(p, data, chosen: chosen, kind: .remove, fill: .mean) - rebuilt) < 1e-9)
    }

    @Test func curvesSeparateTopFromRandomAndBottom() {
        let p = probe(), data = planted.dataset
        let ordering = Rankings.neuronOrdering(p.standardizedWeights).ordering
        let points = Ablation.curves(p, data, ordering: ordering, counts: [6, 15], kinds: [.keep], fills: [.mean], seeds: 4)
        func accuracy(_ s: Ablation.Selection, _ k: Int) -> Double { points.first { $0.selection == s && $0.neurons == k }!.accuracy }
        #expect(accuracy(.top, 15) > accuracy(.random, 15) + 0.1)
        #expect(accuracy(.top, 15) > accuracy(.bottom, 15) + 0.2)
        #expect(points.first { $0.selection == .random }!.accuracySD != nil)
        #expect(points.count == 6)
    }
}
