import Foundation
import SondeLinalg
import SondeProbe
import Testing
@testable import SondeStudy

/// The comparator's definitions on cases with known answers.
struct ComparatorDefinitionTests {
    @Test func rankingOverlap() {
        #expect(Comparator.jaccard([1, 2, 3, 4], [3, 2, 9, 8], k: 2) == 1.0 / 3.0)
        #expect(Comparator.rankCorrelation([0, 1, 2, 3, 4], [0, 1, 2, 3, 4]) == 1)
        #expect(Comparator.rankCorrelation([0, 1, 2, 3, 4], [4, 3, 2, 1, 0]) == -1)
        // One swap of neighbours among 4: Σd² = 2, ρ = 1 − 6·2 / (4·15) = 0.8.
        #expect(abs(Comparator.rankCorrelation([0, 1, 2, 3], [1, 0, 2, 3]) - 0.8) < 1e-12)
    }

    @Test func alignmentAndEnergy() throws {
        // Directions e₀ (ρ = 0.9) and (e₁ + e₂)/√2 (ρ = 0.3) in 4 neurons; salient {0, 1}:
        // masses 1 and ½, so A = (0.9·1 + 0.3·0.5) / 1.2.
        let s = 1 / 2.0.squareRoot()
        let directions = Matrix<Double>([[1, 0, 0, 0], [0, s, s, 0]])
        #expect(abs(Comparator.alignment(salient: [0, 1], directions: directions, correlations: [0.9, 0.3]) - 1.05 / 1.2) < 1e-12)
        // Weights (1, 1, −1, 2): ‖W‖² = 7; its projection on span{e₀, (e₁+e₂)/√2} is 1 + 0 = 1.
        let weights = Matrix<Double>([[1, 1, -1, 2]])
        #expect(abs(try Comparator.energyInSpan(weights, directions: directions) - 1.0 / 7.0) < 1e-12)
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
