import Foundation
import SondeBase
import SondeReport
import SondeSimilarity
import SondeStudy

/// The report of an experiment: one self-contained HTML page (inline CSS and SVG, no script, no
/// external resource, readable when printed). Training: perplexity and concentration over
/// training. Per property: probe accuracy and selectivity per layer with their spread over seeds;
/// the top neurons; ablation curves (kept and removed); the minimal neuron set; probes, SVCCA to
/// the last checkpoint and to the tagger over training; the alignment of the top neurons with
/// the SVCCA directions beside its chance level; pre-trained vs fine-tuned (SVCCA, top-k overlap,
/// where the top neurons lie); top words in activation-shaded context. Every chart has axes, a
/// legend and a caption that says how to read it.
public enum ExperimentReport {
    public static func html(_ r: ExperimentResults) -> String {
        var page = Chart.pageStart("Sonde study report")
        let e = r.experiment
        page += "<p>Treebank: \(e.corpus.map { xmlEscape(($0 as NSString).lastPathComponent) }.joined(separator: ", "))"
        page += e.limit > 0 ? " (first \(e.limit) sentences)" : ""
        if let models = e.models {
            page +=
                ". Models: \(r.checkpointNames.count) checkpoint\(r.checkpointNames.count == 1 ? "" : "s") (\(r.checkpointNames.map(xmlEscape).joined(separator: ", ")); the last is probed)"
            if let reference = models.reference { page += "; reference \(xmlEscape((reference as NSString).lastPathComponent))" }
            if let finetuned = models.finetuned { page += "; fine-tuned copy \(xmlEscape((finetuned as NSString).lastPathComponent))" }
        } else {
            page += ". A native LSTM language model (\(e.lstm.layers) layers × \(e.lstm.hidden) neurons) trained for \(e.lstm.steps) steps"
            page += "; checkpoints at steps \(r.checkpoints.map { String($0.step) }.joined(separator: ", "))"
            if let last = r.checkpoints.last, let p = last.devPerplexity { page += " (dev perplexity \(String(format: "%.1f", p)) at the last)" }
            if let t = r.tagger { page += "; a tagger on \(xmlEscape(e.tagger ?? "")) (dev accuracy \(f(t.devAccuracy)))" }
            if let ft = r.finetuned {
                page += "; the last checkpoint fine-tuned on \(xmlEscape(e.finetune ?? "")) (dev accuracy \(f(ft.devAccuracy)))"
            }
        }
        page +=
            ". Probes: elastic net λ = \(e.lambda), α = \(e.alpha), seeds \(e.seeds.map(String.init).joined(separator: ", ")); dev = every fourth of five sentences. Sonde \(r.version).</p>\n"
        if let claims = r.claims { page += claimsTable(claims) }
        for w in r.warnings { page += "<p class=\"warn\">Warning: \(xmlEscape(w))</p>\n" }
        if !r.checkpoints.isEmpty { page += trainingCharts(r) }
        for p in r.properties { page += section(p, r) }
        if let interactions = r.interactions { page += interactionsSection(interactions) }
        if let t = r.taskSpaces { page += taskSpaceSection(t, r) }
        return page + "</body></html>\n"
    }

    /// The study's claims and their computed verdicts, first on the page.
    static func claimsTable(_ claims: [ClaimResult]) -> String {
        var out =
            "<h2>Claims</h2>\n<figure><table><tr><th style=\"text-align:left\">claim</th><th>verdict</th><th style=\"text-align:left\">measured</th></tr>\n"
        for c in claims {
            let colour = c.verdict == .holds ? "#2a7d2a" : c.verdict == .doesNotHold ? "#a33" : "#777"
            out +=
                "<tr><td style=\"text-align:left\">\(xmlEscape(c.claim))<br><small>\(xmlEscape(c.kind.rawValue)): \(xmlEscape(c.quantities.joined(separator: " · ")))</small></td><td style=\"color:\(colour)\"><b>\(c.verdict.rawValue)</b></td><td style=\"text-align:left\">\(xmlEscape(c.reason))</td></tr>\n"
        }
        return out
            + "</table><figcaption>Each claim the experiment declares ([[claims]]), evaluated from this study's numbers: holds, does not hold, or undecided (a difference within the claim's tolerance or the seeds' spread).</figcaption></figure>\n"
    }

