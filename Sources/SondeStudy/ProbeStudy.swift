import Foundation
import SondeBase
import SondeLinalg
import SondeProbe

/// A probe as a study: fitted at one penalty or along a regularisation path (λ on dev or by
/// cross-validation), a control-task probe on the same settings where the words are known
/// (Hewitt & Liang: one random label per word type), every split evaluated against its majority
/// baseline, the neurons ranked, and what makes the result degenerate said in words.
public enum ProbeStudy {
    /// One split to evaluate: its name (`train` first), its data (labels indexed by train's
    /// classes) and its words in row order, when known (for the control task).
    public struct Split {
        public var name: String
        public var data: ProbeDataset
        public var words: [String]?

        public init(name: String, data: ProbeDataset, words: [String]?) {
            self.name = name
            self.data = data
            self.words = words
        }
    }

    /// How the probe is fitted: one penalty, or a path of `count` λ from λ_max down to
    /// `minRatio`·λ_max with `alpha`, chosen on dev (the split named "dev") or by `folds`.
    public enum Fit: Sendable {
        case penalty(ProbeSettings)
        case path(alpha: Double, count: Int, minRatio: Double, folds: Int, standardize: Bool, tolerance: Double)
    }

    public struct SplitResult: Codable, Sendable {
        public var tokens: Int
        public var accuracy: Double
        public var macroF1: Double
        public var majorityBaseline: Double
        public var controlAccuracy: Double?
        public var selectivity: Double?
        public var unseenLabels: Int
        public var perClass: [Evaluation.ClassScore]
    }

    public struct Result {
        public var probe: FittedProbe
        public var path: RegularizationPath?
        public var splits: [String: SplitResult]
        /// Neurons with a nonzero weight, most salient first (NeuroX's ordering), its cut-offs,
        /// and the neurons with zero weight for every class (not a ranking).
        public var ranking: [Int]
        public var rankingCutoffs: [Int]
        public var unranked: [Int]
        /// Every neuron: the ranking, then the unranked by index.
        public var ordering: [Int] { ranking + unranked }
        /// NeuroX's top neurons at `fraction` of the weight mass: overall and per class.
        public var topNeurons: [Int]
        public var topNeuronsPerClass: [[Int]]
        /// What makes the result degenerate or doubtful, in words (empty when nothing does).
        public var warnings: [String]
        /// The online codelength of train's labels and of its control task's (when asked).
        public var mdl: MDL?
        /// The duality gap of the probe on train: how far its objective can be above the optimum.
        public var certificate: DualityGap?
    }

    /// Voita & Titov's MDL probe beside its control task: a property the activations encode
    /// compresses much better than random labels of the same word types.
    public struct MDL: Codable, Sendable {
        public var probe: OnlineCode
        public var control: OnlineCode?
    }

    /// - Parameters:
    ///   - splits: train first; "dev" chooses λ on a path.
    ///   - stride, fraction: NeuroX's ordering steps and top-neuron weight mass.
    ///   - seed: cross-validation folds, the control task and the online code's order.
    ///   - mdl: also measure the online codelength (train's labels and the control task's).
    public static func run(
        _ splits: [Split], fit: Fit, stride: Int = 100, fraction: Double = 0.5, seed: UInt64 = 1, mdl: Bool = false,
        progress: ((Int, Int) -> Void)? = nil
    ) -> Result {
        let train = splits[0].data
        var path: RegularizationPath?
        let probe: FittedProbe
        switch fit {
        case .penalty(let settings):
            probe = FittedProbe.fit(train, settings: settings)
        case .path(let alpha, let count, let minRatio, let folds, let standardize, let tolerance):
            path = RegularizationPath.fit(
                train: train, dev: splits.first { $0.name == "dev" }?.data, folds: folds, alpha: alpha, count: count, minRatio: minRatio,
                standardize: standardize, tolerance: tolerance, seed: seed, progress: progress)
            probe = path!.selectedProbe
        }
        // Control task: the same settings on one random label per word type.
        var control: [String: Double] = [:]
        var controlTrain: ProbeDataset?
        let withWords = splits.filter { $0.words != nil }
        if splits[0].words != nil {
            let labels = ControlTask.labels(words: withWords.map { $0.words! }, trainLabels: train.labels, classes: train.classes.count, seed: seed)
            controlTrain = ProbeDataset(x: train.x, labels: labels[0], classes: train.classes)
            let controlProbe = FittedProbe.fit(ProbeDataset(x: train.x, labels: labels[0], classes: train.classes), settings: probe.settings)
            for (k, split) in withWords.enumerated() {
                control[split.name] = controlProbe.evaluate(ProbeDataset(x: split.data.x, labels: labels[k], classes: train.classes)).accuracy
            }
        }
        var results: [String: SplitResult] = [:]
        for split in splits {
            let evaluation = probe.evaluate(split.data)
            let c = control[split.name]
            results[split.name] = SplitResult(
                tokens: split.data.count, accuracy: evaluation.accuracy, macroF1: evaluation.macroF1,
                majorityBaseline: Evaluation.majorityBaseline(trainLabels: train.labels, labels: split.data.labels, classes: train.classes.count),
                controlAccuracy: c, selectivity: c.map { evaluation.accuracy - $0 }, unseenLabels: evaluation.unseen, perClass: evaluation.perClass)
        }
        let certificate = probe.dualityGap(train)
        let weights = probe.standardizedWeights
        let ordering = Rankings.neuronOrdering(weights, stride: stride)
        let top = Rankings.topNeurons(weights, fraction: fraction)
        return Result(
            probe: probe, path: path, splits: results, ranking: Array(ordering.ordering.prefix(ordering.ranked)),
            rankingCutoffs: ordering.cutoffs, unranked: ordering.ordering.dropFirst(ordering.ranked).sorted(), topNeurons: top.overall,
            topNeuronsPerClass: top.perClass, warnings: warnings(probe, splits: results, certificate: certificate),
            mdl: mdl
                ? MDL(
                    probe: OnlineCode.measure(train, settings: probe.settings, seed: seed),
                    control: controlTrain.map { OnlineCode.measure($0, settings: probe.settings, seed: seed) }) : nil,
            certificate: certificate)
    }

