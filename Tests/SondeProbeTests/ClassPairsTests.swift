import Foundation
import SondeBase
import Testing

@testable import SondeLinalg
@testable import SondeProbe

/// The Newton model's classes solved two at a time (Solver+Newton.swift), against the
/// definitions written out in Double and against the classes solved one after another.
@Suite struct ClassPairsTests {
    /// Ten classes at the point a loose fit reaches, where most tokens are confident and most
    /// pairs of classes barely share a token; the curvature sample (all rows) and the working set
    /// of every neuron.
    func setting() -> (ProbeProblem, ProbeProblem.CurvatureSample, ProbeProblem.WorkingSet, w: [Double], b: [Double]) {
        let data = PlantedData(samples: 2_000, neurons: 10, classes: 10, planted: 4, copies: 1, separation: 3, seed: 7).dataset
        let problem = ProbeProblem(data, standardize: true)
        let fit = problem.solve(
            penalty: .elasticNet(lambda: 1e-3, alpha: 0.5), tolerance: 1e-2, maxIterations: 50, start: nil, targetObjective: nil, workers: 1)
        let e = problem.evaluate(w: fit.w, b: fit.b, gradient: true, workers: 1)
        let sample = problem.curvatureSample(e, w: fit.w, b: fit.b)
        return (problem, sample, problem.workingSet(Array(0..<problem.d), sample: sample), fit.w, fit.b)
    }

    func pairs(_ problem: ProbeProblem, _ sample: ProbeProblem.CurvatureSample) -> [[Int]] {
        let (m, c) = (sample.count, problem.c)
        var p = [Double](repeating: 0, count: m * c)  // class-major, as the model step keeps it
        for t in 0..<m { for k in 0..<c { p[k * m + t] = sample.probabilities[t * c + k] } }
        var weights = sample.weights
        return p.withUnsafeMutableBufferPointer { p in
            weights.withUnsafeMutableBufferPointer { w in problem.classPairs(probabilities: p, weights: w, count: m) }
        }
    }

    /// Every class once, in groups of one or two; a pair only where Σ_t ω_t p_ta p_tb is at most
    /// `pairLimit` of √(Σ_t ω_t p_ta(1 − p_ta) · Σ_t ω_t p_tb(1 − p_tb)), summed here row by row.
    @Test func pairsAreWeaklyCoupledAndCoverEveryClass() {
        let (problem, sample, _, _, _) = setting()
        let c = problem.c
        let groups = pairs(problem, sample)
        #expect(groups.flatMap { $0 }.sorted() == Array(0..<c))
        #expect(groups.allSatisfy { $0.count == 1 || $0.count == 2 })
        #expect(groups.count { $0.count == 2 } >= 2, "the setting must pair classes: \(groups)")
        func own(_ a: Int) -> Double {
            (0..<sample.count).reduce(0.0) { $0 + sample.weights[$1] * sample.probabilities[$1 * c + a] * (1 - sample.probabilities[$1 * c + a]) }
        }
        for group in groups where group.count == 2 {
            let (a, b) = (group[0], group[1])
            let cross = (0..<sample.count).reduce(0.0) {
                $0 + sample.weights[$1] * sample.probabilities[$1 * c + a] * sample.probabilities[$1 * c + b]
            }
            #expect(cross <= ProbeProblem.pairLimit * (own(a) * own(b)).squareRoot() * (1 + 1e-9), "pair \(group)")
        }
    }

