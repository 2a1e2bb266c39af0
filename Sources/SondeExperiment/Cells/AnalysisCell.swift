import SondeModels
import SondeProbe
import SondeStudy

/// A property's best layer (best mean dev accuracy over the probe cells): its probe on all
/// training rows, top neurons and their weights, top words, and ablation curves.
struct AnalysisCell: JSONCell {
    struct Output: Codable {
        var best: Int
        var topNeurons: [Int]
        var topWeights: [Double]
        var ablation: AblationStudy.Result
        var topWords: TopActivations
    }

    var property: String
    var key: String
    var extract: CellID
    var probes: [ProbeCell]

    var id: CellID { .analysis(property: property) }
    var dependencies: [CellID] { [extract] + probes.map(\.id) }
    var output: String { "analysis-\(key).json" }

    func compute(_ runner: ExperimentRunner) throws -> Output {
        let e = runner.experiment, settings = runner.probeSettings
        let layers = try probes.map { try $0.read(runner) }
        let best = layers.indices.max { layers[$0].accuracy < layers[$1].accuracy }!
        let x = try runner.activations(extract)[best]
        let (labelled, tokens) = try runner.tokens(property)
        let classes = Array(Set(tokens.labels)).sorted()
        let trainSet = tokens.dataset(x, tokens.trainRows, classes: classes), devSet = tokens.dataset(x, tokens.devRows, classes: classes)
        let probe = FittedProbe.fit(trainSet, settings: settings)
        let topNeurons = Array(layers[best].ranking.prefix(e.k))
        let weights = probe.standardizedWeights
        let topWeights = topNeurons.map { n in (0..<weights.rows).reduce(0.0) { $0 + abs(weights[$1, n]) } }
        let counts = e.ablation.map { max(1, Int(($0 * Double(x.columns)).rounded())) }
        let ablation = try AblationStudy.run(
            [ProbeStudy.Split(name: "train", data: trainSet, words: nil), ProbeStudy.Split(name: "dev", data: devSet, words: nil)],
            probe: probe, probeSettings: settings, settings: .init(counts: counts, fills: [.zero], seeds: 5, minimalDelta: e.minimalDelta)
        ) { task, done, total in runner.progress("\(task) \(property)", done, total) }
        let topWords = TopActivations.find(
            x, sentenceWords: labelled.sentenceWords, forms: labelled.words, labels: labelled.flatLabels, neurons: Array(topNeurons.prefix(3)),
            count: min(8, x.rows))
        return Output(best: best, topNeurons: topNeurons, topWeights: topWeights, ablation: ablation, topWords: topWords)
    }
}
