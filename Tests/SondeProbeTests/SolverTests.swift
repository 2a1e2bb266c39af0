import Foundation
import SondeBase
import Testing

@testable import SondeLinalg
@testable import SondeProbe

let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

/// Tests/Fixtures/probe/small.{x,y}.npy: 300 tokens × 8 neurons, 3 classes (make_reference.py).
func smallDataset() throws -> ProbeDataset {
    let folder = repositoryRoot + "/Tests/Fixtures/probe"
    let x = try TensorCollection.read(folder + "/small.x.npy").tensors[0].matrix()
    let y = try TensorCollection.read(folder + "/small.y.npy").tensors[0].integers()!
    return ProbeDataset(x: x, labels: y, classes: ["a", "b", "c"])
}

/// Mean cross-entropy and its gradient ∂/∂W at (W, b), in Double from the raw data: an
/// independent computation (no BLAS, no blocks, no standardisation).
func referenceLossAndGradient(
    _ data: ProbeDataset, weights: Matrix<Double>, intercepts: [Double]
) -> (loss: Double, gradient: [[Double]], intercept: [Double]) {
    let (n, d, c) = (data.count, data.neurons, data.classes.count)
    var loss = 0.0
    var gradient = [[Double]](repeating: [Double](repeating: 0, count: d), count: c)
    var intercept = [Double](repeating: 0, count: c)
    for i in 0..<n {
        let x = (0..<d).map { Double(data.x[i, $0]) }
        let z = (0..<c).map { k in intercepts[k] + (0..<d).reduce(0.0) { $0 + weights[k, $1] * x[$1] } }
        let top = z.max()!
        let sum = z.reduce(0) { $0 + exp($1 - top) }
        loss += log(sum) + top - z[data.labels[i]]
        for k in 0..<c {
            let r = exp(z[k] - top) / sum - (k == data.labels[i] ? 1 : 0)
            intercept[k] += r / Double(n)
            for j in 0..<d { gradient[k][j] += r * x[j] / Double(n) }
        }
    }
    return (loss / Double(n), gradient, intercept)
}

@Suite struct SolverTests {
    /// The objective at Sonde's solution against scikit-learn's saga at C = 1/(λn),
    /// l1_ratio = α, on the same float32 data (values from make_reference.py): within 1e-4
    /// relative, and never worse than the reference by more than that.
    @Test(arguments: [(0.05, 0.5, 0.615212160170), (0.01, 1.0, 0.515170208086), (0.02, 0.0, 0.501754053049)])
    func matchesScikitLearn(lambda: Double, alpha: Double, reference: Double) throws {
        let data = try smallDataset()
        let probe = FittedProbe.fit(
            data, settings: ProbeSettings(penalty: .elasticNet(lambda: lambda, alpha: alpha), standardize: false, tolerance: 1e-6))
        // A regression guard, not an exact count: Newton steps converge in 5–10 iterations here;
        // 40 leaves room for another CPU's rounding and still catches a solver that stalls.
        #expect(probe.diagnostics.converged && probe.diagnostics.iterations < 40, "\(probe.diagnostics)")
        let objective = probe.diagnostics.objective
        #expect(abs(objective - reference) <= 1e-4 * reference, "Sonde \(objective), scikit-learn \(reference)")
        // The objective recomputed independently at the reported (original-scale) solution.
        let check = referenceLossAndGradient(data, weights: probe.weights, intercepts: probe.intercepts)
        #expect(abs(check.loss + Penalty.elasticNet(lambda: lambda, alpha: alpha).value(probe.weights.elements) - objective) < 1e-6)
    }

    /// NeuroX mode reaches an objective no worse than NeuroX 1.0.9's own trainer on the same
    /// data (1.114751 after its 10 epochs of Adam: Tests/Fixtures/probe/neurox_reference.py).
    @Test func neuroxModeBeatsNeuroXTrainer() throws {
        let data = try smallDataset()
        let probe = FittedProbe.fit(data, settings: .neurox(l1: 0.01, l2: 0.01))
        // A regression guard, not an exact count: Newton steps converge in 5–10 iterations here;
        // 40 leaves room for another CPU's rounding and still catches a solver that stalls.
        #expect(probe.diagnostics.converged && probe.diagnostics.iterations < 40, "\(probe.diagnostics)")
        #expect(probe.diagnostics.objective <= 1.114751)
        let check = referenceLossAndGradient(data, weights: probe.weights, intercepts: probe.intercepts)
        #expect(abs(check.loss + Penalty.neurox(l1: 0.01, l2: 0.01).value(probe.weights.elements) - probe.diagnostics.objective) < 1e-6)
    }

