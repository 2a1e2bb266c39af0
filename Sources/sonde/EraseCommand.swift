import ArgumentParser
import Foundation
import SondeLinalg
import SondeProbe

extension ConceptEraser.Method: ExpressibleByArgument {}

struct EraseCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "erase",
        abstract: "Remove a property from activations: fit a linear concept eraser (LEACE or INLP), apply it.",
        discussion: """
            LEACE (Belrose et al. 2023) is closed-form: the smallest change after which every class has \
            the same mean, so no linear probe beats the majority class. INLP (Ravfogel et al. 2020) \
            trains Sonde's probe --iterations times, projecting its weight directions out each time. \
            An eraser maps a row x to x − E(x − μ); it is saved as safetensors.

              sonde erase fit --train acts.npy --train-labels pos.txt --out pos.eraser.safetensors
              sonde erase apply --eraser pos.eraser.safetensors acts.npy --out acts-erased.npy
            """,
        subcommands: [EraseFitCommand.self, EraseApplyCommand.self])
}

struct EraseFitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fit",
        abstract: "Fit an eraser from activations and labels; with --test, check it with a probe before and after.")

    @Option(help: "Training activations (.npy, .npz, safetensors, NeuroX JSON/HDF5).") var train: String
    @Option(help: "Training labels, one per line.") var trainLabels: String
    @Option(help: "Held-out activations: a probe trained on the erased training rows is evaluated on them, erased.") var test: String?
    @Option(help: "Held-out labels.") var testLabels: String?
    @Option(help: "leace (closed form) or inlp (iterated nullspace projection).") var method: ConceptEraser.Method = .leace
    @Option(help: "INLP's rounds.") var iterations: Int = 10
    @Option(help: "λ of the probes (INLP's and the check's; elastic net, α 0.5).") var lambda: Double = 1e-3
    @Option(help: "The tensor to use in .npz/safetensors files.") var layer: String?
    @Option(help: "Where to save the eraser (safetensors).") var out: String
    @OptionGroup var output: OutputOptions

    func validate() throws {
        guard method != .random else { throw ValidationError("--method: random erasers are drawn, not fitted; use leace or inlp") }
        guard (1...1000).contains(iterations) else { throw ValidationError("--iterations must be in 1…1000") }
        try requireNumber("lambda", lambda, "positive") { $0 > 0 }
        if (test == nil) != (testLabels == nil) { throw ValidationError("--test and --test-labels go together") }
    }

    struct Check: Encodable {
        let rows: Int
        /// The share of the training majority class among the held-out rows.
        let majorityBaseline: Double
        let accuracyBefore: Double
        let accuracyAfter: Double
        /// True when the accuracy after erasure is within 0.02 of the majority baseline.
        let atBaseline: Bool
    }

    struct Report: Encodable {
        let method: ConceptEraser.Method
        let neurons: Int
        let rows: Int
        let classes: [String]
        let rank: Int
        /// The largest distance between a class's mean and the overall mean, before and after, on
        /// the training rows (LEACE makes it ≈ 0).
        let classMeanSpreadBefore: Double
        let classMeanSpreadAfter: Double
        /// INLP: each round's probe accuracy on the training rows before its directions went.
        let rounds: [Double]?
        let check: Check?
        let eraser: String
        let warnings: [String]
    }

    func run() throws {
        let x = try loadActivations(train, layer: layer)
        let data = ProbeDataset(x: x, labels: try loadLines(trainLabels, count: x.rows, what: "label"))
        let settings = ProbeSettings(penalty: .elasticNet(lambda: lambda, alpha: 0.5))
        let eraser: ConceptEraser
        var rounds: [Double]?
        switch method {
        case .leace: eraser = try ConceptEraser.leace(data)
        case .inlp, .random:
            let fitted = try ConceptEraser.inlp(data, iterations: iterations, settings: settings)
            (eraser, rounds) = (fitted.eraser, fitted.accuracies)
        }
        let erased = eraser.apply(x)
        var warnings: [String] = []
        if eraser.rank == 0 { warnings.append("nothing erased: the classes' means already agree (or every neuron is constant)") }
        var check: Check?
        if let test, let testLabels {
            let heldOut = try loadActivations(test, layer: layer)
            guard heldOut.columns == x.columns else {
                throw CLIError("\(test): \(heldOut.columns) neurons, but the training activations have \(x.columns)")
            }
            let labels = try loadLines(testLabels, count: heldOut.rows, what: "label")
            let before = FittedProbe.fit(data, settings: settings)
            let after = FittedProbe.fit(ProbeDataset(x: erased, labels: data.labels, classes: data.classes), settings: settings)
            let majority = data.classCounts.indices.max { data.classCounts[$0] < data.classCounts[$1] }.map { data.classes[$0] }
            let baseline = Double(labels.filter { $0 == majority }.count) / Double(max(labels.count, 1))
            let accuracyBefore = before.evaluate(ProbeDataset(x: heldOut, labels: labels, classes: data.classes)).accuracy
            let accuracyAfter = after.evaluate(ProbeDataset(x: eraser.apply(heldOut), labels: labels, classes: data.classes)).accuracy
            check = Check(
                rows: heldOut.rows, majorityBaseline: baseline, accuracyBefore: accuracyBefore, accuracyAfter: accuracyAfter,
                atBaseline: abs(accuracyAfter - baseline) <= 0.02)
            if accuracyAfter > baseline + 0.02 {
                warnings.append(
                    "a probe on the erased rows still beats the majority baseline on --test (\(format(accuracyAfter)) vs \(format(baseline)))"
                        + (method == .inlp ? "; try more --iterations" : ""))
            }
        }
        try eraser.write(to: out)
        let report = Report(
            method: method, neurons: x.columns, rows: x.rows, classes: data.classes, rank: eraser.rank,
            classMeanSpreadBefore: classMeanSpread(x, data), classMeanSpreadAfter: classMeanSpread(erased, data), rounds: rounds,
            check: check, eraser: out, warnings: warnings)
        for warning in warnings { writeMessage("sonde: warning: \(warning)\n") }
        if output.json { return try printJSON(report) }
        print("\(method.rawValue): erased \(report.rank) direction\(report.rank == 1 ? "" : "s") of \(report.neurons) neurons (\(report.classes.count) classes, \(report.rows) rows)")
        print("largest class-mean distance from the mean: \(format(report.classMeanSpreadBefore)) before, \(format(report.classMeanSpreadAfter)) after")
        if let rounds { print("INLP rounds' probe accuracy: " + rounds.map(format).joined(separator: " ")) }
        if let check {
            print(
                "held-out probe accuracy: \(format(check.accuracyBefore)) before, \(format(check.accuracyAfter)) after (majority baseline \(format(check.majorityBaseline)))"
            )
        }
        print("saved to \(out)")
    }

    /// max over classes of ‖μ_c − μ‖ (Euclidean, over neurons).
    func classMeanSpread(_ x: Matrix<Float>, _ data: ProbeDataset) -> Double {
        let (means, counts) = ProbeDataset(x: x, labels: data.labels, classes: data.classes).classMeans()
        let overall = x.columnStatistics().means
        return counts.indices.filter { counts[$0] > 0 }.map { c in
            overall.indices.reduce(0.0) { s, j in s + (means[c, j] - overall[j]) * (means[c, j] - overall[j]) }.squareRoot()
        }.max() ?? 0
    }

    func format(_ v: Double) -> String { String(format: "%.4f", v) }
}

