import Foundation
import SondeBase
import SondeStudy

/// The report of an experiment: one self-contained HTML page (inline CSS and SVG, no script, no
/// external resource, readable when printed). Training: perplexity and concentration over
/// training. Per property: probe accuracy and selectivity per layer with their spread over seeds;
/// the top neurons; ablation curves (kept and removed); the minimal neuron set; probes, SVCCA to
/// the last checkpoint and to the tagger over training; the alignment of the top neurons with
/// the SVCCA directions beside its chance level; pre-trained vs fine-tuned (SVCCA, top-k overlap,
/// where the top neurons lie); top words in activation-shaded context. Every chart has axes, a
/// legend and a caption that says how to read it.
public enum StudyReport {
    static let palette = ["#1b6ca8", "#d1495b", "#2a9d8f", "#edae49", "#6a4c93", "#8a5a44", "#3d405b", "#00798c"]

    public static func html(_ r: ExperimentResults) -> String {
        var page = pageStart("Sonde study report")
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
        for w in r.warnings { page += "<p class=\"warn\">Warning: \(xmlEscape(w))</p>\n" }
        if !r.checkpoints.isEmpty { page += trainingCharts(r) }
        for p in r.properties { page += section(p, r) }
        if let interactions = r.interactions { page += interactionsSection(interactions) }
        return page + "</body></html>\n"
    }

    /// A number in the text; a degenerate (non-finite) one as a dash, never "nan".
    private static func f(_ x: Double) -> String { x.isFinite ? String(format: "%.3f", x) : "–" }

    /// The page's head, style and title: every report is one self-contained file.
    static func pageStart(_ title: String) -> String {
        """
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8"><title>\(xmlEscape(title))</title>
        <style>
        body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2em auto; max-width: 64em; color: #222; }
        h1 { font-size: 1.5em; } h2 { font-size: 1.2em; margin-top: 2.2em; border-bottom: 1px solid #ccc; }
        figure { margin: 1.2em 0; page-break-inside: avoid; } figcaption { color: #444; font-size: 0.9em; max-width: 46em; }
        table { border-collapse: collapse; font-size: 0.9em; } td, th { padding: 0.2em 0.6em; text-align: right; }
        th { border-bottom: 1px solid #999; } .warn { color: #a33; } .w { padding: 0.05em 0.15em; border-radius: 0.2em; }
        svg text { font-family: system-ui, sans-serif; font-size: 11px; fill: #333; }
        </style></head><body>
        <h1>\(xmlEscape(title))</h1>

        """
    }

    private static func trainingCharts(_ r: ExperimentResults) -> String {
        var out = "<h2>Training</h2>\n"
        let steps = r.checkpoints.map { "\($0.step)" }
        out += figure(
            lineChart(x: steps, series: [("dev perplexity", r.checkpoints.map { $0.devPerplexity })], yLabel: "perplexity", xLabel: "training step"),
            "The language model's perplexity on dev sentences at each checkpoint (lower is better).")
        if let states = r.checkpoints.last?.concentration?.states {
            let activation = states.indices.map { s in (states[s], r.checkpoints.map { $0.concentration.map { c in c.all.activation[s] } }) }
            out += figure(
                lineChart(x: steps, series: activation, yLabel: "‖x‖₂ / ‖x‖₁", xLabel: "training step"),
                "Concentration of each state (layer0 = embeddings) over training: the mean of ‖x‖₂/‖x‖₁ over dev words — 1/√D when activity is spread evenly over D neurons, 1 when one neuron carries it (Saphra & Lopez 2019)."
            )
            let gradient = states.indices.map { s in
                (states[s], r.checkpoints.map { $0.concentration.flatMap { c in c.all.gradient.isEmpty ? nil : c.all.gradient[s] } })
            }
            out += figure(
                lineChart(x: steps, series: gradient, yLabel: "‖g‖₂ / ‖g‖₁", xLabel: "training step"),
                "Concentration of the gradient of the language-model loss reaching each state, over training.")
        }
        return out
    }

