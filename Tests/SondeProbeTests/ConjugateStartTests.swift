import Foundation
import SondeBase
import Testing

@testable import SondeLinalg
@testable import SondeProbe

/// The conjugate-gradient start of the Newton model (Solver+Conjugate.swift), against dense
/// computations in Double written out from the definitions.
@Suite struct ConjugateStartTests {
    /// A small problem at a point with nonzero weights, its curvature sample (all rows) and the
    /// working set of every neuron.
    func setting() -> (ProbeProblem, ProbeProblem.CurvatureSample, ProbeProblem.WorkingSet, w: [Double], b: [Double]) {
        let data = PlantedData(samples: 300, neurons: 5, classes: 4, planted: 2, copies: 1, seed: 3).dataset
        let problem = ProbeProblem(data, standardize: true)
        let (c, d) = (problem.c, problem.d)
        // Mixed signs and a few exact zeros.
        let w: [Double] = (0..<(c * d)).map { k in k % 7 == 3 ? 0 : 0.3 * sin(Double(k) * 1.7) }
        let b = (0..<c).map { 0.1 * Double($0) }
        let e = problem.evaluate(w: w, b: b, gradient: true, workers: 1)
        let sample = problem.curvatureSample(e, w: w, b: b)
        let set = problem.workingSet(Array(0..<d), sample: sample)
        return (problem, sample, set, w, b)
    }

    /// H = Σ_t ω_t (diag p_t − p_t p_tᵀ) ⊗ x̃_t x̃_tᵀ as a dense (C·e)² matrix, class-major.
    func denseHessian(_ sample: ProbeProblem.CurvatureSample, _ set: ProbeProblem.WorkingSet, classes c: Int) -> [[Double]] {
        let e = set.size + 1
        var h = [[Double]](repeating: [Double](repeating: 0, count: c * e), count: c * e)
        for t in 0..<sample.count {
            let p = (0..<c).map { sample.probabilities[t * c + $0] }
            let x = (0..<e).map { Double(set.x[t, $0]) }
            for k in 0..<c {
                for l in 0..<c {
                    let a = sample.weights[t] * ((k == l ? p[k] : 0) - p[k] * p[l])
                    for i in 0..<e { for j in 0..<e { h[k * e + i][l * e + j] += a * x[i] * x[j] } }
                }
            }
        }
        return h
    }

    @Test func theHessianProductIsTheKroneckerSum() {
        let (problem, sample, set, _, _) = setting()
        let c = problem.c
        let e = set.size + 1
        let h = denseHessian(sample, set, classes: c)
        let v: [Double] = (0..<(c * e)).map { cos(Double($0) * 0.9) }
        for workers in [1, 2] {
            let product = ModelOperator(problem: problem, set: set, sample: sample, workers: workers).hessianProduct(v)
            let expected: [Double] = h.map { row in zip(row, v).reduce(0.0) { $0 + $1.0 * $1.1 } }
            let largest = expected.map(abs).max()!
            for i in 0..<(c * e) {
                // Float products: 1e-5 of the largest entry.
                #expect(abs(product[i] - expected[i]) <= 1e-5 * largest, "row \(i): \(product[i]) vs \(expected[i])")
            }
        }
    }

