import Dispatch
import Glibc
import SondeBase
import SondeLinalg

// The elastic-net multinomial logistic regression solver.
//
// Problem: minimise over W (C × D) and b (C)
//     F(W, b) = (1/n) Σᵢ −log softmax(W xᵢ + b)_{yᵢ} + P(W)
// with P the elastic net λ(α‖W‖₁ + (1−α)/2‖W‖²) or NeuroX's λ₁‖W‖₁ + λ₂‖W‖_F.
//
// Method: proximal Newton with the class-block Hessian, as glmnet does for the multinomial.
// Each iteration takes one pass over the data (logits by sgemm, softmax, gradient by sgemm,
// accumulated in Double per block of rows), then minimises, by coordinate descent, the model
// ⟨G, ΔW̃⟩ + ½ s ΔW̃ᵀ H ΔW̃ + P(W + ΔW), where w̃_c = (w_c, b_c), x̃ = (x, 1) and
// H = Σ_t ω_t (diag p_t − p_t p_tᵀ) ⊗ x̃_t x̃_tᵀ is the softmax Hessian estimated on a sample of
// rows drawn each iteration in proportion to their curvature (all rows for small problems). The
// model is minimised by Gauss–Seidel over classes: class c's block H_cc (its weighted Gram
// matrix over a further per-class thinning of the sample, plus a tiny ridge) by exact coordinate
// descent, the cross-class terms −p_c p_c′ through U = X̃ ΔW̃ᵀ on the sample (one gemv per
// class). The scale s backtracks (doubling) until the loss decreases at least a quarter as much
// as the model predicts (and never rises), so every iteration descends.
// NeuroX's Frobenius term is majorised by its tangent quadratic, which adds a ridge to the model.
// The loss does not change when the same vector is added to every class row (softmax
// invariance), so along that direction only the penalty has curvature, which the class blocks
// overstate; after each step every neuron's column is therefore re-centred across classes at the
// penalty's exact minimiser (Friedman, Hastie & Tibshirani 2010, §4), which can only lower F.
// The iteration stops when the KKT conditions hold to `tolerance` × (largest gradient at W = 0).

/// A prepared training problem: centred (and optionally scaled) activations and class indices.
/// Shared by every λ of a regularisation path.
final class ProbeProblem: @unchecked Sendable {  // immutable after init
    let n: Int
    let d: Int
    let c: Int
    /// n × d, centred and scaled, Float.
    let x: Matrix<Float>
    let y: [Int32]
    let means: [Double]
    /// Column scales (standard deviations, or 1); a constant column keeps scale 1.
    let scales: [Double]
    let constant: [Bool]
    /// The number of rows the curvature is estimated on (all rows when there are fewer).
    static let curvatureRows = 8192
    /// The intercepts of the intercept-only model: log class frequencies.
    let baseIntercepts: [Double]
    /// The largest |gradient| at W = 0 with the optimal intercepts: λ_max · α for the lasso path.
    private(set) var gradientScale = 0.0
    /// The loss and gradient of the intercept-only model (W = 0): where a cold start begins.
    private(set) var interceptOnly: Evaluation?

    init(_ data: ProbeDataset, standardize: Bool) {
        precondition(data.classes.count >= 1, "a probe needs a class")
        let kept = data.labels.indices.filter { data.labels[$0] >= 0 }
        let raw = kept.count == data.count ? data.x : data.x.rows(kept)
        n = raw.rows
        d = raw.columns
        c = data.classes.count
        y = kept.map { Int32(data.labels[$0]) }
        let standardization = Standardization(fitting: raw, scaling: standardize)
        means = standardization.means
        scales = standardization.scales
        var isConstant = [Bool](repeating: false, count: d)
        for j in standardization.constantColumns { isConstant[j] = true }
        constant = isConstant
        x = standardization.apply(to: raw)
        baseIntercepts = Self.baseIntercepts(y, classes: c)
        prepare()
    }