    /// The model ⟨g, Δ⟩ + ½ΔᵀHΔ + P(W + Δ) − P(W), with H dense from its definition: at the step
    /// solved in pairs and at the step solved class by class, within the 1% at which the rounds
    /// stop of its minimum found by accelerated proximal gradient on the dense H (FISTA, 2,000
    /// steps: 2e-6 from its value after 4,000). In pairs, the step is the same to the bit on one or two threads.
    @Test func pairedStepsMinimiseTheModel() {
        let (problem, sample, set, w, b) = setting()
        let (c, d, e) = (problem.c, problem.d, set.size + 1)
        let penalty = Penalty.elasticNet(lambda: 1e-4, alpha: 0.5)
        let (k1, k2) = penalty.coefficients(at: w)
        let evaluation = problem.evaluate(w: w, b: b, gradient: true, workers: 1)
        let blocks = problem.hessianBlocks(sample: sample, set: set, workers: 1)
        // Inside `owned`, as in a solve: OpenBLAS's own threads would sum the gemvs in another order.
        let steps = [(true, 1), (true, 2), (false, 2)].map { paired, workers in
            BLASThreads.owned { _ in
                problem.modelStep(
                    g: evaluation.gradient, gb: evaluation.interceptGradient, w: w, b: b, set: set, blocks: blocks, sample: sample,
                    scale: 1, rho: 0, k1: k1, k2: k2, tolerance: 1e-10, paired: paired, workers: workers)
            }
        }
        #expect(steps[0].w == steps[1].w && steps[0].b == steps[1].b)
        // The model over V = (W + Δ, b + Δb), class-major with the intercept last in each class.
        let n = c * e
        let h = ConjugateStartTests().denseHessian(sample, set, classes: c)
        let origin = (0..<n).map { i in i % e < d ? w[(i / e) * d + i % e] : b[i / e] }
        let gradient = (0..<n).map { i in i % e < d ? evaluation.gradient[(i / e) * d + i % e] : evaluation.interceptGradient[i / e] }
        func penaltyValue(_ v: [Double]) -> Double {
            (0..<n).reduce(0.0) { $0 + ($1 % e < d ? k1 * abs(v[$1]) + k2 / 2 * v[$1] * v[$1] : 0) }
        }
        let flat = h.flatMap { $0 }
        /// H·(v − origin), in plain loops (the test runs in a debug build).
        func product(_ v: [Double]) -> [Double] {
            var out = [Double](repeating: 0, count: n)
            flat.withUnsafeBufferPointer { h in
                for i in 0..<n {
                    var sum = 0.0
                    for j in 0..<n { sum += h[i * n + j] * (v[j] - origin[j]) }
                    out[i] = sum
                }
            }
            return out
        }
        func model(_ v: [Double]) -> Double {
            let hd = product(v)
            var value = penaltyValue(v) - penaltyValue(origin)
            for i in 0..<n { value += (gradient[i] + 0.5 * hd[i]) * (v[i] - origin[i]) }
            return value
        }
        // H's largest eigenvalue by power iteration, then FISTA with step 1/L.
        var power = [Double](repeating: 1, count: n)
        var top = 0.0
        for _ in 0..<200 {
            let next = product(zip(power, origin).map { $0 + $1 })
            top = next.reduce(0.0) { $0 + $1 * $1 }.squareRoot()
            power = next.map { $0 / top }
        }
        let step = 1 / (1.01 * top)
        var (v, y, t) = (origin, origin, 1.0)
        for _ in 0..<2_000 {
            let hd = product(y)
            var next = [Double](repeating: 0, count: n)
            for i in 0..<n {
                let z = y[i] - step * (gradient[i] + hd[i])
                next[i] = i % e < d ? (z > 0 ? 1 : -1) * max(abs(z) - step * k1, 0) / (1 + step * k2) : z
            }
            let tNext = (1 + (1 + 4 * t * t).squareRoot()) / 2
            for i in 0..<n { y[i] = next[i] + (t - 1) / tNext * (next[i] - v[i]) }
            (v, t) = (next, tNext)
        }
        let minimum = model(v)
        for step in [steps[0], steps[2]] {
            let value = model((0..<n).map { i in i % e < d ? step.w[(i / e) * d + i % e] : step.b[i / e] })
            #expect(value < 0 && value >= minimum - 1e-9 * abs(minimum) && value <= minimum + 0.01 * abs(minimum), "\(value) vs \(minimum)")
        }
    }

    /// A whole fit with pairs is the same on any number of threads.
    @Test func theSameFitOnAnyNumberOfThreads() {
        let (problem, _, _, _, _) = setting()
        let fits = [1, 2, 3].map { workers in
            BLASThreads.owned { _ in
                problem.solve(
                    penalty: .neurox(l1: 1e-4, l2: 1e-4), tolerance: 1e-4, maxIterations: 200, start: nil, targetObjective: nil, workers: workers)
            }
        }
        #expect(fits[0].converged && fits[0].iterations > 1)
        for fit in fits.dropFirst() { #expect(fit.w == fits[0].w && fit.b == fits[0].b && fit.iterations == fits[0].iterations) }
    }
}
