import SondeLinalg
import SondeProbe
import Testing

@testable import SondeSimilarity

/// Each planted neuron clusters with its noisy copies, and with nothing else.
struct PlantedClusterTests {
    @Test func copiesClusterTogether() throws {
        let planted = PlantedData(samples: 3000, neurons: 80, classes: 4, planted: 6, copies: 3, seed: 2)
        let clusters = try NeuronClusters.cluster(planted.dataset.x, threshold: 0.3)
        for (neuron, copies) in zip(planted.planted, planted.copies) {
            let members = Set(clusters.clusters[clusters.assignment[neuron]])
            #expect(members == Set([neuron] + copies))
        }
    }

    /// Dalvi et al.'s pipeline: rank, keep the first-ranked neuron of each correlation cluster,
    /// then the minimal set on that ordering — about one neuron per planted group.
    @Test func minimalSetIsAboutOnePerGroup() throws {
        let all = PlantedData(samples: 3000, neurons: 60, classes: 8, planted: 5, copies: 2, seed: 5)
        let train = ProbeDataset(x: all.dataset.x.rows(0..<2000), labels: Array(all.dataset.labels[0..<2000]), classes: all.dataset.classes)
        let dev = ProbeDataset(x: all.dataset.x.rows(2000..<3000), labels: Array(all.dataset.labels[2000..<3000]), classes: all.dataset.classes)
        let settings = ProbeSettings(penalty: .elasticNet(lambda: 1e-3, alpha: 0.5))
        let ordering = Rankings.neuronOrdering(FittedProbe.fit(train, settings: settings).standardizedWeights).ordering
        let clusters = try NeuronClusters.cluster(train.x, threshold: 0.3)
        let representatives = clusters.representatives(in: ordering)
        let minimal = MinimalNeuronSet.search(train: train, dev: dev, test: nil, ordering: representatives, settings: settings, delta: 0.01)
        let groups = zip(all.planted, all.copies).map { Set([$0] + $1) }
        let covered = groups.filter { !$0.isDisjoint(with: minimal.selected) }.count
        #expect(minimal.devAccuracy >= minimal.oracleDevAccuracy - 0.01)
        #expect(minimal.neurons <= 6 && covered >= minimal.neurons - 1, "\(minimal.neurons) neurons covering \(covered) groups")
    }
}
