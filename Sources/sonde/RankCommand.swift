import ArgumentParser
import Foundation
import SondeProbe
import SondeStudy

extension NeuronSelection.Method: ExpressibleByArgument {}

struct RankCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rank",
        abstract: "Rank neurons from a saved probe (NeuroX's selections) or without a probe.",
        discussion: """
            Methods: ordering (NeuroX get_neuron_ordering; neurons with zero weight are listed apart as \
            unranked), top (get_top_neurons at --fraction of the weight mass, default 0.5), threshold \
            (get_top_neurons_hard_threshold: |w| > max/--fraction, default 2), bottom, \
            random (--count neurons, seeded: the control selection), \
            and, from labelled activations (--train and --train-labels instead of --probe): probeless \
            (Antverg & Belinkov 2022: class-mean differences), iou (Mu & Andreas 2020: a neuron's best \
            intersection-over-union of its activations above the --percentile-th percentile, default 95, \
            with a class's rows), gaussian (Torroba Hennigen et al. 2020: --count neurons, default 20, \
            added greedily by a per-class Gaussian's held-out log-likelihood; held out: --dev, or a \
            seeded fifth of the rows). \
            Weights are standardised (× the neuron's scale) unless --raw-weights, as NeuroX uses them.
            """)

    typealias Method = NeuronSelection.Method

    @Option(help: "A probe saved by `sonde probe --save`.") var probe: String?
    @Option(help: "The method: ordering, top, threshold, bottom, random (from a probe); probeless, iou, gaussian (from activations).")
    var method: Method = .ordering
    @Option(help: "Weight mass (top, bottom; default 0.5) or divisor (threshold; default 2, NeuroX's).") var fraction: Double?
    @Option(help: "Only this class's neurons (top, threshold: its own list; ordering: its weights alone).") var `class`: String?
    @Option(help: "Steps of the ordering sweep.") var stride: Int = 100
    @Option(help: "How many neurons, for random (required) and gaussian (default 20).") var count: Int?
    @Option(help: "Seed, for random and gaussian's held-out fifth.") var seed: UInt64 = 1
    @Option(help: "iou: the percentile above which a neuron fires (0…100).") var percentile: Double = 95
    @Flag(help: "Rank by raw weights (as NeuroX) instead of standardised ones.") var rawWeights = false
    @Option(help: "Activations, for probeless, iou, gaussian.") var train: String?
    @Option(help: "Labels, for probeless, iou, gaussian.") var trainLabels: String?
    @Option(help: "gaussian: held-out activations (instead of a fifth of --train).") var dev: String?
    @Option(help: "gaussian: held-out labels.") var devLabels: String?
    @Option(help: "The tensor to use in .npz/safetensors files.") var layer: String?
    @OptionGroup var output: OutputOptions

    func validate() throws {
        if method.ranksData {
            guard train != nil && trainLabels != nil else { throw ValidationError("\(method.rawValue) needs --train and --train-labels") }
        } else if probe == nil {
            throw ValidationError("--probe is required (or rank activations with --method probeless, iou or gaussian)")
        }
        if (dev == nil) != (devLabels == nil) { throw ValidationError("--dev and --dev-labels go together") }
        guard (0...100).contains(percentile) else { throw ValidationError("--percentile must be in 0…100") }
        if method == .gaussian, let count, count < 1 { throw ValidationError("--count must be at least 1") }
        if method == .random, (count ?? -1) < 0 { throw ValidationError("random needs --count (a number of neurons ≥ 0)") }
        guard (1...10_000).contains(stride) else { throw ValidationError("--stride must be in 1…10000") }
        try requireNumber("fraction", fraction, "positive") { $0 > 0 }
    }

    func run() throws {
        let report: NeuronSelection.Result
        if method.ranksData {
            let x = try loadActivations(train!, layer: layer)
            let data = ProbeDataset(x: x, labels: try loadLines(trainLabels!, count: x.rows, what: "label"))
            var heldOut: ProbeDataset?
            if let dev, let devLabels {
                let y = try loadActivations(dev, layer: layer)
                guard y.columns == x.columns else { throw CLIError("\(dev): \(y.columns) neurons, but --train has \(x.columns)") }
                heldOut = ProbeDataset(x: y, labels: try loadLines(devLabels, count: y.rows, what: "label"), classes: data.classes)
            }
            report = try NeuronSelection.rank(method, data: data, heldOut: heldOut, percentile: percentile, count: count ?? 20, seed: seed)
        } else {
            let loaded = try ProbeFile.read(probe!)
            if let name = `class`, !loaded.classes.contains(name) {
                throw ValidationError("--class \(name): the probe's classes are \(loaded.classes.joined(separator: ", "))")
            }
            report = try NeuronSelection.select(
                method, probe: loaded, rawWeights: rawWeights, className: `class`, fraction: fraction, stride: stride, count: count ?? 0,
                seed: seed)
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

/// "ranking (first 20 of N): …", saying how many neurons are unranked; never index order.
func rankingLine(_ ranking: [Int], unranked: Int) -> String {
    guard !ranking.isEmpty else { return "ranking: none (no neuron has a nonzero weight)" }
    let head =
        "ranking (\(ranking.count > 20 ? "first 20 of \(ranking.count)" : "\(ranking.count) neurons")): "
        + ranking.prefix(20).map(String.init).joined(separator: " ")
    return head + (unranked > 0 ? "; \(unranked) neuron\(unranked == 1 ? "" : "s") with zero weight unranked" : "")
}