    private static func section(_ p: ExperimentResults.PropertyResult, _ r: ExperimentResults) -> String {
        var out = "<h2>\(xmlEscape(p.property))</h2>\n"
        let layers = p.layers.map(\.layer)
        out += figure(
            lineChart(
                x: layers,
                series: [
                    ("probe accuracy", p.layers.map { Optional($0.accuracy) }), ("selectivity", p.layers.map { Optional($0.selectivity) }),
                    ("majority baseline", p.layers.map { Optional($0.majority) }),
                ],
                spread: [p.layers.map(\.accuracySD), p.layers.map(\.selectivitySD), []], yLabel: "dev accuracy",
                xLabel: "layer of the last checkpoint"),
            "Probe accuracy on dev per layer (bars: ± one SD over \(r.experiment.seeds.count) seeds), selectivity (accuracy minus a control task's, Hewitt & Liang) and the majority baseline. The best layer, \(p.bestLayer), is analysed below."
        )
        out += figure(
            barChart(labels: p.topNeurons.map { "\($0)" }, values: p.topWeights, yLabel: "Σ|w| over classes", xLabel: "neuron of \(p.bestLayer)"),
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
            out += figure(
                lineChart(x: counts.map { "\($0)" }, series: curve("keep"), yLabel: "dev accuracy", xLabel: "neurons kept (the rest set to 0)"),
                "Ablation without retraining on \(p.bestLayer): the probe's accuracy when only its top, random (mean of 5 draws) or bottom k neurons are kept; all \(a.neurons) neurons give \(f(a.unablatedAccuracy))."
            )
            out += figure(
                lineChart(x: counts.map { "\($0)" }, series: curve("remove"), yLabel: "dev accuracy", xLabel: "neurons removed (set to 0)"),
                "The same probe with its top, random or bottom k neurons removed: a slow fall when the top neurons go means the property is encoded redundantly."
            )
            if let m = a.minimal {
                let steps = m.steps.sorted { $0.neurons < $1.neurons }
                out += figure(
                    lineChart(
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
        let rows = p.dynamics.rows
        let checkpoints = rows.map(\.checkpoint).reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }
        let byLayer = { (d: Dynamics, value: (DynamicsRow) -> Double) in
            d.layers.map { layer in (layer, checkpoints.map { c in d.rows.first { $0.checkpoint == c && $0.layer == layer }.map(value) }) }
        }
        out += figure(
            lineChart(x: checkpoints, series: byLayer(p.dynamics) { $0.probeAccuracy }, yLabel: "dev accuracy", xLabel: "checkpoint"),
            "Probe accuracy for \(xmlEscape(p.property)) on each layer over training: when the property becomes linearly readable.")
        out += figure(
            lineChart(x: checkpoints, series: byLayer(p.dynamics) { $0.svcca }, yLabel: "SVCCA", xLabel: "checkpoint"),
            "SVCCA similarity of each layer to the same layer of the last checkpoint (mean canonical correlation of the top principal directions).")
        if let t = p.dynamicsToTagger {
            out += figure(
                lineChart(x: checkpoints, series: byLayer(t) { $0.svcca }, yLabel: "SVCCA", xLabel: "checkpoint"),
                "SVCCA similarity of each layer to the same layer of the \(r.experiment.models == nil ? "tagger" : "reference model"), over training (Saphra & Lopez's comparison)."
            )
        }
        let kept = p.dynamics.layers.map { layer in
            "\(layer): " + checkpoints.map { c in rows.first { $0.checkpoint == c && $0.layer == layer }.map { String($0.alignmentDirections) } ?? "–" }.joined(separator: ", ")
        }
        out += figure(
            lineChart(
                x: checkpoints,
                series: byLayer(p.dynamics) { $0.alignmentZ ?? .nan } + [("chance (z = 0)", checkpoints.map { _ in 0 })],
                yLabel: "alignment z", xLabel: "checkpoint"),
            "Whether the probe's top-\(r.experiment.k) neurons of each layer are the ones the SVCCA directions shared with the last checkpoint rest on (their canonical loadings), over training, as a z-score against random sets of \(r.experiment.k) neurons (exact): beyond about 3, the neurons the probe ranks highest carry the shared directions; a gap where every direction weighs the neurons alike (the last checkpoint against itself). Canonical directions used per checkpoint — \(xmlEscape(kept.joined(separator: "; "))): a series whose counts differ several-fold compares unlike subspaces."
        )
        if let c = p.fineTuning {
            let labels = c.layers.map(\.layer)
            out += figure(
                groupedBars(
                    labels: labels,
                    groups: [("SVCCA", c.layers.map(\.svcca)), ("top-\(c.k) overlap", c.layers.map { $0.topKOverlap ?? 0 })],
                    yLabel: "similarity"),
                "Pre-trained against fine-tuned, per layer: SVCCA of the two models' states and the Jaccard overlap of their probes' top-\(c.k) neurons for \(xmlEscape(p.property)) (0 = no neuron in common)."
            )
            out += figure(
                groupedBars(
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

    static func figure(_ svg: String, _ caption: String) -> String {
        "<figure>\(svg)<figcaption>\(caption)</figcaption></figure>\n"
    }

    // MARK: SVG

    static let (width, height, left, right, top, bottom) = (640.0, 260.0, 56.0, 150.0, 14.0, 42.0)

    private static func scale(_ values: [Double]) -> (Double, Double) {
        let finite = values.filter(\.isFinite)
        guard let lo = finite.min(), let hi = finite.max() else { return (0, 1) }
        let pad = hi > lo ? (hi - lo) * 0.08 : max(abs(hi) * 0.1, 0.05)
        return (min(lo - pad, lo >= 0 && lo - pad < 0 ? 0 : lo - pad), hi + pad)
    }

    /// Axes with the x labels at `xPosition` (points of a line) or, with `bands`, in the middle
    /// of equal bands (groups of bars).
    private static func axes(x: [String], y: (Double, Double), yLabel: String, xLabel: String, bands: Bool = false) -> String {
        let plotW = width - left - right, plotH = height - top - bottom
        var s = "<line x1=\"\(left)\" y1=\"\(top + plotH)\" x2=\"\(left + plotW)\" y2=\"\(top + plotH)\" stroke=\"#555\"/>"
        s += "<line x1=\"\(left)\" y1=\"\(top)\" x2=\"\(left)\" y2=\"\(top + plotH)\" stroke=\"#555\"/>"
        for k in 0...4 {
            let v = y.0 + (y.1 - y.0) * Double(k) / 4, py = top + plotH * (1 - Double(k) / 4)
            s += "<line x1=\"\(left - 4)\" y1=\"\(py)\" x2=\"\(left + plotW)\" y2=\"\(py)\" stroke=\"#eee\"/>"
            s +=
                "<text x=\"\(left - 6)\" y=\"\(py + 4)\" text-anchor=\"end\">\(String(format: abs(y.1) >= 100 ? "%.0f" : y.1 - y.0 < 0.1 ? "%.3f" : "%.2f", v))</text>"
        }
        let step = max(1, x.count / 12)
        for (i, label) in x.enumerated() where i % step == 0 || i == x.count - 1 {
            s +=
                "<text x=\"\(bands ? bandPosition(i, x.count) : xPosition(i, x.count))\" y=\"\(top + plotH + 16)\" text-anchor=\"middle\">\(xmlEscape(label))</text>"
        }
        s += "<text x=\"\(left + plotW / 2)\" y=\"\(height - 6)\" text-anchor=\"middle\">\(xmlEscape(xLabel))</text>"
        s += "<text transform=\"translate(14 \(top + plotH / 2)) rotate(-90)\" text-anchor=\"middle\">\(xmlEscape(yLabel))</text>"
        return s
    }

    private static func bandPosition(_ i: Int, _ n: Int) -> Double { left + (width - left - right) * (Double(i) + 0.5) / Double(max(n, 1)) }

    private static func xPosition(_ i: Int, _ n: Int) -> Double {
        let plotW = width - left - right
        return n <= 1 ? left + plotW / 2 : left + 12 + (plotW - 24) * Double(i) / Double(n - 1)
    }

    private static func yPosition(_ v: Double, _ y: (Double, Double)) -> Double {
        let plotH = height - top - bottom
        return top + plotH * (1 - (v - y.0) / max(y.1 - y.0, 1e-12))
    }

    private static func legend(_ names: [String]) -> String {
        names.enumerated().map { i, name in
            let y = top + 8 + Double(i) * 16
            let marker =
                i < palette.count
                ? "<rect x=\"\(width - right + 12)\" y=\"\(y - 8)\" width=\"10\" height=\"10\" fill=\"\(palette[i % palette.count])\"/>"
                : "<line x1=\"\(width - right + 10)\" y1=\"\(y - 3)\" x2=\"\(width - right + 24)\" y2=\"\(y - 3)\" stroke=\"\(palette[i % palette.count])\" stroke-width=\"2\" stroke-dasharray=\"5 3\"/>"
            return
                marker + "<text x=\"\(width - right + 28)\" y=\"\(y + 1)\">\(xmlEscape(name))</text>"
        }.joined()
    }

    /// Lines over categories (missing points skipped), with optional ± spread bars.
    static func lineChart(x: [String], series: [(String, [Double?])], spread: [[Double]] = [], yLabel: String, xLabel: String) -> String {
        let all = series.flatMap { $0.1.compactMap { $0 } }
        let spreads = zip(series, spread).flatMap { s, sd in
            s.1.enumerated().compactMap { i, v in v.flatMap { v in i < sd.count ? [v - sd[i], v + sd[i]] : nil } }.flatMap { $0 }
        }
        let y = scale(all + spreads)
        // Long legend names widen the picture rather than being cut off.
        let longest = Double(series.map(\.0.count).max() ?? 0), full = width + max(0, longest * 6.5 - (right - 32))
        var s = "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 \(full) \(height)\" width=\"\(full)\" height=\"\(height)\" role=\"img\">"
        s += axes(x: x, y: y, yLabel: yLabel, xLabel: xLabel)
        for (k, line) in series.enumerated() {
            let colour = palette[k % palette.count]
            // Past the palette's colours, lines are dashed so that no two series look the same.
            let dash = k >= palette.count ? " stroke-dasharray=\"5 3\"" : ""
            // A degenerate (non-finite) value is a gap in the line, not a NaN coordinate.
            let points = line.1.enumerated().compactMap { i, v in v.flatMap { $0.isFinite ? (xPosition(i, x.count), yPosition($0, y)) : nil } }
            if points.count > 1 {
                s +=
                    "<polyline fill=\"none\" stroke=\"\(colour)\" stroke-width=\"2\"\(dash) points=\"\(points.map { "\($0.0),\($0.1)" }.joined(separator: " "))\"/>"
            }
            for p in points { s += "<circle cx=\"\(p.0)\" cy=\"\(p.1)\" r=\"3\" fill=\"\(colour)\"/>" }
            if k < spread.count {
                for (i, v) in line.1.enumerated() where i < spread[k].count {
                    guard let v, v.isFinite, spread[k][i].isFinite else { continue }
                    let px = xPosition(i, x.count)
                    s +=
                        "<line x1=\"\(px)\" y1=\"\(yPosition(v - spread[k][i], y))\" x2=\"\(px)\" y2=\"\(yPosition(v + spread[k][i], y))\" stroke=\"\(colour)\"/>"
                }
            }
        }
        return s + legend(series.map(\.0)) + "</svg>"
    }

    static func barChart(labels: [String], values: [Double], yLabel: String, xLabel: String) -> String {
        groupedBars(labels: labels, groups: [("", values)], yLabel: yLabel, xLabel: xLabel)
    }

    static func groupedBars(labels: [String], groups: [(String, [Double])], yLabel: String, xLabel: String = "layer") -> String {
        let y = (0.0, (groups.flatMap(\.1).filter(\.isFinite).max() ?? 1) * 1.1 + 1e-9)
        var s = "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 \(width) \(height)\" width=\"\(width)\" height=\"\(height)\" role=\"img\">"
        s += axes(x: labels, y: y, yLabel: yLabel, xLabel: xLabel, bands: true)
        let slot = (width - left - right) / Double(max(labels.count, 1)), groupW = min(slot * 0.8, 36 * Double(groups.count))
        let barW = groupW / Double(groups.count)
        for (g, group) in groups.enumerated() {
            for (i, v) in group.1.enumerated() where v.isFinite {
                let x = bandPosition(i, labels.count) - groupW / 2 + Double(g) * barW
                let top = yPosition(v, y)
                s +=
                    "<rect x=\"\(x)\" y=\"\(top)\" width=\"\(barW)\" height=\"\(max(0, yPosition(0, y) - top))\" fill=\"\(palette[g % palette.count])\"/>"
            }
        }
        return s + (groups.count > 1 ? legend(groups.map(\.0)) : "") + "</svg>"
    }
}
