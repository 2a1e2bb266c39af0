import ArgumentParser
import Foundation
import SondeBase
import SondeCorpus
import SondeLinalg
import SondeModels
import SondeProbe
import SondeSimilarity
import SondeStudy

/// What `dynamics` and `compare` share: where the activations come from (model folders run on
/// the treebank, or activation files extracted from it), the property, the probe and SVCCA settings.
struct StudyInput: ParsableArguments {
    @Option(help: "The treebank the tokens come from (any format `sonde corpus` reads).") var corpus: String
    @Option(help: "The property to probe, e.g. upos, feats.Number, deprel.base.") var property: String
    @Option(help: "A tag-set mapping applied to the property's labels.") var map: String?
    @Option(help: "The tokenizer.json of the model folders (default: each folder's own).") var tokenizer: String?
    @Option(help: "Use only the first N sentences.") var limit: Int?
    @Option(help: "Layers, e.g. 0,2,4 (default: all).") var layers: String?
    @Option(help: "How many top neurons count as salient.") var k = 20
    @Option(help: "The probes' elastic-net λ.") var lambda = 1e-3
    @Option(help: "The probes' elastic-net α.") var alpha = 0.5
    @Option(help: "SVCCA: keep the fewest directions reaching this share of Σs².") var keep = 0.99
    @Option(help: "SVCCA: keep this many directions instead.") var dims: Int?
    @Option(help: "Similarity measures, comma-separated (svcca, svcca-20, pwcca, cka, cca, procrustes; default: dynamics svcca,pwcca,cka, compare svcca,cka).")
    var measures: String?

    func validate() throws {
        if k < 1 { throw ValidationError("--k must be at least 1") }
        try requireNumber("lambda", lambda, "positive") { $0 > 0 }
        try requireNumber("alpha", alpha, "in [0, 1]") { (0...1).contains($0) }
        try requireNumber("keep", keep, "in (0, 1]") { $0 > 0 && $0 <= 1 }
        if let limit, limit < 1 { throw ValidationError("--limit must be at least 1") }
        if let measures {
            do { _ = try SimilarityMeasures.list(measures) } catch { throw ValidationError("--measures: \(error)") }
        }
    }

    var rule: SVCCAKeep { dims.map { .dimensions($0) } ?? .variance(keep) }

    /// The measures named by --measures (or `defaults`), SVCCA with --keep/--dims.
    func similarityMeasures(_ defaults: [any SimilarityMeasure]) throws -> [any SimilarityMeasure] {
        let chosen = try measures.map { try SimilarityMeasures.list($0) } ?? defaults
        return chosen.map { ($0 as? SimilarityMeasures.SVCCA)?.name == "svcca" ? SimilarityMeasures.SVCCA(keep: rule) : $0 }
    }
    var settings: ProbeSettings { ProbeSettings(penalty: .elasticNet(lambda: lambda, alpha: alpha)) }

    /// The treebank's first --limit sentences or, without one, as many as the first activation
    /// file among `sources` was extracted from (`sonde extract --limit`), labelled.
    func treebank(for sources: [String]) throws -> (Corpus, StudyTokens) {
        let recorded = sources.lazy.compactMap { ActivationSource($0, tokenizer: tokenizer).extractionLimit }.first
        let treebank = try readTreebank([corpus], limit: limit ?? recorded)
        let property = try parseProperty(self.property)
        let mapping = try map.map { path in try TagMapping(path: path) }
        let labelled = try LabelledCorpus(treebank, property: property, mapping: mapping)
        return (treebank, labelled.tokens)
    }

    /// The chosen layers of one source — a model folder (run on the treebank) or an activation
    /// file extracted from it — as [tokens × neurons] matrices, and their names.
    func activations(_ source: String, _ treebank: Corpus) throws -> (names: [String], layers: [Matrix<Float>], identity: ModelIdentity) {
        let requested = try layers.map(parseLayerNumbers)
        let progress = Progress(what: "\((source as NSString).lastPathComponent): sentences")
        let result = try ActivationSource(source, tokenizer: tokenizer).layers(requested, for: treebank, corpusName: corpus) {
            progress.update($0, treebank.sentences.count)
        }
        return (result.names, result.matrices, result.identity)
    }

}

