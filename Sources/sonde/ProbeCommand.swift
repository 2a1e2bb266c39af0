import ArgumentParser
import Foundation
import SondeBase
import SondeCorpus
import SondeLinalg
import SondeModels
import SondeProbe
import SondeStudy

/// One layer of an activation file as a [words × neurons] matrix (`ActivationSource.matrix`).
func loadActivations(_ path: String, layer: String?) throws -> Matrix<Float> {
    try ActivationSource.matrix(path: path, layer: layer)
}

/// Exactly `count` labels or words for rows of activations (`LabelFile.values`: either layout).
func loadLines(_ path: String, count: Int, what: String) throws -> [String] {
    try LabelFile.values(path, count: count, what: what)
}

struct ProbeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "probe",
        abstract: "Train an elastic-net probe on activations and rank the neurons it relies on.",
        discussion: """
            Activations are .npy/.npz/safetensors [tokens, neurons] or NeuroX's JSON or HDF5 files; labels are text files with one \
            label per line, one line per token (NeuroX's convention). Without --lambda, Sonde fits a \
            regularisation path from λ_max down and picks λ on --dev (or by --folds cross-validation). \
            With word files (--train-words …) it also trains a control-task probe (Hewitt & Liang) and \
            reports selectivity. The objective is glmnet's: mean cross-entropy + \
            λ(α‖W‖₁ + (1−α)/2‖W‖²); --neurox optimises NeuroX 1.0.9's λ1‖W‖₁ + λ2‖W‖_F instead. \
            --mdl adds the online codelength of the training labels (Voita & Titov 2020: blocks of \
            0.1% … 100% of the rows, each sent with a probe trained on the rows before it) and of the \
            control task's, with their compression against the uniform code.
            """)

    @OptionGroup var data: ProbeData
    @Option(help: "Fit this λ only (no path).") var lambda: Double?
    @Option(help: "Elastic-net mixing α in [0, 1] (1 = lasso).") var alpha: Double = 0.5
    @Option(help: "Number of λ values on the path.") var pathLength: Int = 20
    @Option(help: "λ_min / λ_max on the path.") var minRatio: Double = 1e-3
    @Option(help: "Cross-validation folds to choose λ when there is no --dev.") var folds: Int = 0
    @Flag(help: "Optimise NeuroX's objective (with --l1, --l2; no standardisation).") var neurox = false
    @Option(help: "NeuroX λ1.") var l1: Double = 1e-5
    @Option(help: "NeuroX λ2.") var l2: Double = 1e-5
    @Flag(help: "Do not standardise neurons before fitting.") var noStandardize = false
    @Option(help: "KKT tolerance, relative to the largest gradient at W = 0.") var tolerance: Double = 1e-4
    @Option(
        help:
            "Also stop only when the duality gap is at most this (the tolerance is tightened until it is, or until a tighter solve stalls at the Float data's precision — then a warning says so)."
    ) var gap: Double?
    @Option(help: "The weight mass for NeuroX's top-neuron selection in the report.") var fraction: Double = 0.5
    @Option(help: "Steps of NeuroX's neuron ordering.") var stride: Int = 100
    @Option(help: "Seed for cross-validation folds and the control task.") var seed: UInt64 = 1
    @Option(help: "Save the probe (safetensors) here.") var save: String?
    @Flag(help: "Also measure the minimum description length (online code) of the labels and of the control task.") var mdl = false
    @OptionGroup var output: OutputOptions

    func validate() throws {
        try requireNumber("alpha", alpha, "in [0, 1]") { (0...1).contains($0) }
        // λ = 0 has no optimum when the classes are separable (the weights grow without bound).
        try requireNumber("lambda", lambda, "positive (λ = 0 has no solution on separable data; try 1e-6)") { $0 > 0 }
        try requireNumber("gap", gap, "positive") { $0 > 0 }
        if gap != nil && lambda == nil && !neurox { throw ValidationError("--gap certifies one fit: give --lambda (or --neurox)") }
        try requireNumber("l1", l1, "≥ 0") { $0 >= 0 }
        try requireNumber("l2", l2, "≥ 0") { $0 >= 0 }
        if neurox && l1 == 0 && l2 == 0 { throw ValidationError("--l1 and --l2 cannot both be 0 (no solution on separable data)") }
        try requireNumber("tolerance", tolerance, "positive") { $0 > 0 }
        try requireNumber("fraction", fraction, "in [0, 1]") { (0...1).contains($0) }
        try requireNumber("min-ratio", minRatio, "in (0, 1]") { $0 > 0 && $0 <= 1 }
        guard (1...10_000).contains(stride), (1...1_000).contains(pathLength) else {
            throw ValidationError("--stride must be in 1…10000 and --path-length in 1…1000")
        }
        guard folds == 0 || folds >= 2 else { throw ValidationError("--folds must be 0 (none) or at least 2") }
    }

    struct Report: Encodable {
        let classes: [String]
        let neurons: Int
        let penalty: String
        let lambda: Double?
        let alpha: Double?
        let standardized: Bool
        let diagnostics: FittedProbe.Diagnostics
        /// What makes the result degenerate or doubtful, in words (empty when nothing does).
        let warnings: [String]
        let path: [RegularizationPath.Point]?
        let splits: [String: ProbeStudy.SplitResult]
        /// Neurons with a nonzero weight, most salient first (NeuroX's ordering).
        let ranking: [Int]
        /// Neurons with zero weight for every class: not ranked (index order).
        let unranked: [Int]
        let rankingCutoffs: [Int]
        let pathEntryOrder: [Int]?
        let topNeurons: [Int]
        let topNeuronsPerClass: [String: [Int]]
        let saved: String?
        let mdl: ProbeStudy.MDL?
        let certificate: DualityGap?
    }

    func run() throws {
        let splits = try data.load()
        let trainSet = splits[0].data
        let standardize = !noStandardize && !neurox
        if !splits.contains(where: { $0.name == "dev" }) && folds > trainSet.count {
            throw ValidationError("--folds \(folds) is more than the \(trainSet.count) training rows")
        }
        let fit: ProbeStudy.Fit =
            neurox || lambda != nil
            ? .penalty(
                ProbeSettings(
                    penalty: neurox ? .neurox(l1: l1, l2: l2) : .elasticNet(lambda: lambda!, alpha: alpha), standardize: standardize,
                    tolerance: tolerance, gap: gap))
            : .path(alpha: alpha, count: pathLength, minRatio: minRatio, folds: folds, standardize: standardize, tolerance: tolerance)
        let progress = Progress(what: "λ path")
        let result = ProbeStudy.run(splits, fit: fit, stride: stride, fraction: fraction, seed: seed, mdl: mdl, progress: progress.update)
        let probe = result.probe
        if let save { try ProbeFile.write(probe, to: save) }
        var lambdaValue: Double?
        var alphaValue: Double?
        if case .elasticNet(let l, let a) = probe.settings.penalty { (lambdaValue, alphaValue) = (l, a) }
        let report = Report(
            classes: probe.classes, neurons: probe.neurons, penalty: probe.settings.penalty.description, lambda: lambdaValue, alpha: alphaValue,
            standardized: standardize, diagnostics: probe.diagnostics, warnings: result.warnings, path: result.path?.points,
            splits: result.splits, ranking: result.ranking, unranked: result.unranked, rankingCutoffs: result.rankingCutoffs,
            pathEntryOrder: result.path?.entryOrder, topNeurons: result.topNeurons,
            topNeuronsPerClass: Dictionary(uniqueKeysWithValues: zip(probe.classes, result.topNeuronsPerClass)), saved: save, mdl: result.mdl,
            certificate: result.certificate)
        if output.json { return try printJSON(report) }
        var lines = [
            "probe: \(probe.classes.count) classes, \(probe.neurons) neurons, \(probe.settings.penalty)\(standardize ? ", standardised" : "")",
            "solver: \(probe.diagnostics.iterations) iterations, \(probe.diagnostics.converged ? "converged" : "NOT converged"), KKT violation \(String(format: "%.1e", probe.diagnostics.kktViolation)), \(probe.diagnostics.nonzeroNeurons) neurons with nonzero weight",
        ]
        if let g = result.certificate {
            lines.append(
                String(
                    format: "certificate: duality gap %.1e (relative %.1e): the objective %.6f is at most that above the optimum", g.gap, g.relative,
                    g.primal))
        }
        var rows = [["split", "tokens", "accuracy", "macro-F1", "majority", "control", "selectivity"]]
        for name in ["train", "dev", "test"] {
            guard let s = result.splits[name] else { continue }
            rows.append([
                name, String(s.tokens), String(format: "%.4f", s.accuracy), String(format: "%.4f", s.macroF1),
                String(format: "%.4f", s.majorityBaseline),
                s.controlAccuracy.map { String(format: "%.4f", $0) } ?? "-", s.selectivity.map { String(format: "%+.4f", $0) } ?? "-",
            ])
        }
        lines += formatTable(rows)
        lines += report.warnings.map { "warning: " + $0 }
        lines.append("top neurons (\(Int(fraction * 100))% of the weight mass per class): \(result.topNeurons.count)")
        for (name, neurons) in zip(probe.classes, result.topNeuronsPerClass) where !neurons.isEmpty {
            lines.append(
                "  \(name): " + neurons.prefix(12).map(String.init).joined(separator: " ") + (neurons.count > 12 ? " … (\(neurons.count))" : ""))
        }
        lines.append(rankingLine(report.ranking, unranked: report.unranked.count))
        if let m = result.mdl {
            func line(_ name: String, _ c: OnlineCode) -> String {
                String(
                    format: "MDL %@: %.0f bits online against %.0f uniform (compression %.2f) over %d rows", name, c.onlineBits, c.uniformBits,
                    c.compression, c.rows)
            }
            lines.append(line("probe", m.probe))
            if let c = m.control { lines.append(line("control task", c)) }
        }
        if let save { lines.append("saved to \(save)") }
        print(lines.joined(separator: "\n"))
    }
}
