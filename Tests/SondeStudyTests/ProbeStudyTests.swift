import Foundation
import SondeLinalg
import SondeProbe
import Testing

@testable import SondeStudy

/// The probe study on planted data: splits, control task, selectivity, rankings, warnings.
struct ProbeStudyTests {
    let planted = PlantedData(samples: 900, neurons: 8, classes: 3, planted: 2, copies: 0, seed: 9)

    func splits(words: Bool) -> [ProbeStudy.Split] {
        let d = planted.dataset
        // Words: each class has its own few word types, so the control task is learnable but random.
        let vocabulary = (0..<d.count).map { "w\(d.labels[$0] * 5 + $0 % 5)" }
        func split(_ name: String, _ rows: Range<Int>) -> ProbeStudy.Split {
            ProbeStudy.Split(
                name: name, data: ProbeDataset(x: d.x.rows(rows), labels: Array(d.labels[rows]), classes: d.classes),
                words: words ? Array(vocabulary[rows]) : nil)
        }
        return [split("train", 0..<600), split("dev", 600..<750), split("test", 750..<900)]
    }

    @Test func aGoodProbe() {
        let result = ProbeStudy.run(splits(words: true), fit: .penalty(ProbeSettings(penalty: .elasticNet(lambda: 0.01, alpha: 0.5))))
        let test = result.splits["test"]!
        #expect(test.accuracy > test.majorityBaseline + 0.2 && result.warnings.isEmpty, "\(result.warnings)")
        #expect(abs(test.selectivity! - (test.accuracy - test.controlAccuracy!)) < 1e-15)
        // The planted neurons lead the ranking; ranked + unranked cover every neuron once.
        #expect(Set(result.ranking.prefix(2)) == Set(planted.planted))
        #expect(Set(result.ranking + result.unranked) == Set(0..<8) && result.ranking.count + result.unranked.count == 8)
    }

    @Test func aPathChoosesOnDevAndEmptyProbesAreNamed() {
        let path = ProbeStudy.run(
            splits(words: false), fit: .path(alpha: 0.5, count: 6, minRatio: 1e-2, folds: 0, standardize: true, tolerance: 1e-4))
        #expect(path.path != nil && path.splits["dev"]!.controlAccuracy == nil)
        let empty = ProbeStudy.run(splits(words: false), fit: .penalty(ProbeSettings(penalty: .elasticNet(lambda: 100, alpha: 1))))
        #expect(empty.ranking.isEmpty && empty.warnings.contains { $0.contains("no neuron has a nonzero weight") })
        #expect(empty.warnings.contains { $0.hasPrefix("dev accuracy") && $0.contains("does not beat the majority baseline") })
    }
}

/// The redundancy study on planted data with noisy copies: copies cluster with their neuron,
/// one neuron per cluster keeps the accuracy, and the minimal set is reached and small.
@Test func neuronRedundancyOnPlantedCopies() throws {
    let planted = PlantedData(samples: 1_500, neurons: 12, classes: 3, planted: 2, copies: 2, seed: 4)
    let d = planted.dataset
    // 300 "sentences" of 5 tokens (the study splits by sentence: every fourth dev, fifth test).
    let sentences = stride(from: 0, to: d.count, by: 5).map { s in (s..<(s + 5)).map { (word: "w\($0 % 7)", label: d.classes[d.labels[$0]]) } }
    let tokens = StudyTokens(property: "planted", sentences: sentences)
    let second = Matrix<Float>(rows: d.x.rows, columns: d.x.columns) { p in
        d.x.withUnsafeBufferPointer { x in for i in 0..<p.count { p[i] = 2 * x[i] } }
    }
    let result = try NeuronRedundancy.analyze(
        layers: [d.x, second], names: ["layer0", "layer1"], tokens: tokens, settings: ProbeSettings(penalty: .elasticNet(lambda: 1e-3, alpha: 0.5)),
        threshold: 0.3, delta: 0.02)
    for layer in result.layers {
        #expect(layer.clusters < layer.neurons && layer.largestCluster >= 3, "\(layer)")
        // Each planted neuron with its two copies is one cluster, named by its members.
        for (neuron, copies) in zip(planted.planted, planted.copies) {
            #expect(layer.clusterMembers.contains { Set($0).isSuperset(of: [neuron] + copies) }, "\(layer.clusterMembers)")
        }
        #expect(layer.accuracyOnePerCluster >= layer.accuracy - 0.03, "\(layer)")
    }
    #expect(result.minimal.reached && result.minimal.neurons <= 6 && result.minimalByLayer.values.reduce(0, +) == result.minimal.neurons)
    #expect(abs(result.layerRedundancy.cka[0][1] - 1) < 1e-9)  // layer1 = 2 × layer0: CKA is 1
}

/// A fit stopped before its KKT tolerance: doubted without a certificate, certified with a
/// duality gap within 1e-6 of the optimum, doubted again with a loose one.
@Test func aCertificateQualifiesTheConvergenceWarning() {
    let data = PlantedData(samples: 300, neurons: 8, classes: 3, planted: 2, copies: 1, seed: 4).dataset
    let probe = FittedProbe.fit(data, settings: ProbeSettings(penalty: .elasticNet(lambda: 1e-2, alpha: 0.5), tolerance: 1e-14, maxIterations: 1))
    #expect(!probe.diagnostics.converged)
    let plain = ProbeStudy.warnings(probe, splits: [:])
    // A certificate within 1e-6: that of a fit converged far tighter.
    let converged = FittedProbe.fit(
        data, settings: ProbeSettings(penalty: .elasticNet(lambda: 1e-2, alpha: 0.5), tolerance: 1e-10, maxIterations: 5000))
    let tight = ProbeStudy.warnings(probe, splits: [:], certificate: converged.dualityGap(data))
    let loose = ProbeStudy.warnings(probe, splits: [:], certificate: probe.dualityGap(data))
    #expect(plain.contains { $0.contains("not the optimum") } && loose == plain)
    #expect(tight.contains { $0.contains("certifies") } && !tight.contains { $0.contains("not the optimum") })
}

/// A --gap target below what the Float arithmetic can certify: the fit stops at the first
/// tighter round that stalls (not converged) instead of tightening to 1e-14, and the warnings
/// say the target was missed; a target the fit meets brings no such warning.
@Test func aMissedGapTargetIsSaid() {
    let data = PlantedData(samples: 300, neurons: 8, classes: 3, planted: 2, copies: 1, seed: 4).dataset
    let penalty = Penalty.elasticNet(lambda: 1e-2, alpha: 0.5)
    let missed = FittedProbe.fit(data, settings: ProbeSettings(penalty: penalty, tolerance: 1e-2, gap: 1e-30))
    let certificate = missed.dualityGap(data)!
    #expect(!missed.diagnostics.converged && certificate.gap > 1e-30)
    #expect(ProbeStudy.warnings(missed, splits: [:], certificate: certificate).contains { $0.contains("did not reach the --gap target") })
    let met = FittedProbe.fit(data, settings: ProbeSettings(penalty: penalty, tolerance: 1e-2, gap: 1e-6))
    let metCertificate = met.dualityGap(data)!
    #expect(metCertificate.gap <= 1e-6)
    #expect(!ProbeStudy.warnings(met, splits: [:], certificate: metCertificate).contains { $0.contains("--gap target") })
}
