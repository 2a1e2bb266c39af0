import Foundation
import SondeLinalg
import Testing

@testable import SondeModels
@testable import SondeProbe
@testable import SondeStudy

/// A language model whose loss rises by 1 for each of neurons 0 and 1 that is ablated, and whose
/// word vectors are fixed, ablations applied: enough to check the study's bookkeeping exactly.
final class CountingModel: LanguageModel {
    let folder = "counting"
    let identity = ModelIdentity(architecture: nil, hidden: 4, fingerprint: nil)
    let layerCount = 1
    let hiddenSize = 4
    var batchTokens = 100

    func extract(
        _ sentences: [[String]], layers: [Int], aggregate: SubwordAggregation, ablations: [NeuronAblation],
        progress: (Int) -> Void, emit: (Int, [Matrix<Float>]) throws -> Void
    ) throws {
        for (s, words) in sentences.enumerated() {
            var m = Matrix<Float>(rows: words.count, columns: 4) { p in for i in 0..<p.count { p[i] = Float(i % 4 == 0 ? 3 : 1) } }
            for a in ablations { for r in 0..<m.rows { for (n, v) in zip(a.neurons, a.values) { m[r, n] = v } } }
            try emit(s, layers.map { _ in m })
        }
    }

    func score(
        _ sentences: [[String]], labels: [[String]]?, ablations: [NeuronAblation], seed: UInt64, words: [[Bool]]?, progress: (Int) -> Void
    ) throws -> ModelScore {
        let hit = ablations.flatMap(\.neurons).filter { $0 < 2 }.count
        let loss = 1 + Double(hit)
        return ModelScore(task: "next-token", predictions: 10, loss: loss, perplexity: exp(loss), accuracy: 0.5)
    }

    func tokenMeans(_ sentences: [[String]], layer: Int) throws -> [Float] { [0, 0, 0, 0] }
}

@Test func modelAblationBookkeeping() throws {
    let probe = FittedProbe(
        classes: ["a", "b"], weights: Matrix([[1, 0, 0, 0], [-1, 0, 0, 0]]), intercepts: [0, 0], scales: [1, 1, 1, 1], means: [0, 0, 0, 0],
        settings: ProbeSettings(penalty: .elasticNet(lambda: 0.01, alpha: 0.5)),
        diagnostics: .init(iterations: 0, converged: true, kktViolation: 0, objective: 0, trainingLoss: 0, nonzeroNeurons: 1))
    let evaluation = ModelAblation.Evaluation(sentences: [["x", "y"]], labels: ["a", "a"])
    let result = try ModelAblation.run(
        CountingModel(), layer: 1, probe: probe, ordering: [0, 1, 2, 3], counts: [1, 2], fill: .zero, seeds: 3, scored: [["x"]],
        evaluation: evaluation)
    #expect(result.unablated.loss == 1)
    let top = result.points.filter { $0.selection == "top" }
    // Top 1 ablates neuron 0 (+1), top 2 neurons 0 and 1 (+2): loss changes by exactly that.
    #expect(top.map(\.lossChange) == [1, 2] && top.map(\.neurons) == [1, 2])
    // Neuron 0 is the probe's only weight: zeroed, both classes tie and class a (index 0) wins.
    #expect(top[0].accuracy == 1)
    let random = result.points.filter { $0.selection == "random" }
    #expect(random.count == 2 && random.allSatisfy { $0.lossSD != nil && (0...2).contains($0.lossChange) })
    #expect {
        _ = try ModelAblation.run(
            CountingModel(), layer: 5, probe: probe, ordering: [0], counts: [1], fill: .zero, seeds: 1, scored: [], evaluation: nil)
    } throws: { "\($0)".contains("does not match the probe's") }
}
