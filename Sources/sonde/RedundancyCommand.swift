import ArgumentParser
import Foundation
import SondeProbe
import SondeStudy

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
        let report = try NeuronRedundancy.analyze(
            layers: layers, names: names, tokens: tokens, settings: input.settings, threshold: threshold, delta: delta
        ) { ($0 == "layers" ? progress : search).update($1, $2) }
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

/// The minimal set as it was measured: its size over all neurons, its own dev accuracy, and
/// whether it reached the target at all.
func minimalLine(_ m: MinimalNeuronSet) -> String {
    let total = m.share > 0 ? Int((Double(m.neurons) / m.share).rounded()) : m.candidates
    var line =
        "minimal neuron set: \(m.neurons) of \(total) neurons (\(String(format: "%.1f", 100 * m.share))%, from \(m.candidates) candidates), dev \(f(m.devAccuracy)) vs \(f(m.oracleDevAccuracy)) for all"
    if let test = m.testAccuracy { line += ", test \(f(test))" }
    if !m.reached { line += "; NOT within \(m.delta) of all: every candidate together falls \(f(m.oracleDevAccuracy - m.devAccuracy)) short" }
    return line
}
