import ArgumentParser
import Foundation
import SondeBase
import SondeCorpus
import SondeLinalg
import SondeModels
import SondeProbe
import SondeStudy

/// Activations from a tensor file: a 2-D tensor (tokens × neurons), chosen by name when the
/// file holds several.
func loadActivations(_ path: String, layer: String?) throws -> Matrix<Float> {
    try withInputErrors {
        let file = try TensorCollection.read(path)
        let tensor: Tensor
        if let layer {
            // `--layer 2` names the tensor `layer2` of an activation file, as `--layers` does.
            guard let t = file[layer] ?? (Int(layer) != nil ? file["layer" + layer] : nil) else {
                throw TensorFileError(.malformed, path, "no tensor '\(layer)'; it has \(file.tensors.map(\.name).joined(separator: ", "))")
            }
            tensor = t
        } else {
            guard file.tensors.count == 1 else {
                throw TensorFileError(
                    .malformed, path,
                    "holds \(file.tensors.count) tensors; choose one with --layer (\(file.tensors.map(\.name).prefix(8).joined(separator: ", ")))")
            }
            tensor = file.tensors[0]
        }
        let m = try ActivationSource.matrix(tensor, of: file)
        // A probe squares and sums activations in Float: beyond 1e18 that overflows.
        if let bad = m.elements.firstIndex(where: { abs($0) > 1e18 }) {
            throw TensorFileError(
                .malformed, path,
                "tensor '\(tensor.name)' has the value \(m.elements[bad]) in row \(bad / m.columns), beyond the ±1e18 a probe can square in Float; are these activations?"
            )
        }
        return m
    }
}

/// Exactly `count` labels or words for rows of activations (`LabelFile.values`: either layout).
func loadLines(_ path: String, count: Int, what: String) throws -> [String] {
    try withInputErrors { try LabelFile.values(path, count: count, what: what) }
}

/// Shows "what k/n" on stderr while a long job runs: on a terminal a line that updates in place;
/// otherwise (a log, a batch job) a plain timestamped line every five seconds and at the end,
/// so a log shows the job is alive without filling up.
final class Progress {
    private let terminal = isatty(2) == 1
    private let what: String
    private let start = Date()
    private var lastLine: Date?

    init(what: String) { self.what = what }

    func update(_ done: Int, _ total: Int) {
        if terminal {
            FileHandle.standardError.write(Data(("\r" + terminalSafe("\(what) \(done)/\(total)") + (done == total ? "\n" : "")).utf8))
            return
        }
        let now = Date()
        guard done == total ? lastLine != nil : now.timeIntervalSince(lastLine ?? start) >= 5 else { return }
        lastLine = now
        let stamp = ISO8601DateFormatter.string(from: now, timeZone: .current, formatOptions: [.withTime, .withColonSeparatorInTime])
        writeMessage("\(stamp) \(what) \(done)/\(total) (\(Int(now.timeIntervalSince(start))) s)\n")
    }
}