struct DynamicsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dynamics",
        abstract: "Follow a property over training: similarity, probes and salient neurons of every checkpoint against a reference.",
        discussion: """
            For each checkpoint and layer: SVCCA, PWCCA and linear CKA to the reference's same \
            layer (default reference: the last checkpoint; or a tagger, a fine-tuned model …); a \
            probe (held-out accuracy on every fifth sentence, control-task selectivity); the \
            stability of its neuron ranking against the reference's probe (Jaccard at k, rank \
            correlation); the alignment of its top-k neurons with the SVCCA directions (A = the \
            share of the ρ-weighted direction mass Σᵢρᵢaᵢⱼ²/Σᵢρᵢ that the k neurons hold; range \
            [0, 1], chance k/D, with the exact spread of random k-sets and a z-score: a z near 0 means \
            the ranking picks neurons no more aligned than random ones); the mean correlation of \
            the directions the probe's weights read (scale-free, free of neuron indices) against \
            the plain mean; the share of the weights in the SVCCA subspace; and the activation \
            concentration ‖x‖₂/‖x‖₁. One row per checkpoint × layer.
            """)

    @Argument(help: "Checkpoints in training order: model folders, or activation files extracted from --corpus.") var checkpoints: [String]
    @Option(help: "The reference to compare with (default: the last checkpoint).") var reference: String?
    @OptionGroup var input: StudyInput
    @OptionGroup var output: OutputOptions

    func run() throws {
        guard !checkpoints.isEmpty else { throw ValidationError("give the checkpoints") }
        let (treebank, tokens) = try input.treebank(for: checkpoints + (reference.map { [$0] } ?? []))
        var sources: [(name: String, layers: [Matrix<Float>])] = []
        var names: [String] = []
        for path in checkpoints {
            let (layerNames, layers, _) = try input.activations(path, treebank)
            names = layerNames
            sources.append(((path as NSString).lastPathComponent, layers))
        }
        let referenceLayers = try reference.map { try input.activations($0, treebank).layers } ?? sources.last!.layers
        guard referenceLayers.count == names.count, sources.allSatisfy({ $0.layers.count == names.count }) else {
            throw CLIError("the checkpoints and the reference do not have the same layers")
        }
        let progress = Progress(what: "checkpoint × layer")
        var dynamics = try Comparator.dynamics(
            checkpoints: sources, reference: referenceLayers, layerNames: names, tokens: tokens, k: input.k, keep: input.rule,
            measures: try input.similarityMeasures(SimilarityMeasures.dynamicsDefault), settings: input.settings, progress: progress.update)
        dynamics.attachStoredConcentration(checkpoints)
        if output.json { return try printJSON(dynamics) }
        var table = [
            ["checkpoint", "layer"] + dynamics.measures + [
                "accuracy", "selectivity", "jaccard@k", "alignment (chance ± sd)", "z", "directions", "probe ρ (mean ρ)", "probe energy (chance)",
                "in kept (chance)",
            ]
        ]
        for r in dynamics.rows {
            table.append(
                [r.checkpoint, r.layer] + dynamics.measures.map { f(r.similarity[$0] ?? .nan) } + [
                f(r.probeAccuracy), f(r.selectivity), f(r.jaccardAtK),
                "\(f(r.alignment)) (\(f(r.alignmentChance)) ± \(f(r.alignmentNullSD)))", r.alignmentZ.map { String(format: "%+.1f", $0) } ?? "–",
                String(r.alignmentDirections), "\(f(r.probeCorrelation)) (\(f(r.probeCorrelationChance)))",
                "\(f(r.probeEnergy)) (\(f(r.probeEnergyChance)))", "\(f(r.probeEnergyInKept)) (\(f(r.probeEnergyInKeptChance)))",
            ])
        }
        formatTable(table).forEach { print($0) }
        print(
            """

            alignment: the share of the correlation-weighted SVCCA direction mass (squared canonical loadings) held by \
            the top-\(input.k) neurons (chance k/D; z against random sets of k neurons, exact; "–": the directions \
            weigh every neuron alike, as for a layer against itself, so no set can differ); directions: the canonical \
            pairs used. In X's whitened coordinates: probe ρ, the mean canonical correlation of the directions the \
            probe's logit variance lies in (against the plain mean); probe energy, the share of that variance in the \
            canonical span (chance m/r); in kept, the share from the principal directions SVCCA kept (chance kx/r). \
            `sonde align` gives the same figures for any ranking and pair of files.
            """)
        if let stored = dynamics.trainingConcentration {
            print("\nconcentration ‖x‖₂/‖x‖₁ measured at training (dev words; activation / gradient per state):")
            let names = checkpoints.map { ($0 as NSString).lastPathComponent }.filter { stored[$0] != nil }
            formatTable(
                [["checkpoint"] + stored[names[0]]!.states]
                    + names.map { n in
                        let all = stored[n]!.all
                        return [n]
                            + all.activation.indices.map { k in f(all.activation[k]) + (all.gradient.isEmpty ? "" : " / " + f(all.gradient[k])) }
                    }
            ).forEach { print($0) }
        }
        if dynamics.layers.count > 1, let last = sources.last, let matrix = dynamics.layerCKA[last.name] {
            print("\nlayer × layer linear CKA in \(last.name):")
            formatTable([[""] + dynamics.layers] + zip(dynamics.layers, matrix).map { [$0] + $1.map(f) }).forEach { print($0) }
        }
    }
}

