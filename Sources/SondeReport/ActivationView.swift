import SondeBase
import SondeStudy

/// A self-contained HTML page (inline CSS and SVG, no script, no external resource) that shows
/// what neurons respond to: for each neuron, its label spread among the top words as a bar chart
/// against the corpus share, then its top and bottom words, each in its sentence with every
/// word's background coloured by the neuron's activation on it (red above zero, blue below,
/// the strength relative to the neuron's largest |activation| in the corpus), as NeuroX's
/// `visualize_activations` does.
public enum ActivationView {
    /// - Parameters:
    ///   - title: the page's heading (e.g. the activation file and layer).
    ///   - names: a display name per described neuron (default "neuron N").
    public static func html(_ result: TopActivations, title: String, names: [Int: String] = [:]) -> String {
        var page = """
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><title>\(xmlEscape(title))</title>
            <style>
            body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2em auto; max-width: 72em; color: #222; }
            h1 { font-size: 1.4em; } h2 { font-size: 1.15em; margin-top: 2em; border-bottom: 1px solid #ccc; }
            h3 { font-size: 1em; color: #555; }
            ol { padding-left: 2.5em; } li { margin: 0.35em 0; line-height: 1.8; }
            .w { padding: 0.1em 0.15em; border-radius: 0.2em; }
            .hit { outline: 2px solid #222; font-weight: 600; }
            .v { color: #666; font-variant-numeric: tabular-nums; margin-left: 0.6em; font-size: 0.9em; }
            .l { color: #666; font-size: 0.85em; margin-left: 0.4em; }
            .legend span { padding: 0.1em 0.5em; margin-right: 0.3em; border-radius: 0.2em; }
            </style></head><body>
            <h1>\(xmlEscape(title))</h1>
            <p class="legend">Each word's background is the neuron's activation on it:
            <span style="background:\(colour(1, 1))">high</span><span style="background:\(colour(0.3, 1))">above zero</span><span style="background:\(colour(-0.3, 1))">below zero</span><span style="background:\(colour(-1, 1))">low</span>
            relative to the neuron's largest |activation| in the corpus; the outlined word is the occurrence listed.</p>

            """
        for neuron in result.neurons {
            let name = names[neuron.neuron] ?? "neuron \(neuron.neuron)"
            page += "<section id=\"n\(neuron.neuron)\"><h2>\(xmlEscape(name))</h2>\n"
            page += "<p>mean activation \(format(neuron.mean)), largest |activation| \(format(neuron.maxMagnitude))</p>\n"
            if !neuron.topLabels.isEmpty { page += labelChart(neuron.topLabels, of: neuron.top.count) }
            for (heading, list) in [("Highest activations", neuron.top), ("Lowest activations", neuron.bottom)] {
                page += "<h3>\(heading)</h3>\n<ol>\n"
                for o in list {
                    let words = result.sentences[o.sentence] ?? [o.form]
                    let spans = words.enumerated().map { w, form in
                        let value = w < o.sentenceActivations.count ? o.sentenceActivations[w] : 0
                        return
                            "<span class=\"w\(w == o.word ? " hit" : "")\" style=\"background:\(colour(value, neuron.maxMagnitude))\" title=\"\(format(value))\">\(xmlEscape(form))</span>"
                    }
                    page +=
                        "<li>" + spans.joined(separator: " ") + "<span class=\"v\">\(format(o.activation))</span>"
                        + (o.label.map { "<span class=\"l\">\(xmlEscape($0))</span>" } ?? "") + "</li>\n"
                }
                page += "</ol>\n"
            }
            page += "</section>\n"
        }
        return page + "</body></html>\n"
    }

    /// Horizontal bars: each label's share of the top words, with a tick at its corpus share.
    static func labelChart(_ counts: [TopActivations.LabelCount], of total: Int) -> String {
        let shown = Array(counts.prefix(10))
        let (row, labelWidth, barWidth) = (22, 120, 360)
        let height = row * shown.count + 8
        var svg = "<svg width=\"\(labelWidth + barWidth + 130)\" height=\"\(height)\" role=\"img\" aria-label=\"labels among the top words\">\n"
        for (i, c) in shown.enumerated() {
            let y = i * row + 4
            let share = total > 0 ? Double(c.count) / Double(total) : 0
            svg += "<text x=\"\(labelWidth - 6)\" y=\"\(y + 15)\" text-anchor=\"end\" font-size=\"13\">\(xmlEscape(c.label))</text>"
            svg += "<rect x=\"\(labelWidth)\" y=\"\(y + 3)\" width=\"\(Int(share * Double(barWidth)))\" height=\"14\" fill=\"#c0392b\"/>"
            let tick = labelWidth + Int(c.corpusShare * Double(barWidth))
            svg += "<line x1=\"\(tick)\" x2=\"\(tick)\" y1=\"\(y)\" y2=\"\(y + 20)\" stroke=\"#222\" stroke-width=\"2\"/>"
            svg +=
                "<text x=\"\(labelWidth + barWidth + 8)\" y=\"\(y + 15)\" font-size=\"12\">\(c.count)/\(total) (corpus \(percent(c.corpusShare)))</text>\n"
        }
        return svg + "</svg>\n<p class=\"l\">Bars: share of the top words with the label; ticks: the label's share of the corpus.</p>\n"
    }

    static func colour(_ value: Float, _ scale: Float) -> String {
        let strength = scale > 0 ? min(1, abs(value) / scale) : 0
        let alpha = String(Double((strength * 100).rounded()) / 100)
        return value >= 0 ? "rgba(214,39,40,\(alpha))" : "rgba(31,119,180,\(alpha))"
    }

    static func format(_ x: Float) -> String {
        let v = (Double(x) * 1000).rounded() / 1000
        return v == v.rounded() ? String(Int(v)) : String(v)
    }

    static func percent(_ x: Double) -> String { String(Int((x * 100).rounded())) + "%" }
}