struct EraseApplyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "apply", abstract: "Apply a saved eraser to activations; writes .npy.")

    @Option(help: "An eraser saved by `sonde erase fit`.") var eraser: String
    @Argument(help: "Activations to erase (.npy, .npz, safetensors, NeuroX JSON/HDF5).") var x: String
    @Option(help: "The tensor to use in .npz/safetensors files.") var layer: String?
    @Option(help: "Where to write the erased activations (.npy, float32).") var out: String
    @OptionGroup var output: OutputOptions

    struct Report: Encodable {
        let rows: Int
        let neurons: Int
        let method: ConceptEraser.Method
        let rank: Int
        let out: String
    }

    func run() throws {
        let loaded = try ConceptEraser.read(eraser)
        let activations = try loadActivations(x, layer: layer)
        guard activations.columns == loaded.neurons else {
            throw CLIError("\(x): \(activations.columns) neurons, but the eraser \(eraser) is for \(loaded.neurons)")
        }
        try NPY.write(TensorPayload(name: "x", matrix: loaded.apply(activations)), to: out)
        let report = Report(rows: activations.rows, neurons: activations.columns, method: loaded.method, rank: loaded.rank, out: out)
        if output.json { return try printJSON(report) }
        print("erased \(report.rank) direction\(report.rank == 1 ? "" : "s") (\(report.method.rawValue)) from \(report.rows) rows; wrote \(out)")
    }
}