struct CompareCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare",
        abstract: "Compare two models of one architecture (pre-trained and fine-tuned) on a property.",
        discussion: """
            Per layer: SVCCA and linear CKA between the two models, probe accuracy and selectivity \
            for both, and the overlap of their top-k neurons. Over all layers at once: a probe on \
            every neuron of every layer, its top-k neurons counted by layer for both models, and \
            their mean layer — Durrani et al.'s "fine-tuning moves linguistic neurons to lower \
            layers" as one number before and after.
            """)

    @Option(help: "The base model: a model folder or an activation file extracted from --corpus.") var base: String
    @Option(help: "The other model (e.g. fine-tuned from the base).") var other: String
    @Flag(
        help:
            "Compare models of different architectures or widths: only the index-free measures (SVCCA, CKA, accuracies, layer histograms), no neuron overlap."
    ) var allowDifferent = false
    @OptionGroup var input: StudyInput
    @OptionGroup var output: OutputOptions

    func run() throws {
        let (treebank, tokens) = try input.treebank(for: [base, other])
        let a = try input.activations(base, treebank), b = try input.activations(other, treebank)
        let sameKind = ModelComparison.neuronsCorrespond(
            base: a.layers, other: b.layers, architectures: (a.identity.architecture, b.identity.architecture))
        if !sameKind && !allowDifferent {
            throw ValidationError(
                "\(base) (\(a.identity.architecture ?? "unknown architecture")) and \(other) (\(b.identity.architecture ?? "unknown architecture")) are not one architecture of one width, so their neuron indices do not correspond; add --allow-different for the index-free measures only"
            )
        }
        guard a.names == b.names else {
            throw CLIError(
                "\(base) and \(other) do not have the same layers (\(a.names.joined(separator: ",")) vs \(b.names.joined(separator: ",")))")
        }
        if let fingerprint = a.identity.fingerprint, fingerprint == b.identity.fingerprint {
            writeMessage("sonde: warning: \(base) and \(other) are the same checkpoint (fingerprint \(fingerprint))\n")
        }
        let progress = Progress(what: "layers")
        let report = try ModelComparison.compare(
            base: a.layers, other: b.layers, layerNames: a.names, tokens: tokens, k: input.k,
            measures: try input.similarityMeasures(SimilarityMeasures.comparisonDefault), settings: input.settings,
            sameNeurons: sameKind, progress: progress.update)
        if output.json { return try printJSON(report) }
        var table = [["layer"] + report.measures + ["accuracy base", "accuracy other", "top-k overlap"]]
        for l in report.layers {
            table.append(
                [l.layer] + report.measures.map { f(l.similarity[$0] ?? .nan) } + [
                    f(l.baseAccuracy), f(l.otherAccuracy), l.topKOverlap.map(f) ?? "–",
                ])
        }
        formatTable(table).forEach { print($0) }
        print(
            "top-\(report.k) neurons by layer: base \(report.baseHistogram) (mean layer \(f(report.baseMeanLayer))), other \(report.otherHistogram) (mean layer \(f(report.otherMeanLayer)))"
        )
    }
}