    /// Degenerate results said in words, for text and JSON alike. A fit stopped before its KKT
    /// tolerance is not doubted when its duality gap certifies it within 1e-6 of the optimum; a
    /// gap above the fit's --gap target is said.
    public static func warnings(_ probe: FittedProbe, splits: [String: SplitResult], certificate: DualityGap? = nil) -> [String] {
        var warnings: [String] = []
        let d = probe.diagnostics
        if d.constantNeurons == probe.neurons {
            warnings.append("every neuron is constant on the training data: the probe is the intercept-only model (it predicts the majority class)")
        } else if d.nonzeroNeurons == 0 {
            warnings.append("no neuron has a nonzero weight (λ too large?): the probe is the intercept-only model and ranks nothing")
        }
        if !d.converged, let c = certificate, c.relative <= 1e-6 {
            warnings.append(
                "the solver stopped before its KKT tolerance (violation \(scientific(d.kktViolation))), but its duality gap \(scientific(c.gap)) certifies the objective within that of the optimum"
            )
        } else if !d.converged {
            warnings.append(
                "the solver stopped before the optimality conditions held (KKT violation \(scientific(d.kktViolation))): the weights are not the optimum"
            )
        }
        if let target = probe.settings.gap, let c = certificate, c.gap > target {
            warnings.append(
                "the duality gap \(scientific(c.gap)) did not reach the --gap target \(scientific(target)): a tighter solve stopped short (at the precision of the solver's Float arithmetic, or at its iteration limit); the objective is certified within \(scientific(c.gap)) of the optimum"
            )
        }
        if let name = ["dev", "test", "train"].first(where: { splits[$0] != nil }), let s = splits[name], s.accuracy <= s.majorityBaseline {
            warnings.append("\(name) accuracy \(fixed(s.accuracy)) does not beat the majority baseline \(fixed(s.majorityBaseline))")
        }
        return warnings
    }

    private static func fixed(_ x: Double) -> String { String(format: "%.4f", x) }
    private static func scientific(_ x: Double) -> String { String(format: "%.1e", x) }
}

extension ProbeStudy {
    /// A layer's probe on a study's tokens, the one definition every study uses (`sonde probe`'s
    /// files aside): trained on the training rows — with `subsample`, the seed's own share of
    /// them — and evaluated on dev, beside a control task of the same settings (one random label
    /// per word type, Hewitt & Liang) whose dev accuracy gives the selectivity; without
    /// `control`, none is trained (selectivity nil).
    public static func layer(
        _ x: Matrix<Float>, _ tokens: StudyTokens, settings: ProbeSettings, seed: UInt64 = 1, subsample: Double? = nil, control: Bool = true
    ) -> Result {
        var rows = tokens.trainRows
        if let subsample {
            var generator = SplitMix64(seed: seed)
            rows = rows.filter { _ in generator.unit() < subsample }
        }
        let train = Split(name: "train", data: tokens.dataset(x, rows), words: control ? rows.map { tokens.words[$0] } : nil)
        let dev = Split(
            name: "dev", data: tokens.dataset(x, tokens.devRows, classes: train.data.classes),
            words: control ? tokens.devRows.map { tokens.words[$0] } : nil)
        return run([train, dev], fit: .penalty(settings), seed: seed)
    }
}