    /// Run to convergence, the start is the minimiser of the model with every sign fixed and no
    /// common shift: (sH + κ₂I_pen) Δ = −(g + κ₁σ + κ₂w) on the free coordinates, solved densely
    /// with the common-shift constraints by Lagrange multipliers.
    @Test func runToTheEndItSolvesTheSignedModel() throws {
        let (problem, sample, set, w, b) = setting()
        let (c, d) = (problem.c, problem.d)
        let e = set.size + 1
        let (k1, k2, scale) = (2e-3, 5e-3, 1.5)
        let evaluation = problem.evaluate(w: w, b: b, gradient: true, workers: 1)
        let blocks = problem.hessianBlocks(sample: sample, set: set, workers: 1)
        let start = try #require(
            problem.conjugateGradientStart(
                g: evaluation.gradient, gb: evaluation.interceptGradient, w: w, b: b, set: set, blocks: blocks, sample: sample, scale: scale,
                k1: k1, k2: k2, workers: 1, tolerance: 1e-12, steps: 500))
        // The dense system: free coordinates, right-hand side, constraints.
        let h = denseHessian(sample, set, classes: c)
        var free: [Int] = []
        var rhs: [Double] = []
        for k in 0..<c {
            for j in 0..<d {
                let (value, gradient) = (w[k * d + j], evaluation.gradient[k * d + j])
                let sign: Double = value != 0 ? (value > 0 ? 1 : -1) : (abs(gradient) > k1 ? (gradient > 0 ? -1 : 1) : 0)
                if sign == 0 { continue }
                free.append(k * e + j)
                rhs.append(-(gradient + k1 * sign + k2 * value))
            }
            free.append(k * e + d)
            rhs.append(-evaluation.interceptGradient[k])
        }
        let shifted = (0..<e).filter { a in (0..<c).allSatisfy { free.contains($0 * e + a) } }
        let (f, s) = (free.count, shifted.count)
        var kkt = Matrix<Double>(rows: f + s, columns: f + s)
        var right = Matrix<Double>(rows: f + s, columns: 1)
        for (r, i) in free.enumerated() {
            for (q, j) in free.enumerated() { kkt[r, q] = scale * h[i][j] + (r == q && i % e < d ? k2 : 0) }
            right[r, 0] = rhs[r]
            if let column = shifted.firstIndex(of: i % e) {
                kkt[r, f + column] = 1
                kkt[f + column, r] = 1
            }
        }
        // Symmetric indefinite: solve by least squares through the SVD (full rank here).
        let svd = try kkt.svd()
        let solution = (0..<(f + s)).map { i in
            (0..<(f + s)).reduce(0.0) { sum, k in
                let coefficient = (0..<(f + s)).reduce(0.0) { $0 + svd.u[$1, k] * right[$1, 0] } / svd.values[k]
                return sum + svd.vt[k, i] * coefficient
            }
        }
        var largest = 0.0
        for r in 0..<f { largest = max(largest, abs(solution[r])) }
        for (r, i) in free.enumerated() {
            let (k, a) = (i / e, i % e)
            let before = a < d ? w[k * d + a] : b[k]
            #expect(abs(start[k][a] - before - solution[r]) <= 1e-4 * largest, "coordinate \(i)")
        }
        // Fixed zeros stay where they are.
        for k in 0..<c {
            for a in 0..<d where !free.contains(k * e + a) { #expect(start[k][a] == w[k * d + a]) }
        }
    }

    /// Without a ridge (the lasso) there is no start.
    @Test func theLassoHasNoStart() {
        let (problem, sample, set, w, b) = setting()
        let evaluation = problem.evaluate(w: w, b: b, gradient: true, workers: 1)
        let blocks = problem.hessianBlocks(sample: sample, set: set, workers: 1)
        #expect(
            problem.conjugateGradientStart(
                g: evaluation.gradient, gb: evaluation.interceptGradient, w: w, b: b, set: set, blocks: blocks, sample: sample, scale: 1,
                k1: 1e-3, k2: 0, workers: 1) == nil)
    }
}