    /// A problem whose activations are already centred and scaled.
    init(x: Matrix<Float>, y: [Int32], means: [Double], scales: [Double], constant: [Bool], classes: Int) {
        (n, d, c) = (x.rows, x.columns, classes)
        (self.x, self.y, self.means, self.scales, self.constant) = (x, y, means, scales, constant)
        baseIntercepts = Self.baseIntercepts(y, classes: c)
        prepare()
    }

    /// Log class frequencies (a class without rows counts half a row).
    private static func baseIntercepts(_ y: [Int32], classes c: Int) -> [Double] {
        var counts = [Double](repeating: 0, count: c)
        for label in y { counts[Int(label)] += 1 }
        let total = Double(max(y.count, 1))
        return counts.map { log(max($0, 0.5) / total) }
    }

    private func prepare() {
        let zero = [Double](repeating: 0, count: c * d)
        let start = BLASThreads.owned { evaluate(w: zero, b: baseIntercepts, gradient: true, workers: $0) }
        gradientScale = start.gradient.map(abs).max() ?? 0
        interceptOnly = start
    }
}

extension ProbeProblem {
    /// The problem on a subset of `parent`'s neurons: its standardised columns copied, not
    /// standardised again (a column's mean and scale do not depend on the others).
    convenience init(columns neurons: [Int], of parent: ProbeProblem) {
        self.init(
            x: parent.x.columns(neurons), y: parent.y, means: neurons.map { parent.means[$0] }, scales: neurons.map { parent.scales[$0] },
            constant: neurons.map { parent.constant[$0] }, classes: parent.c)
    }
}

/// The state and diagnostics of one solve.
struct SolverResult {
    var w: [Double]
    var b: [Double]
    var iterations: Int
    var converged: Bool
    /// The largest KKT violation at the solution, relative to the problem's gradient scale.
    var kktViolation: Double
    /// F(W, b): mean cross-entropy plus penalty.
    var objective: Double
    var loss: Double
}

extension ProbeProblem {
    /// The largest violation of the optimality conditions at W given the loss gradient there.
    func kktViolation(w: [Double], evaluation e: Evaluation, penalty: Penalty) -> Double {
        var worst = e.interceptGradient.map(abs).max() ?? 0
        switch penalty {
        case .elasticNet:
            let (k1, k2) = penalty.coefficients(at: w)
            for k in 0..<(c * d) where !constant[k % d] {
                let grad = e.gradient[k] + k2 * w[k]
                let violation = w[k] != 0 ? abs(grad + (w[k] > 0 ? k1 : -k1)) : max(abs(grad) - k1, 0)
                worst = max(worst, violation)
            }
        case .neurox(let l1, let l2):
            let norm = w.reduce(0) { $0 + $1 * $1 }.squareRoot()
            if norm == 0 {
                // 0 is optimal iff the soft-thresholded gradient lies in the λ₂ ball.
                let shrunk = e.gradient.reduce(0) { $0 + pow(max(abs($1) - l1, 0), 2) }.squareRoot()
                worst = max(worst, max(shrunk - l2, 0))
            } else {
                for k in 0..<(c * d) where !constant[k % d] {
                    let grad = e.gradient[k] + l2 * w[k] / norm
                    let violation = w[k] != 0 ? abs(grad + (w[k] > 0 ? l1 : -l1)) : max(abs(grad) - l1, 0)
                    worst = max(worst, violation)
                }
            }
        }
        return worst / max(gradientScale, 1e-300)
    }

    /// Solves for one penalty from a warm start (W in standardised units). The solve owns
    /// OpenBLAS's threads: its data passes and class blocks split their work themselves.
    func solve(
        penalty: Penalty, tolerance: Double, maxIterations: Int, start: (w: [Double], b: [Double])? = nil, targetObjective: Double? = nil
    ) -> SolverResult {
        BLASThreads.owned { workers in
            solve(
                penalty: penalty, tolerance: tolerance, maxIterations: maxIterations, start: start, targetObjective: targetObjective,
                workers: workers)
        }
    }

