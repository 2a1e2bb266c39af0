import Foundation
import SondeBase
import SondeLinalg
import SondeProbe
import SondeSimilarity
import Testing

@testable import SondeStudy

/// The comparator's definitions on cases with known answers.
struct ComparatorDefinitionTests {
    @Test func alignment() throws {
        // Directions e₀ (ρ = 0.9) and (e₁ + e₂)/√2 (ρ = 0.3) in 4 neurons; salient {0, 1}:
        // masses 1 and ½, so A = (0.9·1 + 0.3·0.5) / 1.2.
        let s = 1 / 2.0.squareRoot()
        let directions = Matrix<Double>([[1, 0, 0, 0], [0, s, s, 0]])
        let a = Comparator.alignment(salient: [0, 1], directions: directions, correlations: [0.9, 0.3])
        #expect(abs(a.value - 1.05 / 1.2) < 1e-12 && a.chance == 0.5)
        // The exact null against every 2-set of the 4 neurons (brute force): mean and SD.
        let sets = [[0, 1], [0, 2], [0, 3], [1, 2], [1, 3], [2, 3]]
        let values = sets.map { Comparator.alignment(salient: $0, directions: directions, correlations: [0.9, 0.3]).value }
        let mean = values.reduce(0, +) / 6
        let sd = (values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / 6).squareRoot()
        #expect(abs(mean - a.chance) < 1e-12 && abs(sd - a.nullSD) < 1e-12)
        #expect(abs(a.z! - (a.value - 0.5) / sd) < 1e-12)
        // Rows that are not unit vectors count by their shares: the same directions scaled give the same A.
        let scaled = Matrix<Double>([[3, 0, 0, 0], [0, 0.1, 0.1, 0]])
        #expect(abs(Comparator.alignment(salient: [0, 1], directions: scaled, correlations: [0.9, 0.3]).value - a.value) < 1e-12)
    }

    /// Directions that weigh every neuron alike (an orthonormal basis of all D neurons with
    /// equal ρ: a layer against itself): A = k/D for every set, and no z.
    @Test func alignmentAgainstItselfIsUninformative() {
        let d = 6
        let basis = Matrix<Double>.identity(d)
        let a = Comparator.alignment(salient: [1, 4], directions: basis, correlations: Array(repeating: 1, count: d))
        #expect(abs(a.value - 2.0 / 6) < 1e-12 && a.nullSD < 1e-12 && a.z == nil)
    }

    @Test func concentration() {
        let oneHot = Matrix<Float>([[0, 3, 0, 0], [-2, 0, 0, 0]])
        #expect(abs(Comparator.concentration(oneHot) - 1) < 1e-12)
        let uniform = Matrix<Float>([[1, 1, 1, 1]])
        #expect(abs(Comparator.concentration(uniform) - 0.5) < 1e-12)
    }

    @Test func tokensSplitBySentence() {
        let sentences = (0..<10).map { s in [(word: "w\(s)", label: s % 2 == 0 ? "A" : "B"), (word: "x", label: "A")] }
        let tokens = StudyTokens(property: "test", sentences: sentences)
        #expect(tokens.testRows == [8, 9, 18, 19] && tokens.devRows == [6, 7, 16, 17])
        #expect(tokens.trainRows.count == 12 && Set(tokens.trainRows).isDisjoint(with: tokens.testRows + tokens.devRows))
    }
}

/// The alignment on planted data where the answer is known (through the real SVCCA): a layer Y
/// that shares neurons 0–3 of X almost exactly and the rest only through noise.
struct PlantedAlignmentTests {
    func layers(rotate: Bool) throws -> (x: Matrix<Float>, y: Matrix<Float>) {
        var g = SplitMix64(seed: 7)
        func normal() -> Double {
            let u = max(g.unit(), 1e-300), v = g.unit()
            return (-2 * log(u)).squareRoot() * cos(2 * Double.pi * v)
        }
        let n = 4_000, d = 24
        // Distinct scales, so that SVCCA's principal axes are the neurons themselves.
        let scales = (0..<d).map { 3.0 - Double($0) * 0.1 }
        var x = Matrix<Float>(rows: n, columns: d), y = Matrix<Float>(rows: n, columns: d)
        for r in 0..<n {
            for j in 0..<d {
                let v = scales[j] * normal()
                x[r, j] = Float(v)
                // Neurons 0–3 carried over with little noise (ρ ≈ 1), the others drowned (ρ ≈ 0.1).
                y[r, j] = Float(j < 4 ? v + 0.05 * scales[j] * normal() : 0.1 * v + scales[j] * normal())
            }
        }
        guard rotate else { return (x, y) }
        // A random rotation of X's neurons: the shared directions no longer sit on single neurons.
        let q = try Matrix<Double>(rows: d, columns: d) { p in for i in 0..<p.count { p[i] = normal() } }.qr().q
        return (Matrix.product(x, q.converted(to: Float.self)), y)
    }

    @Test func salientNeuronsOnTheSharedDirections() throws {
        let (x, y) = try layers(rotate: false)
        let svcca = try Similarity.svcca(try JointMoments(x: x, y: y), keep: .variance(0.99))
        let directions = svcca.cca.directionsX()
        let on = Comparator.alignment(salient: [0, 1, 2, 3], directions: directions, correlations: svcca.cca.coefficients)
        let off = Comparator.alignment(salient: [10, 11, 12, 13], directions: directions, correlations: svcca.cca.coefficients)
        // On the shared neurons: ρ ≈ 1 for 4 directions against ~0.1 for 20, so A ≈ 4/(4 + 20·0.1) ≈ 0.6 ≫ 4/24.
        #expect(on.value > 0.5 && on.z! > 3, "\(on)")
        // Off them: below chance (their directions correlate least), never above.
        #expect(off.value < off.chance && off.z! < 0, "\(off)")
    }

    @Test func rotatedNeuronsAreAtChance() throws {
        let (x, y) = try layers(rotate: true)
        let svcca = try Similarity.svcca(try JointMoments(x: x, y: y), keep: .variance(0.99))
        let directions = svcca.cca.directionsX()
        // Every neuron now mixes all directions: any 4 neurons sit within the null spread.
        for set in [[0, 1, 2, 3], [5, 9, 17, 20]] {
            let a = Comparator.alignment(salient: set, directions: directions, correlations: svcca.cca.coefficients)
            #expect(abs(a.z ?? 0) < 3.5, "\(a)")
        }
    }
}

/// The concatenated-neuron → layer mapping, against a brute force over the offsets.
@Test func layerOfConcatenatedNeurons() {
    let widths = [3, 1, 4]
    let expected = widths.enumerated().flatMap { l, w in Array(repeating: l, count: w) }
    #expect((0..<8).map { layerOfConcatenatedNeuron($0, widths: widths) } == expected)
}