struct ProbeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "probe",
        abstract: "Train an elastic-net probe on activations and rank the neurons it relies on.",
        discussion: """
            Activations are .npy/.npz/safetensors [tokens, neurons]; labels are text files with one \
            label per line, one line per token (NeuroX's convention). Without --lambda, Sonde fits a \
            regularisation path from λ_max down and picks λ on --dev (or by --folds cross-validation). \
            With word files (--train-words …) it also trains a control-task probe (Hewitt & Liang) and \
            reports selectivity. The objective is glmnet's: mean cross-entropy + \
            λ(α‖W‖₁ + (1−α)/2‖W‖²); --neurox optimises NeuroX 1.0.9's λ1‖W‖₁ + λ2‖W‖_F instead.
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
    @Option(help: "The weight mass for NeuroX's top-neuron selection in the report.") var fraction: Double = 0.5
    @Option(help: "Steps of NeuroX's neuron ordering.") var stride: Int = 100
    @Option(help: "Seed for cross-validation folds and the control task.") var seed: UInt64 = 1
    @Option(help: "Save the probe (safetensors) here.") var save: String?
    @OptionGroup var output: OutputOptions

    func validate() throws {
        try requireNumber("alpha", alpha, "in [0, 1]") { (0...1).contains($0) }
        // λ = 0 has no optimum when the classes are separable (the weights grow without bound).
        try requireNumber("lambda", lambda, "positive (λ = 0 has no solution on separable data; try 1e-6)") { $0 > 0 }
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
    }

    func run() throws {
        let loaded = try data.load()
        let trainSet = loaded[0].data
        let standardize = !noStandardize && !neurox
        if !loaded.contains(where: { $0.name == "dev" }) && folds > trainSet.count {
            throw ValidationError("--folds \(folds) is more than the \(trainSet.count) training rows")
        }
        let splits = try loaded.map { split in
            ProbeStudy.Split(
                name: split.name, data: split.data,
                words: try split.words ?? split.wordsPath.map { try loadLines($0, count: split.data.count, what: "word") })
        }
        let fit: ProbeStudy.Fit =
            neurox || lambda != nil
            ? .penalty(
                ProbeSettings(
                    penalty: neurox ? .neurox(l1: l1, l2: l2) : .elasticNet(lambda: lambda!, alpha: alpha), standardize: standardize,
                    tolerance: tolerance))
            : .path(alpha: alpha, count: pathLength, minRatio: minRatio, folds: folds, standardize: standardize, tolerance: tolerance)
        let progress = Progress(what: "λ path")
        let result = ProbeStudy.run(splits, fit: fit, stride: stride, fraction: fraction, seed: seed, progress: progress.update)
        let probe = result.probe
        if let save { try withInputErrors { try ProbeFile.write(probe, to: save) } }
        var lambdaValue: Double?
        var alphaValue: Double?
        if case .elasticNet(let l, let a) = probe.settings.penalty { (lambdaValue, alphaValue) = (l, a) }
        let report = Report(
            classes: probe.classes, neurons: probe.neurons, penalty: probe.settings.penalty.description, lambda: lambdaValue, alpha: alphaValue,
            standardized: standardize, diagnostics: probe.diagnostics, warnings: result.warnings, path: result.path?.points,
            splits: result.splits, ranking: result.ranking, unranked: result.unranked, rankingCutoffs: result.rankingCutoffs,
            pathEntryOrder: result.path?.entryOrder, topNeurons: result.topNeurons,
            topNeuronsPerClass: Dictionary(uniqueKeysWithValues: zip(probe.classes, result.topNeuronsPerClass)), saved: save)
        if output.json { return try printJSON(report) }
        var lines = [
            "probe: \(probe.classes.count) classes, \(probe.neurons) neurons, \(probe.settings.penalty)\(standardize ? ", standardised" : "")",
            "solver: \(probe.diagnostics.iterations) iterations, \(probe.diagnostics.converged ? "converged" : "NOT converged"), KKT violation \(String(format: "%.1e", probe.diagnostics.kktViolation)), \(probe.diagnostics.nonzeroNeurons) neurons with nonzero weight",
        ]
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
        if let save { lines.append("saved to \(save)") }
        print(lines.joined(separator: "\n"))
    }
}

/// "ranking (first 20 of N): …", saying how many neurons are unranked; never index order.
func rankingLine(_ ranking: [Int], unranked: Int) -> String {
    guard !ranking.isEmpty else { return "ranking: none (no neuron has a nonzero weight)" }
    let head =
        "ranking (\(ranking.count > 20 ? "first 20 of \(ranking.count)" : "\(ranking.count) neurons")): "
        + ranking.prefix(20).map(String.init).joined(separator: " ")
    return head + (unranked > 0 ? "; \(unranked) neuron\(unranked == 1 ? "" : "s") with zero weight unranked" : "")
}

struct RankCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rank",
        abstract: "Rank neurons from a saved probe (NeuroX's selections) or without a probe.",
        discussion: """
            Methods: ordering (NeuroX get_neuron_ordering; neurons with zero weight are listed apart as \
            unranked), top (get_top_neurons at --fraction of the weight mass, default 0.5), threshold \
            (get_top_neurons_hard_threshold: |w| > max/--fraction, default 2), bottom, \
            random (--count neurons, seeded: the control selection), \
            probeless (Antverg & Belinkov 2022; needs --train and --train-labels instead of --probe). \
            Weights are standardised (× the neuron's scale) unless --raw-weights, as NeuroX uses them.
            """)

    enum Method: String, ExpressibleByArgument, CaseIterable { case ordering, top, threshold, bottom, random, probeless }

    @Option(help: "A probe saved by `sonde probe --save`.") var probe: String?
    @Option(help: "The method: ordering, top, threshold, bottom, random, probeless.") var method: Method = .ordering
    @Option(help: "Weight mass (top, bottom; default 0.5) or divisor (threshold; default 2, NeuroX's).") var fraction: Double?
    @Option(help: "Only this class's neurons (top, threshold: its own list; ordering: its weights alone).") var `class`: String?
    @Option(help: "Steps of the ordering sweep.") var stride: Int = 100
    @Option(help: "How many neurons, for random.") var count: Int?
    @Option(help: "Seed, for random.") var seed: UInt64 = 1
    @Flag(help: "Rank by raw weights (as NeuroX) instead of standardised ones.") var rawWeights = false
    @Option(help: "Activations, for probeless.") var train: String?
    @Option(help: "Labels, for probeless.") var trainLabels: String?
    @Option(help: "The tensor to use in .npz/safetensors files.") var layer: String?
    @OptionGroup var output: OutputOptions

    func validate() throws {
        if method == .probeless {
            guard train != nil && trainLabels != nil else { throw ValidationError("probeless needs --train and --train-labels") }
        } else if probe == nil {
            throw ValidationError("--probe is required (or use --method probeless)")
        }
        if method == .random, (count ?? -1) < 0 { throw ValidationError("random needs --count (a number of neurons ≥ 0)") }
        guard (1...10_000).contains(stride) else { throw ValidationError("--stride must be in 1…10000") }
        try requireNumber("fraction", fraction, "positive") { $0 > 0 }
    }

    struct Report: Encodable {
        let method: String
        /// The neurons the method returns, in its order (a count is `neurons` elsewhere).
        let selected: [Int]
        /// ordering: the neurons with zero weight, which are not ranked.
        var unranked: [Int]? = nil
        let cutoffs: [Int]?
        let perClass: [String: [Int]]?
        let scores: [Double]?
    }

    func run() throws {
        let report: Report
        if method == .probeless {
            let x = try loadActivations(train!, layer: layer)
            let data = ProbeDataset(x: x, labels: try loadLines(trainLabels!, count: x.rows, what: "label"))
            let result = Rankings.probeless(data)
            report = Report(method: method.rawValue, selected: result.ordering, cutoffs: nil, perClass: nil, scores: result.scores)
        } else {
            let loaded = try withInputErrors { try ProbeFile.read(probe!) }
            var w = rawWeights ? loaded.weights : loaded.standardizedWeights
            var classes = loaded.classes
            if let name = `class` {
                guard let row = classes.firstIndex(of: name) else {
                    throw ValidationError("--class \(name): the probe's classes are \(classes.joined(separator: ", "))")
                }
                w = Matrix(rows: 1, columns: w.columns, elements: w.row(row))
                classes = [name]
            }
            func perClass(_ lists: [[Int]]) -> [String: [Int]] { Dictionary(uniqueKeysWithValues: zip(classes, lists)) }
            let mass = fraction ?? (method == .threshold ? 2 : 0.5)
            switch method {
            case .ordering:
                let r = Rankings.neuronOrdering(w, stride: stride)
                report = Report(
                    method: method.rawValue, selected: Array(r.ordering.prefix(r.ranked)), unranked: r.ordering.dropFirst(r.ranked).sorted(),
                    cutoffs: Array(r.cutoffs.prefix { $0 <= r.ranked }), perClass: nil, scores: nil)
            case .top:
                let r = Rankings.topNeurons(w, fraction: mass)
                report = Report(method: method.rawValue, selected: r.overall, cutoffs: nil, perClass: perClass(r.perClass), scores: nil)
            case .threshold:
                let r = Rankings.hardThreshold(w, fraction: mass)
                report = Report(method: method.rawValue, selected: r.overall, cutoffs: nil, perClass: perClass(r.perClass), scores: nil)
            case .bottom:
                report = Report(
                    method: method.rawValue, selected: Rankings.bottomNeurons(w, fraction: mass), cutoffs: nil, perClass: nil, scores: nil)
            case .random:
                let neurons = Rankings.random(count: min(count!, loaded.neurons), of: loaded.neurons, seed: seed)
                report = Report(method: method.rawValue, selected: neurons, cutoffs: nil, perClass: nil, scores: nil)
            case .probeless:
                preconditionFailure("handled above")
            }
        }
        if output.json { return try printJSON(report) }
        if report.selected.isEmpty {
            writeMessage("sonde: no neuron selected: \(method == .threshold ? "no |w| exceeds the largest / --fraction" : "every weight is zero")\n")
        }
        print(report.selected.map(String.init).joined(separator: " "))
        if let perClass = report.perClass, `class` == nil, method == .top || method == .threshold {
            for (name, neurons) in perClass.sorted(by: { $0.key < $1.key }) { print("\(name): " + neurons.map(String.init).joined(separator: " ")) }
        }
        if let unranked = report.unranked, !unranked.isEmpty {
            writeMessage("sonde: \(unranked.count) neuron\(unranked.count == 1 ? "" : "s") with zero weight unranked (not listed)\n")
        }
    }
}
