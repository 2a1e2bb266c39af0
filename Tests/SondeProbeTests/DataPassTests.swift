import Foundation
import SondeBase
import Testing

@testable import SondeLinalg
@testable import SondeProbe

/// The solver's data pass (Solver+DataPass.swift) against the softmax written out row by row in
/// Double, and the class weights that balance the curvature sample.
@Suite struct DataPassTests {
    /// 9,000 rows (more than one block of 4,096, two segments), 6 classes, at mixed weights.
    @Test func thePassByHand() {
        let data = PlantedData(samples: 9_000, neurons: 7, classes: 6, planted: 2, copies: 1, seed: 4).dataset
        let problem = ProbeProblem(data, standardize: true)
        let (n, c, d) = (problem.n, problem.c, problem.d)
        let w: [Double] = (0..<(c * d)).map { 0.4 * sin(Double($0) * 1.3) }
        let b: [Double] = (0..<c).map { 0.2 * Double($0) - 0.5 }
        let gamma: [Double] = (0..<c).map { 1 + Double($0) }
        let pass = problem.evaluate(w: w, b: b, gradient: true, classWeights: gamma, workers: 2)
        var loss = 0.0
        var interceptGradient = [Double](repeating: 0, count: c)
        var classCurvature = [Double](repeating: 0, count: c)
        var largestRowError = 0.0
        for i in 0..<n {
            let logits = (0..<c).map { k in (0..<d).reduce(b[k]) { $0 + w[k * d + $1] * Double(problem.x[i, $1]) } }
            let top = logits.max()!
            let total = logits.reduce(0.0) { $0 + exp($1 - top) }
            let p = logits.map { exp($0 - top) / total }
            let label = Int(problem.y[i])
            loss -= log(p[label])
            var row = 0.0
            for k in 0..<c {
                interceptGradient[k] += p[k] - (k == label ? 1 : 0)
                classCurvature[k] += p[k] * (1 - p[k])
                row += gamma[k] * p[k] * (1 - p[k])
            }
            largestRowError = max(largestRowError, abs(pass.curvature[i] - row) / row)
        }
        // Float logits (sgemm): 1e-5 relative.
        #expect(abs(pass.loss - loss / Double(n)) <= 1e-5 * loss / Double(n))
        #expect(largestRowError <= 1e-4)
        for k in 0..<c {
            #expect(abs(pass.interceptGradient[k] - interceptGradient[k] / Double(n)) <= 1e-6)
            #expect(abs(pass.classCurvature[k] - classCurvature[k] / Double(n)) <= 1e-5 * classCurvature[k] / Double(n))
        }
    }

    /// γ_c·C_c is the same for every class (their mean), except where C_c is below 1e-3 of
    /// the mean: there γ_c is 1,000.
    @Test func balancingWeightsEqualiseTheClasses() {
        let pass = ProbeProblem.Evaluation(loss: 0, gradient: [], interceptGradient: [], curvature: [], classCurvature: [0.2, 0.05, 1e-6, 0.15])
        let mean = (0.2 + 0.05 + 1e-6 + 0.15) / 4
        let gamma = pass.balancingWeights
        for k in [0, 1, 3] { #expect(abs(gamma[k] * pass.classCurvature[k] - mean) <= 1e-15) }
        #expect(abs(gamma[2] - 1_000) <= 1e-9)
        let none = ProbeProblem.Evaluation(loss: 0, gradient: [], interceptGradient: [], curvature: [], classCurvature: [0, 0])
        #expect(none.balancingWeights == [1, 1])
    }
}
