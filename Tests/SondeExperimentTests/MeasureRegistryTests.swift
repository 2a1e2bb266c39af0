import Foundation
import SondeLinalg
import SondeProbe
import SondeSimilarity
import SondeStudy
import Testing

@testable import SondeExperiment

/// A measure a user adds: the mean squared cross-covariance, trace(ΣxyᵀΣxy)/(p·q) — a number
/// the test can compute by hand from the data.
struct ToyMeasure: SimilarityMeasure {
    var name: String { "toy" }
    var title: String { "toy cross-covariance" }
    func value(_ moments: JointMoments) throws -> Double {
        var sum = 0.0
        for i in 0..<moments.p { for j in 0..<moments.q { sum += moments.sxy[i, j] * moments.sxy[i, j] } }
        return sum / Double(moments.p * moments.q)
    }
}

/// A measure registered once reaches the dynamics rows (and their JSON, read back) and the report.
struct MeasureRegistryTests {
    @Test func aRegisteredMeasureReachesDynamicsAndTheReport() throws {
        SimilarityMeasures.register(ToyMeasure())
        let measures = try SimilarityMeasures.list("svcca,toy")
        #expect(measures.map(\.name) == ["svcca", "toy"])
        #expect(throws: SimilarityError.self) { try SimilarityMeasures.list("svcca,nothing") }

        // Two sentences' worth of tokens repeated: 60 tokens, 3 neurons, two labels.
        let sentences = (0..<30).map { s in [(word: "w\(s % 4)", label: s % 2 == 0 ? "A" : "B"), (word: "v\(s % 3)", label: "B")] }
        let tokens = StudyTokens(property: "toy", sentences: sentences)
        let n = tokens.labels.count
        var xs: [Float] = [], ys: [Float] = []
        for i in 0..<n {
            for j in 0..<3 {
                let planted: Double = tokens.labels[i] == "A" && j == 0 ? 2 : 0
                let value = sin(Double(i * (j + 2))) + planted
                xs.append(Float(value))
                ys.append(Float(cos(Double(i + 3 * j)) + value))
            }
        }
        let x = Matrix<Float>(rows: n, columns: 3, elements: xs), y = Matrix<Float>(rows: n, columns: 3, elements: ys)
        let dynamics = try Comparator.dynamics(
            checkpoints: [("a", [x]), ("b", [y])], reference: [y], layerNames: ["layer0"], tokens: tokens, k: 2, measures: measures,
            settings: ProbeSettings(penalty: .elasticNet(lambda: 0.01, alpha: 0.5)))
        #expect(dynamics.measures == ["svcca", "toy"])

        // The toy value by hand: the sample cross-covariance (n − 1) of x and y.
        func mean(_ m: Matrix<Float>, _ j: Int) -> Double {
            var sum = 0.0
            for i in 0..<n { sum += Double(m[i, j]) }
            return sum / Double(n)
        }
        var expected = 0.0
        for a in 0..<3 {
            for b in 0..<3 {
                let (mx, my) = (mean(x, a), mean(y, b))
                var c = 0.0
                for i in 0..<n { c += (Double(x[i, a]) - mx) * (Double(y[i, b]) - my) }
                c /= Double(n - 1)
                expected += c * c
            }
        }
        let toy = try #require(dynamics.rows[0].similarity["toy"])
        #expect(abs(toy - expected / 9) <= 1e-6 * max(1, expected / 9), "\(toy) vs \(expected / 9)")

        let json = try JSONEncoder().encode(dynamics)
        #expect(String(decoding: json, as: UTF8.self).contains("\"toy\":"))
        let back = try JSONDecoder().decode(Dynamics.self, from: json)
        #expect(back.rows[1].similarity == dynamics.rows[1].similarity && back.rows[1].svccaDirections == dynamics.rows[1].svccaDirections)

        let page = ExperimentReport.dynamicsCharts(dynamics, references: [], property: "toy", k: 2)
        #expect(page.contains("toy cross-covariance") && page.contains("SVCCA"))
    }
}
