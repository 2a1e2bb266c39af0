import Glibc
import SondeLinalg

/// A trained linear probe: multinomial logistic regression over neurons. Binary tasks are the
/// C = 2 case of the softmax model (two weight rows), as NeuroX trains them.
public struct FittedProbe: Sendable {
    public let classes: [String]
    /// C × D weights on the original scale of the activations.
    public let weights: Matrix<Double>
    public let intercepts: [Double]
    /// The per-neuron scale the probe was fitted at (standard deviations, or 1): weights × scale
    /// are the standardised weights that rankings use.
    public let scales: [Double]
    /// The per-neuron means the probe centred with (used for mean-imputation in ablations).
    public let means: [Double]
    public let settings: ProbeSettings
    public let diagnostics: Diagnostics

    public struct Diagnostics: Sendable, Equatable, Codable {
        public var iterations: Int
        public var converged: Bool
        /// Largest KKT violation relative to the largest gradient at W = 0.
        public var kktViolation: Double
        /// Mean cross-entropy plus penalty at the solution, on the training data.
        public var objective: Double
        public var trainingLoss: Double
        /// Neurons with a nonzero weight for some class.
        public var nonzeroNeurons: Int
        /// Neurons constant on the training data (they can carry no weight); nil in probes saved
        /// before it was recorded.
        public var constantNeurons: Int?
    }

    public init(
        classes: [String], weights: Matrix<Double>, intercepts: [Double], scales: [Double], means: [Double], settings: ProbeSettings,
        diagnostics: Diagnostics
    ) {
        precondition(weights.rows == classes.count && intercepts.count == classes.count)
        precondition(scales.count == weights.columns && means.count == weights.columns)
        self.classes = classes
        self.weights = weights
        self.intercepts = intercepts
        self.scales = scales
        self.means = means
        self.settings = settings
        self.diagnostics = diagnostics
    }

    public var neurons: Int { weights.columns }

    /// C × D weights in standardised units (weight × the neuron's scale): what rankings compare.
    public var standardizedWeights: Matrix<Double> {
        var w = weights
        for c in 0..<w.rows { for j in 0..<w.columns { w[c, j] *= scales[j] } }
        return w
    }

    /// Trains a probe on `data` with `settings` (the classes are the dataset's). With a `gap`
    /// target the solver continues, warm, at tenfold tighter tolerances until the duality gap
    /// is at most it, or until a round stops short of its tolerance: the solver has then reached
    /// the precision of its Float data, and tighter rounds would only repeat that stall (on the
    /// zoo GPT-2, a target of 1e-8 took 28–38 s of such rounds to end at the same gap). The
    /// diagnostics are the last round's; `ProbeStudy.warnings` says when the target was missed.
    public static func fit(_ data: ProbeDataset, settings: ProbeSettings) -> FittedProbe {
        let problem = ProbeProblem(data, standardize: settings.standardize)
        var tolerance = settings.tolerance
        var result = problem.solve(
            penalty: settings.penalty, tolerance: tolerance, maxIterations: settings.maxIterations, targetObjective: settings.targetObjective)
        var probe = FittedProbe(problem: problem, classes: data.classes, result: result, settings: settings)
        guard let target = settings.gap else { return probe }
        while tolerance > 1e-14, let g = probe.dualityGap(data), g.gap > target {
            tolerance /= 10
            result = problem.solve(
                penalty: settings.penalty, tolerance: tolerance, maxIterations: settings.maxIterations, start: (result.w, result.b))
            probe = FittedProbe(problem: problem, classes: data.classes, result: result, settings: settings)
            if !result.converged { break }
        }
        return probe
    }

    init(problem: ProbeProblem, classes: [String], result: SolverResult, settings: ProbeSettings) {
        let (c, d) = (problem.c, problem.d)
        var weights = Matrix<Double>(rows: c, columns: d)
        var intercepts = result.b
        var nonzero = Set<Int>()
        for k in 0..<c {
            for j in 0..<d where result.w[k * d + j] != 0 {
                let original = result.w[k * d + j] / problem.scales[j]
                weights[k, j] = original
                intercepts[k] -= original * problem.means[j]
                nonzero.insert(j)
            }
        }
        self.init(
            classes: classes, weights: weights, intercepts: intercepts, scales: problem.scales, means: problem.means, settings: settings,
            diagnostics: Diagnostics(
                iterations: result.iterations, converged: result.converged, kktViolation: result.kktViolation, objective: result.objective,
                trainingLoss: result.loss, nonzeroNeurons: nonzero.count, constantNeurons: problem.constant.filter { $0 }.count))
    }

    /// Logits (tokens × classes) for activations x (tokens × neurons). Rows are centred in
    /// blocks before the product, so large neuron means cost no precision.
    public func logits(_ x: Matrix<Float>) -> Matrix<Float> {
        precondition(x.columns == neurons, "a probe of \(neurons) neurons applied to \(x.columns)")
        let (c, d) = (classes.count, neurons)
        // Centred weights: logit = Σ_j w_j (x_j − μ_j) + (b + Σ_j w_j μ_j).
        let wf = weights.elements.map { Float($0) }
        var bias = intercepts
        for k in 0..<c { for j in 0..<d { bias[k] += weights[k, j] * means[j] } }
        let shift = means.map { Float($0) }
        let blockRows = 8192
        var out = Matrix<Float>(rows: x.rows, columns: c)
        var block = [Float](repeating: 0, count: blockRows * d)
        x.withUnsafeBufferPointer { px in
            out.withUnsafeMutableBufferPointer { po in
                wf.withUnsafeBufferPointer { pw in
                    block.withUnsafeMutableBufferPointer { pb in
                        for start in stride(from: 0, to: x.rows, by: blockRows) {
                            let rows = min(blockRows, x.rows - start)
                            for i in 0..<rows { for j in 0..<d { pb[i * d + j] = px[(start + i) * d + j] - shift[j] } }
                            BLAS.gemm(
                                transposeB: true, m: rows, n: c, k: d, a: pb.baseAddress!, lda: d, b: pw.baseAddress!, ldb: d,
                                c: po.baseAddress! + start * c, ldc: c)
                            for i in 0..<rows { for k in 0..<c { po[(start + i) * c + k] += Float(bias[k]) } }
                        }
                    }
                }
            }
        }
        return out
    }

    /// The most likely class of each row (ties to the lower class index).
    public func predict(_ x: Matrix<Float>) -> [Int] {
        let z = logits(x)
        return (0..<z.rows).map { i in
            var best = 0
            for k in 1..<max(z.columns, 1) where z[i, k] > z[i, best] { best = k }
            return best
        }
    }

    /// Accuracy, macro-F1 and per-class precision/recall on `data` (whose labels are indices
    /// into this probe's classes, or -1 for labels it never saw).
    public func evaluate(_ data: ProbeDataset) -> Evaluation {
        Evaluation(predictions: predict(data.x), labels: data.labels, classes: classes)
    }
}
