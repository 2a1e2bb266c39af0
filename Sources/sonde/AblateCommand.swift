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

    struct Report: Encodable {
        let evaluatedOn: String
        let neurons: Int
        let unablatedAccuracy: Double
        let points: [Ablation.Point]
        let curve: [Ablation.Point]?
        let minimal: MinimalNeuronSet?
        let modelScore: ModelScore?
        let model: [ModelAblation.Point]?
    }

    func run() throws {
        let splits = try data.load()
        let train = splits[0].data
        let settings = ProbeSettings(penalty: .elasticNet(lambda: lambda, alpha: alpha))
        let fitted = try probe.map { path in try withInputErrors { try ProbeFile.read(path) } } ?? FittedProbe.fit(train, settings: settings)
        guard fitted.neurons == train.neurons else { throw failure("the probe has \(fitted.neurons) neurons, the activations \(train.neurons)") }
        let evaluation = splits.last!
        // A saved probe's classes may be ordered differently from this data's: re-index the labels.
        let eval = ProbeDataset(
            x: evaluation.data.x, labels: evaluation.data.labels.map { $0 >= 0 ? evaluation.data.classes[$0] : "" }, classes: fitted.classes)
        let ordering = Rankings.neuronOrdering(fitted.standardizedWeights).ordering
        let fills = fill.split(separator: ",").compactMap { Ablation.Fill(rawValue: String($0)) }
        let counts = try parseCounts(k, of: fitted.neurons)
        let points = Ablation.curves(fitted, eval, ordering: ordering, counts: counts, fills: fills, seeds: seeds)
        let curvePoints =
            curve
            ? Ablation.curves(
                fitted, eval, ordering: ordering, counts: try parseCounts("1%,2%,5%,10%,20%,30%,50%,70%,100%", of: fitted.neurons), fills: fills,
                seeds: seeds)
            : nil
        var minimalSet: MinimalNeuronSet?
        if minimal, let dev = splits.first(where: { $0.name == "dev" }) {
            let progress = Progress(what: "minimal set: probes")
            minimalSet = MinimalNeuronSet.search(
                train: train, dev: dev.data, test: splits.first { $0.name == "test" }?.data, ordering: ordering, settings: settings,
                delta: delta, oracle: probe == nil ? fitted : nil
            ) { progress.update($0, $0) }
        }
        var modelScore: ModelScore?
        var modelPoints: [ModelAblation.Point]?
        if let model, let modelCorpus, let modelLayer = (modelLayer ?? data.layer).flatMap(layerNumber) {
            (modelScore, modelPoints) = try insideModel(
                model, corpus: modelCorpus, layer: modelLayer, probe: fitted, ordering: ordering, counts: counts,
                fill: fills.first ?? .zero, evaluation: evaluation)
        }
        let report = Report(
            evaluatedOn: evaluation.name, neurons: fitted.neurons, unablatedAccuracy: fitted.evaluate(eval).accuracy, points: points,
            curve: curvePoints, minimal: minimalSet, modelScore: modelScore, model: modelPoints)
        if output.json { return try printJSON(report) }
        print("probe on \(fitted.neurons) neurons, evaluated on \(evaluation.name): accuracy \(f(report.unablatedAccuracy))")
        var table = [["fill", "kind", "k", "top", "random (± sd)", "bottom"]]
        for fill in fills {
            for kind in Ablation.Kind.allCases {
                for count in counts {
                    func point(_ s: Ablation.Selection) -> Ablation.Point? {
                        points.first { $0.fill == fill && $0.kind == kind && $0.selection == s && $0.neurons == count }
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
        if let m = minimalSet {
            print(minimalLine(m))
        }
        if let modelScore, let modelPoints {
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

    /// The ablation inside the model (`ModelAblation`), after checking that the activations come
    /// from this very checkpoint: one model's neurons scored inside another mean nothing.
    func insideModel(
        _ folder: String, corpus: String, layer: Int, probe: FittedProbe, ordering: [Int], counts: [Int], fill: Ablation.Fill,
        evaluation: ProbeData.Split
    ) throws -> (ModelScore, [ModelAblation.Point]) {
        let model = try loadModel(folder, tokenizer: tokenizer)
        let trainFile = try withInputErrors { try TensorCollection.read(data.train) }
        let recorded = ActivationFile.identity(trainFile)
        if let reason = recorded.mismatch(with: model.identity) {
            throw failure(
                "\(data.train) was not extracted from \(folder): \(reason); pass the --model it came from\(trainFile.metadata["model"].map { " (\($0))" } ?? "")"
            )
        }
        if recorded.fingerprint == nil {
            writeMessage("sonde: warning: \(data.train) does not record its checkpoint, so it cannot be checked against \(folder)\n")
        }
        let scored = try readTreebank([corpus], limit: modelLimit).sentences.map { $0.words.map(\.form) }
        let which = ["test", "dev", "train"].firstIndex(of: evaluation.name)!
        // The evaluation split's sentences, when it came from a treebank (the same sentences as its file).
        let evaluationSentences = try [data.testCorpus, data.devCorpus, data.trainCorpus][which].map { path in
            try alignedTreebank(path, for: [data.test, data.dev, data.train][which]!).sentences.map { $0.words.map(\.form) }
        }
        let labels = evaluation.data.labels.map { $0 >= 0 ? evaluation.data.classes[$0] : "" }
        let progress = Progress(what: "ablations inside the model")
        let result = try withInputErrors {
            try ModelAblation.run(
                model, layer: layer, probe: probe, ordering: ordering, counts: counts, fill: fill, seeds: seeds, scored: scored,
                evaluation: evaluationSentences.map { ModelAblation.Evaluation(sentences: $0, labels: labels) }, progress: progress.update)
        }
        return (result.unablated, result.points)
    }
}

struct RedundancyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "redundancy",
        abstract:
            "How redundant neurons and layers are: correlation clusters, layer similarity, the lowest sufficient layer, the minimal neuron set.",
        discussion: """
            On an activation file extracted from --corpus (or a model folder run on it), with the \
            property's labels (train, dev and test by sentence: of every five, the fourth is dev, \
            the fifth test). Per layer: correlation clusters of its neurons (Pearson, dissimilarity \
            1 − |r|, average linkage cut at --threshold), a probe's accuracy, and the accuracy when \
            one neuron per cluster is kept. Across layers: linear CKA, a probe on all layers (the \
            oracle) and the lowest layer within --delta of it. Finally the minimal neuron set over \
            all layers: rank (a probe on all neurons), keep the first-ranked neuron of each cluster, \
            retrain on the top k for growing k until dev comes within --delta of the oracle.
            """)

    @Argument(help: "An activation file extracted from --corpus, or a model folder.") var activations: String
    @OptionGroup var input: StudyInput
    @Option(help: "Cut the dendrogram at this dissimilarity (1 − |r|).") var threshold = 0.3
    @Option(help: "Tolerance below the oracle, in accuracy points.") var delta = 0.01
    @OptionGroup var output: OutputOptions

    func validate() throws {
        try requireNumber("threshold", threshold, "in [0, 1]") { (0...1).contains($0) }
        try requireNumber("delta", delta, "in [0, 1]") { (0...1).contains($0) }
    }

    func run() throws {
        let (treebank, tokens) = try input.treebank(for: [activations])
        let (names, layers, _) = try input.activations(activations, treebank)
        let progress = Progress(what: "layers"), search = Progress(what: "minimal set: probes")
        let report = try withStudyErrors {
            try NeuronRedundancy.analyze(layers: layers, names: names, tokens: tokens, settings: input.settings, threshold: threshold, delta: delta) {
                ($0 == "layers" ? progress : search).update($1, $2)
            }
        }
        if output.json { return try printJSON(report) }
        let rows = report.layers, cka = report.layerRedundancy.cka
        formatTable(
            [["layer", "neurons", "clusters", "largest", "accuracy", "one per cluster", "CKA with next"]]
                + rows.enumerated().map { l, r in
                    [
                        r.layer, "\(r.neurons)", "\(r.clusters)", "\(r.largestCluster)", f(r.accuracy), f(r.accuracyOnePerCluster),
                        l + 1 < rows.count ? f(cka[l][l + 1]) : "",
                    ]
                }
        ).forEach { print($0) }
        print(
            "oracle (all layers) \(f(report.layerRedundancy.oracleAccuracy)); lowest layer within \(delta): \(report.layerRedundancy.selectedLayer ?? "none")"
        )
        print(
            minimalLine(report.minimal) + "; by layer "
                + report.minimalByLayer.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: ", "))
        for row in rows where !row.clusterMembers.isEmpty {
            print(
                "\(row.layer) clusters of 2 or more: "
                    + row.clusterMembers.prefix(8).map { "{" + $0.map(String.init).joined(separator: " ") + "}" }.joined(separator: " ")
                    + (row.clusterMembers.count > 8 ? " … (\(row.clusterMembers.count) in all; every cluster in --json)" : ""))
        }
    }
}

private func f(_ x: Double) -> String { String(format: "%.4f", x) }

/// The minimal set as it was measured: its size over all neurons, its own dev accuracy, and
/// whether it reached the target at all.
private func minimalLine(_ m: MinimalNeuronSet) -> String {
    let total = m.share > 0 ? Int((Double(m.neurons) / m.share).rounded()) : m.candidates
    var line =
        "minimal neuron set: \(m.neurons) of \(total) neurons (\(String(format: "%.1f", 100 * m.share))%, from \(m.candidates) candidates), dev \(f(m.devAccuracy)) vs \(f(m.oracleDevAccuracy)) for all"
    if let test = m.testAccuracy { line += ", test \(f(test))" }
    if !m.reached { line += "; NOT within \(m.delta) of all: every candidate together falls \(f(m.oracleDevAccuracy - m.devAccuracy)) short" }
    return line
}