extension ConjugateStartTests {
    /// Gauss–Seidel from a start far from the model's minimum (every weight moved by ±5) still
    /// returns a descent step, the model's minimum reached from no start. The model value
    /// ⟨g, ΔW̃⟩ + ½ΔW̃ᵀHΔW̃ + P(W + ΔW) − P(W) is recomputed here with the dense Hessian.
    @Test func aFarStartStillReachesTheModelMinimum() {
        let (problem, sample, set, w, b) = setting()
        let (c, d) = (problem.c, problem.d)
        let e = set.size + 1
        let penalty = Penalty.elasticNet(lambda: 4e-3, alpha: 0.5)
        let (k1, k2) = penalty.coefficients(at: w)
        let evaluation = problem.evaluate(w: w, b: b, gradient: true, workers: 1)
        let blocks = problem.hessianBlocks(sample: sample, set: set, workers: 1)
        let far = (0..<c).map { k in (0..<d).map { w[k * d + $0] + (k % 2 == 0 ? 5.0 : -5.0) } + [b[k] - 3] }
        let step = problem.modelStep(
            g: evaluation.gradient, gb: evaluation.interceptGradient, w: w, b: b, set: set, blocks: blocks, sample: sample, scale: 1, rho: 0,
            k1: k1, k2: k2, tolerance: 1e-10, start: far, paired: true, workers: 2)
        let h = denseHessian(sample, set, classes: c)
        var delta = [Double](repeating: 0, count: c * e)
        for k in 0..<c {
            for j in 0..<d { delta[k * e + j] = step.w[k * d + j] - w[k * d + j] }
            delta[k * e + d] = step.b[k] - b[k]
        }
        var value = 0.0
        for k in 0..<c {
            for j in 0..<d { value += evaluation.gradient[k * d + j] * delta[k * e + j] }
            value += evaluation.interceptGradient[k] * delta[k * e + d]
        }
        for i in 0..<(c * e) { for j in 0..<(c * e) { value += 0.5 * delta[i] * h[i][j] * delta[j] } }
        value += penalty.value(step.w) - penalty.value(w)
        #expect(value < 0, "model value \(value)")
        // The same minimum as from no start: the curvature of the step agrees to 1%, the 1% rule of the rounds.
        let plain = problem.modelStep(
            g: evaluation.gradient, gb: evaluation.interceptGradient, w: w, b: b, set: set, blocks: blocks, sample: sample, scale: 1, rho: 0,
            k1: k1, k2: k2, tolerance: 1e-10, paired: true, workers: 2)
        #expect(abs(step.quadratic - plain.quadratic) <= 1e-2 * plain.quadratic)
    }
}

extension ConjugateStartTests {
    /// A model whose minimum is no step at all (zero gradients at W = 0: the model is the
    /// curvature plus the penalty's increase, both ≥ 0): Gauss–Seidel from a start elsewhere can
    /// only end at a value ≥ 0, so the step begins again from no step and returns W and b
    /// unchanged, bit for bit the step without a start. Without the restart the rounds, which
    /// stop at 1% progress, would return the start's remains.
    @Test func aStartNoBetterThanNoStepIsDropped() {
        let (problem, sample, set, _, _) = setting()
        let (c, d) = (problem.c, problem.d)
        let (w, b) = ([Double](repeating: 0, count: c * d), (0..<c).map { 0.2 * Double($0) })
        let blocks = problem.hessianBlocks(sample: sample, set: set, workers: 1)
        let start: [[Double]] = (0..<c).map { k in
            let weights: [Double] = (0..<d).map { j in (k + j) % 3 == 0 ? 0.4 : -0.2 }
            let intercept: Double = b[k] + (k % 2 == 0 ? 1.5 : -1.5)
            return weights + [intercept]
        }
        let steps = [start, nil].map { start in
            problem.modelStep(
                g: [Double](repeating: 0, count: c * d), gb: [Double](repeating: 0, count: c), w: w, b: b, set: set, blocks: blocks, sample: sample,
                scale: 1, rho: 0, k1: 1e-3, k2: 1e-3, tolerance: 1e-12, start: start, paired: true, workers: 2)
        }
        // From the start: dropped, then the very computation of a step without one.
        #expect(steps[0].w == steps[1].w && steps[0].b == steps[1].b && steps[0].quadratic == steps[1].quadratic)
        // And that step is none (to rounding: the intercepts' coordinate updates divide).
        #expect(steps[1].w == w && zip(steps[1].b, b).allSatisfy { abs($0 - $1) <= 1e-15 } && steps[1].quadratic <= 1e-30)
    }
}