    /// Stopping at a target objective (NeuroX's result on the same data): the solver stops as
    /// soon as it is at least as good, in fewer iterations than full convergence.
    @Test func stopsAtTargetObjective() throws {
        let data = try smallDataset()
        let full = FittedProbe.fit(data, settings: .neurox(l1: 0.01, l2: 0.01))
        var settings = ProbeSettings.neurox(l1: 0.01, l2: 0.01)
        settings.targetObjective = 1.114751
        let early = FittedProbe.fit(data, settings: settings)
        #expect(early.diagnostics.objective <= 1.114751)
        #expect(early.diagnostics.iterations < full.diagnostics.iterations)
        #expect(!early.diagnostics.converged)
    }

    /// The KKT conditions, checked from the independent gradient: for w ≠ 0,
    /// g + λ(1−α)w + λα·sign(w) = 0; for w = 0, |g| ≤ λα; intercept gradients 0.
    @Test(arguments: [Penalty.elasticNet(lambda: 0.03, alpha: 0.7), .elasticNet(lambda: 0.002, alpha: 1), .neurox(l1: 0.01, l2: 0.01)])
    func optimalityConditionsHold(penalty: Penalty) throws {
        let data = try smallDataset()
        let probe = FittedProbe.fit(data, settings: ProbeSettings(penalty: penalty, standardize: false, tolerance: 1e-6))
        let check = referenceLossAndGradient(data, weights: probe.weights, intercepts: probe.intercepts)
        let w = probe.weights
        let (k1, k2, frobenius): (Double, Double, Double)
        switch penalty {
        case .elasticNet(let lambda, let alpha): (k1, k2, frobenius) = (lambda * alpha, lambda * (1 - alpha), 0)
        case .neurox(let l1, let l2): (k1, k2, frobenius) = (l1, 0, l2 / w.elements.reduce(0) { $0 + $1 * $1 }.squareRoot())
        }
        var worst = check.intercept.map(abs).max()!
        for k in 0..<w.rows {
            for j in 0..<w.columns {
                let g = check.gradient[k][j] + (k2 + frobenius) * w[k, j]
                worst = max(worst, w[k, j] != 0 ? abs(g + (w[k, j] > 0 ? k1 : -k1)) : max(abs(g) - k1, 0))
            }
        }
        #expect(worst < 1e-5, "largest KKT violation \(worst)")
    }

    /// Past 8,192 rows the Hessian is estimated on a curvature-weighted sample and each class
    /// block on a thinned part of it: the solution must still satisfy the KKT conditions of the
    /// whole data (checked by the independent computation).
    @Test func optimalityConditionsHoldWithSampledCurvature() {
        let data = PlantedData(samples: 12_000, neurons: 12, classes: 5, planted: 3, copies: 1, seed: 3).dataset
        let (k1, k2) = (0.002 * 0.5, 0.002 * 0.5)
        let probe = FittedProbe.fit(
            data, settings: ProbeSettings(penalty: .elasticNet(lambda: 0.002, alpha: 0.5), standardize: false, tolerance: 1e-5))
        // A regression guard, not an exact count: Newton steps converge in 5–10 iterations here;
        // 40 leaves room for another CPU's rounding and still catches a solver that stalls.
        #expect(probe.diagnostics.converged && probe.diagnostics.iterations < 40, "\(probe.diagnostics)")
        let check = referenceLossAndGradient(data, weights: probe.weights, intercepts: probe.intercepts)
        var worst = check.intercept.map(abs).max()!
        for k in 0..<probe.weights.rows {
            for j in 0..<probe.weights.columns {
                let w = probe.weights[k, j]
                let g = check.gradient[k][j] + k2 * w
                worst = max(worst, w != 0 ? abs(g + (w > 0 ? k1 : -k1)) : max(abs(g) - k1, 0))
            }
        }
        #expect(worst < 1e-5, "largest KKT violation \(worst)")
    }

