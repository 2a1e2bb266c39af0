import ArgumentParser
import Foundation
import SondeProbe
import SondeStudy

extension SparseProbing.Ranker: ExpressibleByArgument {}

/// `--rankers path,lca,…` as rankers; the error names the first unknown one.
func parseRankers(_ text: String) throws -> [SparseProbing.Ranker] {
    try text.split(separator: ",").map { name in
        guard let r = SparseProbing.Ranker(rawValue: String(name)) else {
            throw ValidationError("--rankers: unknown ranker '\(name)'; rankers: \(SparseProbing.Ranker.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return r
    }
}

struct SparseProbeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sparse-probe",
        abstract: "k-sparse probing: held-out accuracy against k neurons, each k chosen by several rankers, and how the rankers agree.",
        discussion: """
            Gurnee et al. 2023's sparsity curve: for each k (default 1, 2, 4, … and all), each ranker's \
            top k neurons, a probe refitted on them alone (L2, λ = 1/rows: scikit-learn's default C = 1), its accuracy on --dev. Rankers: \
            path (the order neurons enter the elastic-net path), mean-difference (largest one-vs-rest \
            class-mean gap in standard deviations), f-statistic (ANOVA F), lca (NeuroX's ordering of a \
            probe's weights, at --lambda), probeless, iou, gaussian (its first --gaussian-count \
            neurons). For each pair of rankers: the Jaccard overlap of their top k and Spearman's \
            correlation of their orderings. A curve that stays at the majority baseline is said so.
            """)

    @Option(help: "Training activations.") var train: String
    @Option(help: "Training labels, one per line.") var trainLabels: String
    @Option(help: "Held-out activations the curve is measured on.") var dev: String
    @Option(help: "Held-out labels.") var devLabels: String
    @Option(help: "The ks, comma-separated (default 1, 2, 4, … and every neuron).") var k: String?
    @Option(help: "Rankers, comma-separated: \(SparseProbing.Ranker.allCases.map(\.rawValue).joined(separator: ", ")).")
    var rankers = SparseProbing.Ranker.defaults.map(\.rawValue).joined(separator: ",")
    @Option(help: "λ of the path's and the LCA probe's elastic net.") var lambda: Double = 1e-3
    @Option(help: "α of the elastic net.") var alpha: Double = 0.5
    @Option(help: "How many neurons the gaussian ranker chooses.") var gaussianCount: Int = 16
    @Option(help: "The tensor to use in .npz/safetensors files.") var layer: String?
    @OptionGroup var output: OutputOptions

    func parsedRankers() throws -> [SparseProbing.Ranker] { try parseRankers(rankers) }

    func validate() throws {
        try requireNumber("lambda", lambda, "positive") { $0 > 0 }
        try requireNumber("alpha", alpha, "in 0…1") { (0...1).contains($0) }
        guard (1...256).contains(gaussianCount) else { throw ValidationError("--gaussian-count must be in 1…256") }
        _ = try parsedRankers()
        if let k, k.split(separator: ",").contains(where: { Int($0).map { $0 < 1 } ?? true }) {
            throw ValidationError("--k: a comma-separated list of whole numbers ≥ 1, e.g. 1,2,4,8")
        }
    }

    struct Report: Encodable {
        let result: SparseProbing.Result
        let warnings: [String]
    }

    func run() throws {
        let x = try loadActivations(train, layer: layer)
        let data = ProbeDataset(x: x, labels: try loadLines(trainLabels, count: x.rows, what: "label"))
        let y = try loadActivations(dev, layer: layer)
        guard y.columns == x.columns else { throw CLIError("\(dev): \(y.columns) neurons, but --train has \(x.columns)") }
        let held = ProbeDataset(x: y, labels: try loadLines(devLabels, count: y.rows, what: "label"), classes: data.classes)
        let ks = try k.map { text in
            let values = text.split(separator: ",").compactMap { Int($0) }
            guard let bad = values.first(where: { $0 > x.columns }) else { return values }
            throw CLIError("--k \(bad): the activations have \(x.columns) neurons", .usage)
        } ?? SparseProbing.defaultKs(neurons: x.columns)
        let progress = Progress(what: "sparse probes")
        let result = try SparseProbing.run(
            train: data, evaluation: held, ks: ks, rankers: try parsedRankers(),
            settings: ProbeSettings(penalty: .elasticNet(lambda: lambda, alpha: alpha)), gaussianCount: gaussianCount, progress: progress.update)
        var warnings: [String] = []
        if held.unseenCount > 0 { warnings.append("\(held.unseenCount) held-out rows have a label the training rows lack (counted as errors)") }
        if result.allNeuronsAccuracy <= result.majorityBaseline + 0.01 {
            warnings.append("a probe on every neuron is at the majority baseline (\(f(result.allNeuronsAccuracy))): the layer shows no sign of the property")
        }
        for warning in warnings { writeMessage("sonde: warning: \(warning)\n") }
        if output.json { return try printJSON(Report(result: result, warnings: warnings)) }
        print("held-out accuracy by k (\(result.neurons) neurons; every neuron \(f(result.allNeuronsAccuracy)), majority baseline \(f(result.majorityBaseline)))")
        let names = result.curves.map(\.ranker.rawValue)
        print("k".padding(toLength: 6, withPad: " ", startingAt: 0) + names.map { $0.padding(toLength: 16, withPad: " ", startingAt: 0) }.joined())
        for k in result.ks {
            let cells = result.curves.map { curve in (curve.points.first { $0.k == k }.map { f($0.accuracy) } ?? "—").padding(toLength: 16, withPad: " ", startingAt: 0) }
            print(String(k).padding(toLength: 6, withPad: " ", startingAt: 0) + cells.joined())
        }
        if !result.agreement.isEmpty {
            let middle = result.ks.filter { $0 < result.neurons }.last ?? result.ks[0]
            print("agreement (Jaccard of the top \(middle); Spearman of the orderings):")
            for pair in result.agreement {
                let overlap = pair.jaccard[String(middle)].map(f) ?? "—"
                print("  \(pair.a.rawValue) – \(pair.b.rawValue): \(overlap); \(pair.rankCorrelation.map(f) ?? "—")")
            }
        }
    }

    func f(_ v: Double) -> String { String(format: "%.3f", v) }
}
