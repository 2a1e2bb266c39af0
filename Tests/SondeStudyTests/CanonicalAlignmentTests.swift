import Foundation
import SondeBase
import SondeLinalg
import SondeProbe
import SondeSimilarity
import Testing

@testable import SondeStudy

/// The comparator's alignment and probe-subspace figures against a direct computation, on
/// planted ground truth, and under the changes of coordinates they must not notice.
struct CanonicalAlignmentTests {
    /// The data of benchmarks/references/alignment_reference.py.
    static let small: (x: Matrix<Float>, y: Matrix<Float>, weights: Matrix<Double>) = {
        let n = 300
        var x = Matrix<Float>(rows: n, columns: 6), y = Matrix<Float>(rows: n, columns: 4)
        for i in 0..<n {
            let r = Double(i + 1)
            for j in 0..<6 {
                let v = sin(0.37 * r * Double(j + 1)) + 0.5 * cos(0.11 * r * Double(j + 2))
                x[i, j] = Float(j == 5 ? v * 0.01 : v)
            }
            for k in 0..<4 { y[i, k] = Float(0.8 * Double(x[i, k]) + sin(0.23 * r * Double(k + 3))) }
        }
        let w = Matrix<Double>([[1, -2, 0.5, 0, 3, 10], [0.2, 1, -1, 2, 0, -5], [-1, 0, 0.3, 1, 1, 0]])
        return (x, y, w)
    }()

    func close(_ a: Double, _ b: Double, _ tolerance: Double = 1e-9) -> Bool { abs(a - b) <= tolerance * max(1, abs(b)) }

    /// Against numpy on the definitions (alignment_reference.py, numpy 2.x, float64 on the
    /// float32 data): plain CCA and SVCCA at 99% (X keeps 5 of 6 principal directions).
    @Test func matchesADirectComputation() throws {
        let (x, y, w) = Self.small
        let cca = try CanonicalAlignment.measure(x: x, y: y, neurons: [0, 2], probeWeights: w, directions: .all)
        #expect(cca.directions == 4 && cca.principalDirections == nil && !cca.degenerate)
        for (a, b) in zip(cca.correlations, [0.688328427040036, 0.659056883740525, 0.657026844874436, 0.648829299582584]) {
            #expect(close(a, b, 1e-8), "\(cca.correlations)")
        }
        #expect(close(cca.alignment, 0.4990590655696517, 1e-7) && close(cca.chance, 1.0 / 3))
        #expect(close(cca.nullSD, 0.14711761784715038, 1e-7) && close(cca.z!, 1.1264846091275154, 1e-6))
        let p = try #require(cca.probe)
        #expect(close(p.energy, 0.7008814437476584, 1e-7) && close(p.energyChance, 4.0 / 6))
        #expect(close(p.correlation, 0.6591914478723372, 1e-7) && close(p.correlationChance, 0.663310363809395, 1e-8))
        #expect(p.cosines.count == 2 && close(p.cosines[0], 0.999922516841832, 1e-7) && close(p.cosines[1], 0.807067100550259, 1e-7))
        #expect(p.inKeptComponents == nil)
        let byWeights = try CanonicalAlignment.measure(x: x, y: y, neurons: [0, 2], probeWeights: nil, directions: .all, by: .weights)
        #expect(close(byWeights.alignment, 0.450066106529266, 1e-7) && close(byWeights.z!, 1.208343297973979, 1e-6))

        let svcca = try CanonicalAlignment.measure(x: x, y: y, neurons: [0, 2], probeWeights: w, directions: .svcca(.variance(0.99)))
        #expect(svcca.principalDirections == [5, 4] && svcca.directions == 4)
        #expect(close(svcca.alignment, 0.4990570169675339, 1e-7) && close(svcca.z!, 1.1273080372021786, 1e-6))
        let q = try #require(svcca.probe)
        #expect(close(q.energy, 0.7012385549780272, 1e-7) && close(q.correlation, 0.6591723756251308, 1e-7))
        #expect(close(q.cosines[0], 0.999990302004709, 1e-7) && close(q.cosines[1], 0.807268331966648, 1e-7))
        #expect(close(q.inKeptComponents!, 0.9992149623551624, 1e-7) && close(q.inKeptComponentsChance!, 5.0 / 6))
        let leading = try CanonicalAlignment.measure(x: x, y: y, neurons: [0, 2], probeWeights: nil, directions: .leading(2, .variance(0.99)))
        #expect(leading.directions == 2 && leading.correlations == Array(svcca.correlations.prefix(2)))
    }