    /// The per-class thinning keeps exactly `target` rows, keeps the rows at or above τ with their
    /// own weight, and includes every row with probability q_t = min(1, c_t/τ): averaged over
    /// the systematic sample's offset (a fine grid of them) each row's inclusion is q_t and the
    /// weighted total is the true total.
    @Test func thinningIsUnbiased() throws {
        let problem = ProbeProblem(try smallDataset(), standardize: false)
        var random = SplitMix64(seed: 9)
        let contribution = (0..<500).map { t -> Double in
            let u = Double(random.next() >> 11) / Double(1 << 53)
            return t % 50 == 0 ? 5 + u : (t % 7 == 0 ? 0 : u * u)
        }
        let target = 60
        let total = contribution.reduce(0, +)
        let (rows, weights) = problem.thinned(contribution, to: target)
        #expect(rows.count == target)
        for t in stride(from: 0, to: 500, by: 50) { #expect(rows.contains(t) && weights[t] == contribution[t]) }
        #expect(!rows.contains { contribution[$0] == 0 })
        let offsets = 4000
        var inclusions = [Double](repeating: 0, count: 500)
        var estimate = 0.0
        for i in 0..<offsets {
            let (rows, weights) = problem.thinned(contribution, to: target, offset: (Double(i) + 0.5) / Double(offsets))
            for t in rows { inclusions[t] += 1 / Double(offsets); estimate += weights[t] / Double(offsets) }
        }
        let tau = contribution.filter { $0 < 5 }.reduce(0, +) / Double(target - 10)
        for t in 0..<500 { #expect(abs(inclusions[t] - min(1, contribution[t] / tau)) <= 1.0 / Double(offsets)) }
        #expect(abs(estimate - total) < 1e-3 * total)
    }

    /// Planted data: the top k of the ranking (k = planted neurons with their copies) holds at
    /// least 95% of the planted neurons, for the lasso and the elastic net, and the probe is
    /// far above the majority baseline. (The lasso keeps one member of a redundant group —
    /// normally the clean planted neuron, not its noisier copies.)
    @Test(arguments: [1.0, 0.5])
    func recoversPlantedNeurons(alpha: Double) {
        let planted = PlantedData(samples: 4000, neurons: 80, classes: 4, planted: 6, copies: 2, seed: 11)
        let probe = FittedProbe.fit(planted.dataset, settings: ProbeSettings(penalty: .elasticNet(lambda: 0.01, alpha: alpha)))
        let ordering = Rankings.neuronOrdering(probe.standardizedWeights).ordering
        let top = Set(ordering.prefix(6 * 3))
        let found = planted.planted.filter { top.contains($0) }.count
        #expect(Double(found) >= 0.95 * 6, "\(found) of 6 planted neurons in the top 18")
        #expect(probe.evaluate(planted.dataset).accuracy > 0.9)
        let majority = Evaluation.majorityBaseline(trainLabels: planted.dataset.labels, labels: planted.dataset.labels, classes: 4)
        #expect(majority < 0.3)
    }

    /// The intercept-only model is the answer when λ is at least λ_max: all weights zero and the
    /// intercepts the log class frequencies (up to a common constant).
    @Test func largePenaltyGivesInterceptOnly() throws {
        let data = try smallDataset()
        let probe = FittedProbe.fit(data, settings: ProbeSettings(penalty: .elasticNet(lambda: 10, alpha: 1)))
        #expect(probe.weights.elements.allSatisfy { $0 == 0 })
        let counts = data.classCounts.map(Double.init)
        let logFrequencies = counts.map { log($0 / 300) }
        let offset = probe.intercepts[0] - logFrequencies[0]
        for k in 0..<3 { #expect(abs(probe.intercepts[k] - logFrequencies[k] - offset) < 1e-6) }
    }

    /// Standardisation changes the units, not the predictions' quality: weights come back on the
    /// original scale, and scaling a neuron by 1000 scales its weight by 1/1000.
    @Test func standardizedWeightsAreScaleFree() throws {
        let data = try smallDataset()
        var scaled = data.x
        for i in 0..<scaled.rows { scaled[i, 0] *= 1000 }
        // 1e-5: below it the Float gradient's rounding decides (ARCHITECTURE.md, precision).
        let settings = ProbeSettings(penalty: .elasticNet(lambda: 0.01, alpha: 0.5), tolerance: 1e-5)
        let a = FittedProbe.fit(data, settings: settings)
        let b = FittedProbe.fit(ProbeDataset(x: scaled, labels: data.labels, classes: data.classes), settings: settings)
        for k in 0..<3 {
            #expect(abs(a.weights[k, 0] - 1000 * b.weights[k, 0]) < 1e-3 * max(abs(a.weights[k, 0]), 1e-3))
            // Two solutions within the KKT tolerance of one optimum: their weights agree to what
            // that tolerance pins down (a few 1e-4 on this data), not to rounding.
            #expect(abs(a.standardizedWeights[k, 0] - b.standardizedWeights[k, 0]) < 5e-4)
        }
        // Two fits in different units are two Float code paths: a row whose two best classes tie
        // to rounding may go either way, so the test allows 1% of rows to differ, not 0.
        let (pa, pb) = (a.predict(data.x), b.predict(scaled))
        #expect(zip(pa, pb).filter { $0 != $1 }.count * 100 <= pa.count)
    }

    /// A fit does not depend on the number of threads: on 1, 2 and 3 workers the weights are
    /// the same bits (12,500 rows: three segments of the data pass, eight of the curvature
    /// sample), for the elastic net (with its conjugate-gradient start) and NeuroX's penalty.
    @Test(arguments: [Penalty.elasticNet(lambda: 0.001, alpha: 0.5), .neurox(l1: 2e-3, l2: 2e-3)])
    func theSameFitOnAnyNumberOfThreads(_ penalty: Penalty) {
        let data = PlantedData(samples: 12_500, neurons: 8, classes: 4, planted: 3, copies: 1, seed: 5).dataset
        let problem = ProbeProblem(data, standardize: true)
        let fits = [1, 2, 3].map { workers in
            BLASThreads.owned { _ in
                problem.solve(penalty: penalty, tolerance: 1e-5, maxIterations: 200, start: nil, targetObjective: nil, workers: workers)
            }
        }
        #expect(fits[0].converged && fits[0].iterations > 1)
        for fit in fits.dropFirst() {
            #expect(fit.w == fits[0].w && fit.b == fits[0].b && fit.iterations == fits[0].iterations)
        }
    }

    /// The common-shift minimiser against a fine grid search.
    @Test func commonShiftIsTheMinimiser() {
        var random = SplitMix64(seed: 5)
        for _ in 0..<200 {
            let a = (0..<(2 + random.below(5))).map { _ in random.normal() }
            let k1 = random.unit()
            let k2 = random.below(3) == 0 ? 0 : random.unit()
            func f(_ t: Double) -> Double {
                var total = 0.0
                for v in a { total += k1 * abs(v - t) + k2 / 2 * (v - t) * (v - t) }
                return total
            }
            let t = commonShift(a, k1: k1, k2: k2)
            let best = stride(from: -4.0, through: 4.0, by: 1e-3).map(f).min()!
            #expect(f(t) <= best + 1e-9)
        }
    }
}

@Suite struct EvaluationTests {
    /// Hand-computed: gold [0,0,1,1,2,-1], predicted [0,1,1,1,0,2].
    /// class 0: TP 1, predicted 2, actual 2 → P ½, R ½, F1 ½; class 1: TP 2, predicted 3,
    /// actual 2 → P ⅔, R 1, F1 0.8; class 2: TP 0 → F1 0. Accuracy 3/6; macro-F1 (½+0.8+0)/3.
    @Test func metricsByHand() {
        let e = Evaluation(predictions: [0, 1, 1, 1, 0, 2], labels: [0, 0, 1, 1, 2, -1], classes: ["x", "y", "z"])
        #expect(e.accuracy == 0.5 && e.unseen == 1 && e.count == 6)
        #expect(e.perClass[0].precision == 0.5 && e.perClass[0].recall == 0.5)
        #expect(abs(e.perClass[1].f1 - 0.8) < 1e-15 && e.perClass[2].f1 == 0)
        #expect(abs(e.macroF1 - 1.3 / 3) < 1e-15)
        #expect(Evaluation.majorityBaseline(trainLabels: [1, 1, 0], labels: [1, 0, 1, 2], classes: 3) == 0.5)
    }

    @Test func unseenLabelsAreEncodedAsMinusOne() {
        let data = ProbeDataset(x: Matrix(rows: 3, columns: 1), labels: ["NOUN", "X", "VERB"], classes: ["NOUN", "VERB"])
        #expect(data.labels == [0, -1, 1] && data.unseenCount == 1)
    }
}

@Suite struct RankingTests {
    /// Row 0 |w| = (4, 3, 2, 1), total 10; row 1 |w| = (0, 0, 0, 5), total 5.
    static let w = Matrix<Double>([[4, -3, 2, -1], [0, 0, 0, 5]])

    @Test func topNeuronsByCumulativeMass() {
        // p = 0.5: row 0 needs 4 + 3 = 7 ≥ 5 → {0, 1}; row 1: 5 ≥ 2.5 → {3}.
        let top = Rankings.topNeurons(Self.w, fraction: 0.5)
        #expect(top.overall == [0, 1, 3] && top.perClass == [[0, 1], [3]])
        // p = 0: the first neuron of each row already reaches 0.
        #expect(Rankings.topNeurons(Self.w, fraction: 0).overall == [0, 3])
        #expect(Rankings.topNeurons(Self.w, fraction: 1).overall == [0, 1, 2, 3])
    }

    @Test func hardThresholdAndBottom() {
        // fraction 2: row 0 keeps |w| > 2 → {0, 1}; row 1 keeps > 2.5 → {3}.
        #expect(Rankings.hardThreshold(Self.w, fraction: 2).overall == [0, 1, 3])
        // bottom 30%: row 0 ascending 1, 2 (cum 3 ≥ 3) → {3, 2}; row 1 ascending 0,0,0,5: 0 ≥ 1.5? no… 5 → all.
        #expect(Rankings.bottomNeurons(Self.w, fraction: 0.3) == [0, 1, 2, 3])
        #expect(Rankings.bottomNeurons(Matrix([[4, -3, 2, -1]]), fraction: 0.3) == [2, 3])
    }

    /// Steps of ¼: p=0 → {0,3}; p=¼ → row 0 needs 4 ≥ 2.5 → {0}, row 1 {3}: nothing new;
    /// p=½ → {0,1,3}: 1 new; p=¾ → row 0 4+3 ≥ 7.5? no, +2 = 9 ≥ 7.5 → {0,1,2}: 2 new; p=1 → 3 new? no, {0,1,2,3} all seen.
    @Test func neuronOrderingSweeps() {
        let result = Rankings.neuronOrdering(Self.w, stride: 4)
        #expect(result.ordering == [3, 0, 1, 2])  // 3 (max |w| 5) before 0 (4) in the first step
        #expect(result.cutoffs == [2, 2, 3, 4, 4])
    }

    /// Neurons with all-zero weights come last, by index, after a final cut-off.
    @Test func zeroWeightNeuronsComeLast() {
        let result = Rankings.neuronOrdering(Matrix<Double>([[0, 2, 0, 1, 0]]), stride: 2)
        // p=0 → {1}; p=½ → 2 ≥ 1.5 → {1}; p=1 → 2+1 ≥ 3 → {1, 3}; then 0, 2, 4.
        #expect(result.ordering == [1, 3, 0, 2, 4])
        #expect(result.cutoffs == [1, 1, 2, 5])
    }

    /// Class means of neuron 0: class 0 → 1, class 1 → 3, class 2 → 6: |1−3| + |1−6| + |3−6| = 10;
    /// neuron 1 is constant: 0.
    @Test func probelessScores() {
        let x = Matrix<Float>([[1, 7], [1, 7], [3, 7], [6, 7]])
        let result = Rankings.probeless(ProbeDataset(x: x, labels: [0, 0, 1, 2], classes: ["a", "b", "c"]))
        #expect(result.scores == [10, 0] && result.ordering == [0, 1])
    }

    @Test func randomSelectionIsSeeded() {
        let a = Rankings.random(count: 5, of: 100, seed: 3)
        #expect(a == Rankings.random(count: 5, of: 100, seed: 3) && Set(a).count == 5 && a != Rankings.random(count: 5, of: 100, seed: 4))
    }
}