    /// Over training: probe accuracy per layer, each similarity measure to the last checkpoint
    /// and to the reference, and the alignment of the top neurons with the SVCCA directions.
    /// `references`: the reference models' dynamics by a name for captions ("tagger").
    static func dynamicsCharts(_ d: Dynamics, references: [(name: String, dynamics: Dynamics)], property: String, k: Int) -> String {
        var out = ""
        let rows = d.rows
        let checkpoints = rows.map(\.checkpoint).reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }
        let byLayer = { (d: Dynamics, value: (DynamicsRow) -> Double) in
            d.layers.map { layer in (layer, checkpoints.map { c in d.rows.first { $0.checkpoint == c && $0.layer == layer }.map(value) }) }
        }
        out += Chart.figure(
            Chart.lineChart(x: checkpoints, series: byLayer(d) { $0.probeAccuracy }, yLabel: "dev accuracy", xLabel: "checkpoint"),
            "Probe accuracy for \(xmlEscape(property)) on each layer over training: when the property becomes linearly readable.")
        for measure in d.measures {
            let title = SimilarityMeasures.title(measure)
            out += Chart.figure(
                Chart.lineChart(x: checkpoints, series: byLayer(d) { $0.similarity[measure] ?? .nan }, yLabel: title, xLabel: "checkpoint"),
                "\(xmlEscape(title)) similarity of each layer to the same layer of the last checkpoint\(measure == "svcca" ? " (mean canonical correlation of the top principal directions)" : "")."
            )
            for (referenceName, t) in references {
                out += Chart.figure(
                    Chart.lineChart(x: checkpoints, series: byLayer(t) { $0.similarity[measure] ?? .nan }, yLabel: title, xLabel: "checkpoint"),
                    "\(xmlEscape(title)) similarity of each layer to the same layer of the \(referenceName), over training (Saphra & Lopez's comparison)."
                )
            }
        }
        let kept = d.layers.map { layer in
            "\(layer): "
                + checkpoints.map { c in rows.first { $0.checkpoint == c && $0.layer == layer }.map { String($0.alignmentDirections) } ?? "–" }
                .joined(separator: ", ")
        }
        out += Chart.figure(
            Chart.lineChart(
                x: checkpoints,
                series: byLayer(d) { $0.alignmentZ ?? .nan } + [("chance (z = 0)", checkpoints.map { _ in 0 })],
                yLabel: "alignment z", xLabel: "checkpoint"),
            "Whether the probe's top-\(k) neurons of each layer are the ones the SVCCA directions shared with the last checkpoint rest on (their canonical loadings), over training, as a z-score against random sets of \(k) neurons (exact): beyond about 3, the neurons the probe ranks highest carry the shared directions; a gap where every direction weighs the neurons alike (the last checkpoint against itself). Canonical directions used per checkpoint — \(xmlEscape(kept.joined(separator: "; "))): a series whose counts differ several-fold compares unlike subspaces."
        )
        return out
    }

    /// A number in the text; a degenerate (non-finite) one as a dash, never "nan".
    private static func f(_ x: Double) -> String { x.isFinite ? String(format: "%.3f", x) : "–" }

    private static func trainingCharts(_ r: ExperimentResults) -> String {
        var out = "<h2>Training</h2>\n"
        let steps = r.checkpoints.map { "\($0.step)" }
        out += Chart.figure(
            Chart.lineChart(
                x: steps, series: [("dev perplexity", r.checkpoints.map { $0.devPerplexity })], yLabel: "perplexity", xLabel: "training step"),
            "The language model's perplexity on dev sentences at each checkpoint (lower is better).")
        if let states = r.checkpoints.last?.concentration?.states {
            let activation = states.indices.map { s in (states[s], r.checkpoints.map { $0.concentration.map { c in c.all.activation[s] } }) }
            out += Chart.figure(
                Chart.lineChart(x: steps, series: activation, yLabel: "‖x‖₂ / ‖x‖₁", xLabel: "training step"),
                "Concentration of each state (layer0 = embeddings) over training: the mean of ‖x‖₂/‖x‖₁ over dev words — 1/√D when activity is spread evenly over D neurons, 1 when one neuron carries it (Saphra & Lopez 2019)."
            )
            let gradient = states.indices.map { s in
                (states[s], r.checkpoints.map { $0.concentration.flatMap { c in c.all.gradient.isEmpty ? nil : c.all.gradient[s] } })
            }
            out += Chart.figure(
                Chart.lineChart(x: steps, series: gradient, yLabel: "‖g‖₂ / ‖g‖₁", xLabel: "training step"),
                "Concentration of the gradient of the language-model loss reaching each state, over training.")
        }
        return out
    }

    /// LEACE at the best layer: the probe before and after, and the model's loss with the
    /// property erased inside it against random erasers of the same rank.
    static func erasureTable(_ e: ExperimentResults.ErasureResult, property: String) -> String {
        var rows =
            "<tr><td>probe on dev</td><td>\(f(e.probeBefore))</td><td>\(f(e.probeAfter))</td><td>majority baseline \(f(e.majority))</td></tr>\n"
        if let before = e.lossBefore, let change = e.lossChange {
            let control =
                e.controlLossChange.map { "random erasers of rank \(e.rank): \(String(format: "%+.4f", $0)) ± \(f(e.controlLossChangeSD ?? 0))" }
                ?? ""
            rows += "<tr><td>the model's loss (nats)</td><td>\(f(before))</td><td>\(String(format: "%+.4f", change))</td><td>\(control)</td></tr>\n"
        }
        let note = e.note.map { " " + xmlEscape($0) + "." } ?? ""
        return
            "<figure><table><tr><th></th><th>as trained</th><th>\(xmlEscape(property)) erased (LEACE, rank \(e.rank))</th><th>reference</th></tr>\n"
            + rows
            + "</table><figcaption>Concept erasure at \(e.layer) (Belrose et al. 2023): after LEACE no linear probe should beat the majority class; the model's own loss with the property erased inside the forward pass (amnesic probing, Elazar et al. 2021) rises beyond random erasures' when the model uses it.\(note)</figcaption></figure>\n"
    }

    /// The k-sparse curves (one line per ranker) and the rankers' agreement table.
    static func sparsityFigures(_ s: SparseProbing.Result, layer: String) -> String {
        var out = Chart.figure(
            Chart.lineChart(
                x: s.ks.map(String.init),
                series: s.curves.map { c in (c.ranker.rawValue, s.ks.map { k in c.points.first { $0.k == k }?.accuracy }) }
                    + [("majority baseline", s.ks.map { _ in Optional(s.majorityBaseline) })],
                yLabel: "dev accuracy", xLabel: "k neurons of \(layer) (probe refitted on them)"),
            "k-sparse probing (Gurnee et al. 2023): each ranker's top k neurons of \(layer), a probe refitted on them alone, its dev accuracy; every neuron gives \(f(s.allNeuronsAccuracy))."
        )
        guard !s.agreement.isEmpty else { return out }
        let middle = s.ks.filter { $0 < s.neurons }.last ?? s.ks[0]
        out += "<figure><table><tr><th>rankers</th><th>Jaccard of the top \(middle)</th><th>Spearman of the orderings</th></tr>\n"
        for pair in s.agreement {
            out +=
                "<tr><td>\(pair.a.rawValue) – \(pair.b.rawValue)</td><td>\(pair.jaccard[String(middle)].map(f) ?? "–")</td><td>\(pair.rankCorrelation.map(f) ?? "–")</td></tr>\n"
        }
        return out
            + "</table><figcaption>How the rankers agree on \(layer) (Antverg &amp; Belinkov 2022: rankings disagree, and accuracy alone does not say which the model uses).</figcaption></figure>\n"
    }

    private static func section(_ p: ExperimentResults.PropertyResult, _ r: ExperimentResults) -> String {
        var out = "<h2>\(xmlEscape(p.property))</h2>\n"
        let layers = p.layers.map(\.layer)
        out += Chart.figure(
            Chart.lineChart(
                x: layers,
                series: [
                    ("probe accuracy", p.layers.map { Optional($0.accuracy) }), ("selectivity", p.layers.map { Optional($0.selectivity) }),
                    ("majority baseline", p.layers.map { Optional($0.majority) }),
                ],
                spread: [p.layers.map(\.accuracySD), p.layers.map(\.selectivitySD), []], yLabel: "dev accuracy",
                xLabel: "layer of the last checkpoint"),
            "Probe accuracy on dev per layer (bars: ± one SD over \(r.experiment.seeds.count) seeds), selectivity (accuracy minus a control task's, Hewitt & Liang) and the majority baseline. The best layer, \(p.bestLayer), is analysed below."
        )
        out += Chart.figure(
            Chart.barChart(
                labels: p.topNeurons.map { "\($0)" }, values: p.topWeights, yLabel: "Σ|w| over classes", xLabel: "neuron of \(p.bestLayer)"),
            "The \(p.topNeurons.count) most salient neurons of \(p.bestLayer) (NeuroX's ordering of the standardised probe weights) and their total weight."
        )
        if let a = p.ablation {
            let counts = Array(Set(a.points.map(\.neurons))).sorted()
            func curve(_ kind: String) -> [(String, [Double?])] {
                [("top", "top"), ("random", "random"), ("bottom", "bottom")].map { name, selection in
                    (
                        name + (kind == "keep" ? " kept" : " removed"),
                        counts.map { k in
                            a.points.first { $0.kind.rawValue == kind && $0.selection.rawValue == selection && $0.neurons == k }?.accuracy
                        }
                    )
                }
            }
            out += Chart.figure(
                Chart.lineChart(x: counts.map { "\($0)" }, series: curve("keep"), yLabel: "dev accuracy", xLabel: "neurons kept (the rest set to 0)"),
                "Ablation without retraining on \(p.bestLayer): the probe's accuracy when only its top, random (mean of 5 draws) or bottom k neurons are kept; all \(a.neurons) neurons give \(f(a.unablatedAccuracy))."
            )
            out += Chart.figure(
                Chart.lineChart(x: counts.map { "\($0)" }, series: curve("remove"), yLabel: "dev accuracy", xLabel: "neurons removed (set to 0)"),
                "The same probe with its top, random or bottom k neurons removed: a slow fall when the top neurons go means the property is encoded redundantly."
            )
            if let m = a.minimal {
                let steps = m.steps.sorted { $0.neurons < $1.neurons }
                out += Chart.figure(
                    Chart.lineChart(
                        x: steps.map { "\($0.neurons)" },
                        series: [
                            ("probe on the top k", steps.map { Optional($0.devAccuracy) }),
                            ("all neurons − δ", steps.map { _ in Optional(m.oracleDevAccuracy - m.delta) }),
                        ], yLabel: "dev accuracy", xLabel: "top-k neurons of \(p.bestLayer), probe retrained"),
                    m.reached
                        ? "The minimal neuron set: probes retrained on the top k neurons only; \(m.neurons) neurons (\(String(format: "%.1f", 100 * m.share))% of the layer) reach the accuracy of all neurons within \(String(format: "%.1f", 100 * m.delta)) points (\(f(m.devAccuracy)) against \(f(m.oracleDevAccuracy)))."
                        : "The minimal neuron set: no subset of the ranked neurons reached the accuracy of all neurons within \(String(format: "%.1f", 100 * m.delta)) points (\(f(m.devAccuracy)) against \(f(m.oracleDevAccuracy)))."
                )
            }
        }
        if let sparse = p.sparsity { out += sparsityFigures(sparse, layer: p.bestLayer) }
        if let erased = p.erasure { out += erasureTable(erased, property: p.property) }
        out += dynamicsCharts(
            p.dynamics,
            references: (p.dynamicsToTagger.map { [(r.experiment.models == nil ? "tagger" : "reference model", $0)] } ?? [])
                + r.experiment.references.compactMap { name in p.dynamicsToReferences?[name].map { ("\(name) reference", $0) } },
            property: p.property, k: r.experiment.k)
        if let c = p.fineTuning {
            let labels = c.layers.map(\.layer)
            out += Chart.figure(
                Chart.groupedBars(
                    labels: labels,
                    groups: c.measures.map { m in (SimilarityMeasures.title(m), c.layers.map { $0.similarity[m] ?? .nan }) } + [
                        ("top-\(c.k) overlap", c.layers.map { $0.topKOverlap ?? 0 })
                    ],
                    yLabel: "similarity"),
                "Pre-trained against fine-tuned, per layer: \(xmlEscape(c.measures.map(SimilarityMeasures.title).joined(separator: ", "))) of the two models' states and the Jaccard overlap of their probes' top-\(c.k) neurons for \(xmlEscape(p.property)) (0 = no neuron in common)."
            )
            out += Chart.figure(
                Chart.groupedBars(
                    labels: labels, groups: [("pre-trained", c.baseHistogram.map(Double.init)), ("fine-tuned", c.otherHistogram.map(Double.init))],
                    yLabel: "top-k neurons"),
                "Where a probe on all layers finds its top-\(c.k) neurons, before and after fine-tuning (mean layer \(f(c.baseMeanLayer)) → \(f(c.otherMeanLayer)))."
            )
        }
        if let words = p.topWords {
            out += "<figure><table><tr><th>neuron</th><th style=\"text-align:left\">highest activations (word in context)</th></tr>\n"
            for n in words.neurons {
                let shown = n.top.prefix(5).map { o -> String in
                    let sentence = words.sentences[o.sentence] ?? [o.form]
                    let from = max(0, o.word - 3), to = min(sentence.count, o.word + 4)
                    let scale = max(n.maxMagnitude, 1e-12)
                    return (from..<to).map { i -> String in
                        // Red for positive, blue for negative activations, as strong as |a| / the neuron's largest |a|.
                        let a = i < o.sentenceActivations.count ? o.sentenceActivations[i] : 0
                        let colour = a >= 0 ? "220,50,47" : "38,110,200"
                        let style = "background:rgba(\(colour),\(String(format: "%.2f", min(1, Double(abs(a) / scale)))))"
                        let word = xmlEscape(sentence[i])
                        return i == o.word ? "<b class=\"w\" style=\"\(style)\">\(word)</b>" : "<span class=\"w\" style=\"\(style)\">\(word)</span>"
                    }
                    .joined(separator: " ") + (o.label.map { " <small>(\(xmlEscape($0)))</small>" } ?? "")
                }
                out += "<tr><td>\(n.neuron)</td><td style=\"text-align:left\">\(shown.joined(separator: " · "))</td></tr>\n"
            }
            out +=
                "</table><figcaption>The words on which the top neurons of \(p.bestLayer) fire most, in context (the word in bold, its label in brackets); every word is shaded by the neuron's activation on it — red positive, blue negative, the strongest colour at the neuron's largest |activation| in the corpus.</figcaption></figure>\n"
        }
        return out
    }
}