    /// Planted data (20,000 tokens × 128 neurons): a latent z drives neurons 0–7 of X, Y, and the
    /// labels; the probe's top 8 hold the shared directions (z ≫ 5). Then Y shares another latent,
    /// carried by X's neurons 20–27: the same top 8 sit within the null (|z| < 3).
    @Test func plantedLatentsAreFoundAndOthersAreNot() throws {
        var g = SplitMix64(seed: 39)
        func normal() -> Double {
            let u = max(g.unit(), 1e-300), v = g.unit()
            return (-2 * log(u)).squareRoot() * cos(2 * Double.pi * v)
        }
        let n = 20_000, d = 128, e = 32
        var x = Matrix<Float>(rows: n, columns: d), shared = Matrix<Float>(rows: n, columns: e), other = Matrix<Float>(rows: n, columns: e)
        var labels: [Int] = []
        for i in 0..<n {
            let z = [normal(), normal()], w = [normal(), normal()]
            for j in 0..<d {
                let latent = j < 8 ? z[j % 2] : (20..<28).contains(j) ? w[j % 2] : 0
                x[i, j] = Float(latent + 0.7 * normal())
            }
            for k in 0..<e {
                shared[i, k] = Float((k < 2 ? z[k] : 0) + 0.7 * normal())
                other[i, k] = Float((k < 2 ? w[k] : 0) + 0.7 * normal())
            }
            labels.append((z[0] > 0 ? 1 : 0) + (z[1] > 0 ? 2 : 0))
        }
        let probe = FittedProbe.fit(ProbeDataset(x: x, labels: labels, classes: ["a", "b", "c", "d"]), settings: ProbeSettings(penalty: .elasticNet(lambda: 0.01, alpha: 0.5)))
        let top = Array(Rankings.neuronOrdering(probe.standardizedWeights).ordering.prefix(8))
        #expect(Set(top) == Set(0..<8), "\(top)")
        let found = try CanonicalAlignment.measure(x: x, y: shared, neurons: top, probeWeights: probe.weights, directions: .svcca(.variance(0.99)), shuffles: 2)
        #expect(found.z! > 5, "\(found)")
        #expect(found.shuffled! < found.alignment && found.probe!.energy > 0.5 && found.probe!.energy > found.probe!.shuffledEnergy! + 0.3, "\(found)")
        let elsewhere = try CanonicalAlignment.measure(x: x, y: other, neurons: top, probeWeights: probe.weights, directions: .svcca(.variance(0.99)))
        #expect(abs(elsewhere.z!) < 3, "\(elsewhere)")
        #expect(elsewhere.probe!.energy < found.probe!.energy)
    }

    /// With plain CCA, rescaling one neuron (×1,000) changes neither the loadings alignment nor
    /// the probe's figures (its weight on that neuron ÷1,000, the same logits); the weights
    /// alignment is not meant to be invariant. (Neuron 5 is the one of small variance: scaled up,
    /// the spread of variances stays within what CCA's ε = 1e-10 × the largest keeps.)
    @Test(arguments: [5, 0])
    func rescalingANeuronChangesNothing(neuron: Int) throws {
        let (x, y, w) = Self.small
        let factor = neuron == 5 ? 1_000 : 0.001
        var scaledX = x, scaledW = w
        for i in 0..<x.rows { scaledX[i, neuron] *= Float(factor) }
        for c in 0..<w.rows { scaledW[c, neuron] /= factor }
        let a = try CanonicalAlignment.measure(x: x, y: y, neurons: [1, 5], probeWeights: w, directions: .all)
        let b = try CanonicalAlignment.measure(x: scaledX, y: y, neurons: [1, 5], probeWeights: scaledW, directions: .all)
        #expect(abs(a.alignment - b.alignment) < 1e-6 && abs(a.z! - b.z!) < 1e-5)
        let (p, q) = (a.probe!, b.probe!)
        #expect(abs(p.energy - q.energy) < 1e-6 && abs(p.correlation - q.correlation) < 1e-6)
        #expect(zip(p.cosines, q.cosines).allSatisfy { abs($0 - $1) < 1e-6 })
    }

    /// X against itself: every ρ is 1 and any basis of X's span is a set of canonical directions,
    /// so the alignment is reported as degenerate, without z.
    @Test func aRepresentationAgainstItselfIsDegenerate() throws {
        let (x, _, w) = Self.small
        let same = try CanonicalAlignment.measure(x: x, y: x, neurons: [0, 2], probeWeights: w, directions: .all)
        #expect(same.degenerate && same.z == nil && same.correlations.allSatisfy { $0 > 1 - 1e-6 } && !same.warnings.isEmpty)
        // Every direction correlates perfectly, so the probe's logits lie wholly in the span.
        #expect(abs(same.probe!.energy - 1) < 1e-9)
    }
}
