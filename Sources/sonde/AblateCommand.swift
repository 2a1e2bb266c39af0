import ArgumentParser
import Foundation
import SondeBase
import SondeCorpus
import SondeLinalg
import SondeModels
import SondeProbe
import SondeSimilarity
import SondeStudy

/// Neuron counts given as numbers or percentages of the neurons ("10%,15%,20%" or "5,10,50").
func parseCounts(_ text: String, of neurons: Int) throws -> [Int] {
    try text.split(separator: ",").map { item in
        if item.hasSuffix("%"), let share = Double(item.dropLast()), share >= 0, share <= 100 {
            return Int((share / 100 * Double(neurons)).rounded())
        }
        guard let count = Int(item), count >= 0 else { throw ValidationError("'\(item)' is neither a count nor a percentage") }
        return min(count, neurons)
    }
}

struct AblateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ablate",
        abstract:
            "How much of a probe's accuracy lives in its top neurons: ablation without retraining, the minimal neuron set, and ablation inside the model.",
        discussion: """
            Keeps only, or removes, the top / random / bottom k neurons of the probe's ranking \
            (NeuroX's neuron ordering of the standardised weights), replacing the others by 0 or by \
            their training mean, and reports the probe's accuracy without retraining (NeuroX's \
            protocol at 10/15/20% by default; --curve for a whole curve). Random selections are \
            averaged over --seeds with their spread. --minimal retrains probes on the top k for \
            growing k and reports the smallest set within --delta (accuracy points) of the probe \
            on all neurons, on dev. With --model, the same top and random neurons are ablated \
            inside the model's forward pass at --model-layer, and the model's own loss on \
            --model-corpus is reported: what the model loses, not just the probe.
            """)

    @OptionGroup var data: ProbeData
    @Option(help: "A saved probe (`sonde probe --save`) instead of training one.") var probe: String?
    @Option(help: "The probe's elastic-net λ when Sonde trains it.") var lambda = 1e-3
    @Option(help: "The probe's elastic-net α.") var alpha = 0.5
    @Option(help: "Neuron counts or percentages to ablate.") var k = "10%,15%,20%"
    @Flag(help: "Also a curve over 1, 2, 5, 10, 20, 30, 50, 70 and 100% of the neurons.") var curve = false
    @Option(help: "What ablated neurons become: zero, mean, or both (comma-separated).") var fill = "zero,mean"
    @Option(help: "Random selections per count.") var seeds = 5
    @Flag(help: "Find the minimal neuron set by retraining (needs --dev).") var minimal = false
    @Option(help: "The minimal set's tolerance below the full probe, in accuracy points.") var delta = 0.01
    @Option(help: "A model folder to ablate inside (the activations' model).") var model: String?
    @Option(help: "The model's tokenizer.json (default: in the model folder).") var tokenizer: String?
    @Option(help: "The treebank on which the model's own loss is measured.") var modelCorpus: String?
    @Option(help: "The model layer the activations came from: 2 or layer2 (0 = embeddings; default: --layer's).") var modelLayer: String?
    @Option(help: "Use only the first N sentences of --model-corpus.") var modelLimit: Int?
    @OptionGroup var output: OutputOptions

    func validate() throws {
        if minimal && data.dev == nil { throw ValidationError("--minimal chooses the set on dev: give --dev") }
        if model != nil && (modelCorpus == nil || (modelLayer ?? data.layer).flatMap(layerNumber) == nil) {
            throw ValidationError("--model needs --model-corpus and the layer (--model-layer, or --layer as 2 or layer2)")
        }
        if seeds < 1 { throw ValidationError("--seeds must be at least 1") }
        try requireNumber("delta", delta, "in [0, 1]") { (0...1).contains($0) }
        try requireNumber("lambda", lambda, "positive") { $0 > 0 }
        try requireNumber("alpha", alpha, "in [0, 1]") { (0...1).contains($0) }
        for f in fill.split(separator: ",") where Ablation.Fill(rawValue: String(f)) == nil {
            throw ValidationError("--fill: '\(f)' is not zero or mean")
        }
    }

    func run() throws {
        let splits = try data.load()
        let saved = try probe.map { path in try ProbeFile.read(path) }
        let fills = fill.split(separator: ",").compactMap { Ablation.Fill(rawValue: String($0)) }
        let neurons = splits[0].data.neurons
        let settings = AblationStudy.Settings(
            counts: try parseCounts(k, of: neurons), curve: curve ? try parseCounts("1%,2%,5%,10%,20%,30%,50%,70%,100%", of: neurons) : nil,
            fills: fills, seeds: seeds, minimalDelta: minimal ? delta : nil)
        let inModel = try model.map { try insideModel($0, evaluation: splits.last!.name) }
        let progress = [Progress(what: "minimal set: probes"), Progress(what: "ablations inside the model")]
        let report = try AblationStudy.run(
            splits, probe: saved, probeSettings: ProbeSettings(penalty: .elasticNet(lambda: lambda, alpha: alpha)), settings: settings,
            inModel: inModel
        ) { progress[$0 == "model" ? 1 : 0].update($1, $2) }
        if output.json { return try printJSON(report) }
        print("probe on \(report.neurons) neurons, evaluated on \(report.evaluatedOn): accuracy \(f(report.unablatedAccuracy))")
        var table = [["fill", "kind", "k", "top", "random (± sd)", "bottom"]]
        for fill in fills {
            for kind in Ablation.Kind.allCases {
                for count in settings.counts {
                    func point(_ s: Ablation.Selection) -> Ablation.Point? {
                        report.points.first { $0.fill == fill && $0.kind == kind && $0.selection == s && $0.neurons == count }
                    }
                    let random = point(.random)
                    table.append([
                        fill.rawValue, kind.rawValue, "\(count)", point(.top).map { f($0.accuracy) } ?? "",
                        random.map { "\(f($0.accuracy)) ± \(f($0.accuracySD ?? 0))" } ?? "", point(.bottom).map { f($0.accuracy) } ?? "",
                    ])
                }
            }
        }
        formatTable(table).forEach { print($0) }
        if let m = report.minimal { print(minimalLine(m)) }
        if let modelScore = report.modelScore, let modelPoints = report.model {
            print("model's own \(modelScore.task) loss \(f(modelScore.loss)) unablated")
            formatTable(
                [["ablated", "k", "loss", "change", "probe accuracy (re-extracted)"]]
                    + modelPoints.map {
                        [
                            $0.selection, "\($0.neurons)", f($0.loss) + ($0.lossSD.map { " ± " + f($0) } ?? ""),
                            String(format: "%+.4f", $0.lossChange), $0.accuracy.map(f) ?? "–",
                        ]
                    }
            ).forEach { print($0) }
        }
    }

    /// The model to ablate inside, checked to be the activations' own checkpoint, with the
    /// sentences its loss is measured on and the evaluation split's sentences (when it came from
    /// a treebank).
    func insideModel(_ folder: String, evaluation: String) throws -> AblationStudy.InModel {
        let model = try loadModel(folder, tokenizer: tokenizer)
        let inputs = try data.inputs
        let source = [inputs.test, inputs.dev, inputs.train][["test", "dev", "train"].firstIndex(of: evaluation)!]!
        if let warning = try ActivationSource.requireSameModel(data.train, as: model) { writeMessage("sonde: warning: \(warning)\n") }
        return AblationStudy.InModel(
            model: model, layer: (modelLayer ?? data.layer).flatMap(layerNumber)!,
            scored: try readTreebank([modelCorpus!], limit: modelLimit).sentences.map { $0.words.map(\.form) },
            evaluationSentences: try inputs.sentences(of: source))
    }
}
