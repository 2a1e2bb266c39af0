import Foundation
import SondeBase
import SondeLinalg
import Testing

@testable import SondeSimilarity

/// Mutual k-NN and CKNNA against the reference (benchmarks/references/erasure_rankers_reference.py:
/// Huh et al.'s metrics.py definitions on L2-normalised rows, cross-checked there by brute-force
/// loops and by their functions transcribed to torch in float64, agreeing to 5e-16).
struct NeighbourTests {
    /// A[i][j] = sin(0.5i + 1.1j + 0.2) + 0.3cos(1.7i(j+1)) (10 × 3, Float); B's first three
    /// columns A + 0.4sin(2.3i + 0.9j), its fourth cos(0.8i + 0.5) (Float).
    static let (a, b): (Matrix<Float>, Matrix<Float>) = {
        var a = Matrix<Float>(rows: 10, columns: 3), b = Matrix<Float>(rows: 10, columns: 4)
        for i in 0..<10 {
            let r = Double(i)
            for j in 0..<3 {
                a[i, j] = Float(sin(0.5 * r + 1.1 * Double(j) + 0.2) + 0.3 * cos(1.7 * r * Double(j + 1)))
                b[i, j] = Float(Double(a[i, j]) + 0.4 * sin(2.3 * r + 0.9 * Double(j)))
            }
            b[i, 3] = Float(cos(0.8 * r + 0.5))
        }
        return (a, b)
    }()
    /// B's rows permuted: row i is B's row (3i + 1) mod 10.
    static let shuffledB = b.rows((0..<10).map { (3 * $0 + 1) % 10 })

    @Test func mutualKNNMatchesTheReference() {
        #expect(abs(NeighbourAlignment.mutualKNN(x: Self.a, y: Self.b, k: 3) - 0.9) < 1e-12)  // 27 of 30 neighbours shared
        #expect(abs(NeighbourAlignment.mutualKNN(x: Self.a, y: Self.shuffledB, k: 3) - 0.1) < 1e-12)
    }

    @Test func cknnaMatchesTheReference() {
        #expect(abs(NeighbourAlignment.cknna(x: Self.a, y: Self.b, k: 3) - 0.9601268660067719) < 1e-10)
        #expect(abs(NeighbourAlignment.cknna(x: Self.a, y: Self.shuffledB, k: 3) - 0.0020855415291380942) < 1e-10)
    }

    /// Through the registry (the rows, not the moments), identical representations score 1 (CKNNA
    /// just under: its 1e-6 in the denominator against a self-similarity of order k/n²) and a
    /// shuffled pairing far less.
    @Test func registeredMeasuresReadTheRows() throws {
        var generator = SplitMix64(seed: 3)
        let x = Matrix<Float>(rows: 300, columns: 8, elements: (0..<2400).map { _ in Float(generator.normal()) })
        let moments = try JointMoments(x: x, y: x)
        for name in ["mutual-knn", "cknna"] {
            let measure = try #require(SimilarityMeasures.named(name))
            let same = try measure.value(moments, x: x, y: x)
            #expect(same <= 1 + 1e-12 && same > (name == "cknna" ? 0.95 : 1 - 1e-12), "\(name): \(same)")
            #expect(throws: SimilarityError.self) { try measure.value(moments) }
        }
        let shuffled = NeighbourAlignment.shuffled(x: x, y: x, seeds: 2) { NeighbourAlignment.mutualKNN(x: $0, y: $1) }
        #expect(shuffled.allSatisfy { $0 < 0.2 })
    }
}
