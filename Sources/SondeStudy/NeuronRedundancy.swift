import SondeLinalg
import SondeProbe
import SondeSimilarity

/// `sonde redundancy` (Dalvi et al. 2020): per layer, clusters of correlated neurons and a probe
/// on one neuron per cluster beside the probe on all; across layers, `LayerRedundancy`; and the
/// minimal neuron set over every layer at once — all neurons ranked by one probe, the first of
/// each cluster kept, then grown until dev comes within δ of that probe. Each probe is trained
/// once: the per-layer ones, and the all-layer one that ranks, is the layer selection's oracle and
/// the minimal set's.
public struct NeuronRedundancy: Codable, Sendable {
    public struct Layer: Codable, Sendable {
        public var layer: String
        public var neurons: Int
        public var clusters: Int
        public var largestCluster: Int
        public var accuracy: Double
        public var accuracyOnePerCluster: Double
        /// Every cluster of two or more neurons (indices within the layer), largest first.
        public var clusterMembers: [[Int]]
    }

    public var threshold: Double
    public var layers: [Layer]
    public var layerRedundancy: LayerRedundancy
    public var minimal: MinimalNeuronSet
    /// The minimal set's neurons counted by layer.
    public var minimalByLayer: [String: Int]

    /// - Parameters: `threshold`: cut the dendrogram at this dissimilarity (1 − |r|); `delta`: the
    ///   tolerance below the oracle, in accuracy points. `progress(stage, done, total)`.
    public static func analyze(
        layers: [Matrix<Float>], names: [String], tokens: StudyTokens, settings: ProbeSettings, threshold: Double, delta: Double,
        progress: (String, Int, Int) -> Void = { _, _, _ in }
    ) throws -> NeuronRedundancy {
        var rows: [Layer] = []
        var allClusters: [NeuronClusters] = []
        for (l, x) in layers.enumerated() {
            let clusters = try NeuronClusters.cluster(tokens.dataset(x, tokens.trainRows).x, threshold: threshold)
            allClusters.append(clusters)
            let probe = ProbeStudy.layer(x, tokens, settings: settings, control: false)
            let reduced = ProbeStudy.layer(x.columns(clusters.representatives(in: probe.ordering)), tokens, settings: settings, control: false)
            rows.append(
                Layer(
                    layer: names[l], neurons: x.columns, clusters: clusters.count, largestCluster: clusters.clusters.map(\.count).max() ?? 0,
                    accuracy: probe.splits["dev"]!.accuracy, accuracyOnePerCluster: reduced.splits["dev"]!.accuracy,
                    clusterMembers: clusters.clusters.filter { $0.count > 1 }.sorted { ($0.count, $1[0]) > ($1.count, $0[0]) }))
            progress("layers", l + 1, layers.count)
        }
        let all = concatenatedLayers(layers)
        let train = tokens.dataset(all, tokens.trainRows)
        let dev = tokens.dataset(all, tokens.devRows, classes: train.classes)
        let test = tokens.dataset(all, tokens.testRows, classes: train.classes)
        let oracle = FittedProbe.fit(train, settings: settings)
        let ordering = Rankings.neuronOrdering(oracle.standardizedWeights).ordering
        let layerRedundancy = try LayerRedundancy.analyze(
            layers: layers, names: names, tokens: tokens, settings: settings, delta: delta, accuracy: rows.map(\.accuracy),
            oracleAccuracy: oracle.evaluate(test).accuracy)
        // One representative per cluster, in the all-layer ranking's order.
        var assignment: [Int] = []
        var clusterOffset = 0
        for c in allClusters { assignment += c.assignment.map { $0 + clusterOffset }; clusterOffset += c.count }
        var seen = Set<Int>()
        let representatives = ordering.filter { seen.insert(assignment[$0]).inserted }
        let minimal = MinimalNeuronSet.search(
            train: train, dev: dev, test: test, ordering: representatives, settings: settings, delta: delta, oracle: oracle
        ) {
            progress("minimal set: probes", $0, $0)
        }
        var byLayer: [String: Int] = [:]
        for neuron in minimal.selected { byLayer[names[layerOfConcatenatedNeuron(neuron, widths: layers.map(\.columns))], default: 0] += 1 }
        return NeuronRedundancy(threshold: threshold, layers: rows, layerRedundancy: layerRedundancy, minimal: minimal, minimalByLayer: byLayer)
    }
}