    /// The solve on `workers` threads (callers own OpenBLAS's). Its result does not depend on
    /// `workers`: the data passes sum fixed segments of rows, the class blocks are one syrk each.
    func solve(
        penalty: Penalty, tolerance: Double, maxIterations: Int, start: (w: [Double], b: [Double])?, targetObjective: Double?, workers: Int
    ) -> SolverResult {
        var w = start?.w ?? [Double](repeating: 0, count: c * d)
        var b = start?.b ?? baseIntercepts
        var e =
            start == nil
            ? interceptOnly ?? evaluate(w: w, b: b, gradient: true, workers: workers)
            : evaluate(w: w, b: b, gradient: true, workers: workers)
        var scale = 1.0  // multiplies the Hessian blocks; grows when a step fails
        var iterations = 0
        // Every neuron constant (or none at all): no weight can lower the loss, and the
        // intercept-only model is the exact optimum.
        guard gradientScale > 0 else {
            return SolverResult(w: w, b: b, iterations: 0, converged: true, kktViolation: 0, objective: e.loss + penalty.value(w), loss: e.loss)
        }
        var violation = kktViolation(w: w, evaluation: e, penalty: penalty)
        var objectives: [Double] = []
        while violation > tolerance && iterations < maxIterations && !(targetObjective.map { e.loss + penalty.value(w) <= $0 } ?? false) {
            iterations += 1
            // The model's penalty terms.
            var rho = 0.0
            var k1 = 0.0
            var k2 = 0.0
            var g = e.gradient
            switch penalty {
            case .elasticNet:
                (k1, k2) = penalty.coefficients(at: w)
            case .neurox(let l1, let l2):
                k1 = l1
                let norm = w.reduce(0) { $0 + $1 * $1 }.squareRoot()
                // ‖W‖_F ≤ ‖W₀‖ + ⟨W₀/‖W₀‖, ΔW⟩ + ‖ΔW‖²/(2‖W₀‖): a gradient and a ridge in the
                // model. At W = 0 the norm has no gradient: the first step leaves it out.
                if norm > 0 {
                    rho = l2 / norm
                    for k in g.indices { g[k] += l2 * w[k] / norm }
                }
            }
            // The working set: neurons with a weight, or whose gradient is within half the L1
            // threshold. Every other weight stays 0 this iteration; the full KKT check above adds
            // any excluded violator (its |g| exceeds κ₁) at the next.
            let columns = (0..<d).filter { j in
                !constant[j] && (0..<c).contains { k in w[k * d + j] != 0 || abs(g[k * d + j]) > 0.5 * k1 }
            }
            let sample = curvatureSample(e, w: w, b: b)
            let set = workingSet(columns, sample: sample)
            let blocks = hessianBlocks(sample: sample, set: set, workers: workers)
            // The class weights of the next sample's curvature, from this point's classes.
            let balance = e.balancingWeights
            var accepted = false
            while !accepted {
                // Inexact Newton: solve the model only as well as the current violation warrants.
                let modelTolerance = max(0.1 * violation, 0.01 * tolerance) * gradientScale
                // Near the Float gradient's floor the start's Float products are as large as
                // what is left to gain; plain Gauss–Seidel lands lower there (a duality gap of
                // 3e-10 instead of 1.5e-9 on DualityGapTests' problem). Classes are solved side by
                // side in pairs only above that floor too.
                let nearFloor = violation < Self.precisionFloor
                let newtonStart =
                    nearFloor
                    ? nil
                    : conjugateGradientStart(
                        g: g, gb: e.interceptGradient, w: w, b: b, set: set, blocks: blocks, sample: sample, scale: scale, k1: k1, k2: k2,
                        workers: workers)
                let step = modelStep(
                    g: g, gb: e.interceptGradient, w: w, b: b, set: set, blocks: blocks, sample: sample, scale: scale,
                    rho: rho, k1: k1, k2: k2, tolerance: modelTolerance, start: newtonStart, paired: !nearFloor,
                    workers: workers)
                let (next, nextB, quadratic) = (step.w, step.b, step.quadratic)
                let trial = evaluate(w: next, b: nextB, gradient: true, classWeights: balance, workers: workers)
                // Sufficient decrease: the loss falls by at least a quarter of what the model
                // predicts (the model's ridge ρ from the Frobenius majoriser is not part of it).
                var linear = 0.0
                for k in 0..<(c * d) { linear += e.gradient[k] * (next[k] - w[k]) }
                for k in 0..<c { linear += e.interceptGradient[k] * (nextB[k] - b[k]) }
                var ridge = 0.0
                if rho > 0 { for k in 0..<(c * d) { ridge += rho * (next[k] - w[k]) * (next[k] - w[k]) } }
                let objective = e.loss + penalty.value(w)
                /// The decrease of the objective at w + t·(next − w) that the model predicts, and
                /// the actual one (`point` its weights, `there` its evaluation).
                func decreases(_ t: Double, _ point: [Double], _ there: Evaluation) -> (predicted: Double, actual: Double) {
                    let p = penalty.value(point)
                    return (objective - (e.loss + t * linear + t * t * (quadratic - ridge) / 2 + p), objective - (there.loss + p))
                }
                func take(_ point: [Double], _ intercepts: [Double], _ there: Evaluation) {
                    w = centered(point, penalty: penalty)
                    b = intercepts
                    e = there  // centring leaves the loss and its gradient unchanged
                    accepted = true
                }
                let (predicted, actual) = decreases(1, next, trial)
                let slack = 1e-13 * max(1, abs(e.loss))
                // A step into overflow (extreme activations, Float limits) is never taken; when
                // even the shortest step overflows, the solve ends where it is, unconverged.
                if !actual.isFinite {
                    if scale > 1e12 { break }
                    scale *= 2
                    continue
                }
                if actual >= 0.25 * max(predicted, 0) - slack || scale > 1e12 {
                    take(next, nextB, trial)
                    // The curvature scale falls only after a step the model predicted well (the
                    // trust-region rule): halving it after every accepted step made the next
                    // step fail about every other iteration of the real-activation tail.
                    if actual >= 0.75 * predicted { scale = max(scale / 2, 1) }
                } else {
                    scale *= 2
                    // Half the rejected step (one data pass) before solving the model again (tens
                    // of Gauss–Seidel rounds and a data pass): about a third of the steps of the
                    // real-activation fits were rejected, and this took their time down 8–16%
                    // (trying it only where a quadratic along the step predicts success,
                    // actual ≥ −1.25·predicted, left the NeuroX fit slower).
                    let halfW = (0..<(c * d)).map { (w[$0] + next[$0]) / 2 }, halfB = (0..<c).map { (b[$0] + nextB[$0]) / 2 }
                    let half = evaluate(w: halfW, b: halfB, gradient: true, classWeights: balance, workers: workers)
                    let gain = decreases(0.5, halfW, half)
                    if gain.predicted > 0 && gain.actual.isFinite && gain.actual >= 0.25 * gain.predicted - slack { take(halfW, halfB, half) }
                }
            }
            guard accepted else { break }
            violation = kktViolation(w: w, evaluation: e, penalty: penalty)
            // At the Float gradient's precision floor the steps stop paying: end when ten
            // iterations together have lowered the objective by less than 1e-13 of it.
            objectives.append(e.loss + penalty.value(w))
            if objectives.count > 10, objectives[objectives.count - 11] - objectives.last! <= 1e-13 * abs(objectives.last!) { break }
        }
        return SolverResult(
            w: w, b: b, iterations: iterations, converged: violation <= tolerance, kktViolation: violation,
            objective: e.loss + penalty.value(w), loss: e.loss)
    }
}
