import Foundation
import SondeBase
import SondeSimilarity
import SondeStudy

/// Task spaces as a self-contained HTML page: heatmaps of the transfer and gradient spaces with
/// the tasks ordered by group, the agreement with the hypothesis, the comparisons, and over
/// checkpoints the scoring curves and the spaces' stability.
public enum TaskSpaceReport {
    public static func html(_ r: TaskSpace.Result, model: String) -> String {
        var page = Chart.pageStart("Sonde task-space report")
        let s = r.settings
        page +=
            "<p>Model \(xmlEscape((model as NSString).lastPathComponent)): \(r.tasks.count) tasks in \(Set(r.groups).count) groups, "
            + "\(r.trainPairs.reduce(0, +)) train pairs. FTGD: objective \(xmlEscape(s["objective"] ?? "")), mask \(xmlEscape(s["mask"] ?? "")), "
            + "\(xmlEscape(s["optimizer"] ?? "")) at \(xmlEscape(s["learningRate"] ?? "")), \(xmlEscape(s["epochs"] ?? "")) epoch(s), "
            + "\(xmlEscape(s["seeds"] ?? "")) seeds.</p>\n"
        for w in r.warnings { page += "<p class=\"warn\">Warning: \(xmlEscape(w))</p>\n" }
        let order = r.tasks.indices.sorted { (r.groups[$0], $0) < (r.groups[$1], $1) }
        page += "<h2>Before tuning</h2>\n"
        page += Chart.figure(
            Chart.barChart(labels: order.map { "\($0 + 1)" }, values: order.map { r.before[$0].accuracy }, yLabel: "accuracy", xLabel: "task"),
            "Accuracy on each task's test pairs (the share with ln p(good) > ln p(bad)); tasks numbered as in the table below.")
        page += taskTable(r.tasks, r.groups, order)
        if let t = r.transfer {
            page += "<h2>Transfer space</h2>\n"
            page += Chart.figure(
                heatmap(t.margin, order: order, groups: r.groups),
                "T[a, b]: change of the mean test margin of task b (column) after tuning on task a (row), mean over seeds; red raises, blue lowers. Tasks ordered by group, groups framed."
            )
        }
        if let g = r.gradient {
            page += "<h2>Gradient space</h2>\n"
            page += Chart.figure(
                heatmap(g.cosine, order: order, groups: r.groups),
                "Cosine of the tasks' gradient differentials Δg. Parameter sharing (mask overlap within − between groups): \(String(format: "%.3f", g.parameterSharing))."
            )
        }
        if !r.agreement.isEmpty {
            page +=
                "<h2>Agreement with the hypothesis</h2>\n<table><tr><th>space</th><th>Pearson</th><th>Spearman</th><th>Mantel p</th><th>within − between</th></tr>\n"
            for (name, a) in r.agreement.sorted(by: { $0.key < $1.key }) {
                page +=
                    "<tr><td>\(xmlEscape(name))</td><td>\(n(a.pearson))</td><td>\(n(a.spearman))</td><td>\(n(a.mantelP))</td><td>\(n(a.withinMinusBetween))</td></tr>\n"
            }
            page += "</table>\n"
        }
        if !r.comparisons.isEmpty {
            page +=
                "<h2>FTGD and its comparisons</h2>\n<table><tr><th>task</th><th>variant</th><th>self-transfer</th><th>self accuracy</th><th>dev perplexity</th></tr>\n"
            for c in r.comparisons {
                page +=
                    "<tr><td>\(xmlEscape(c.task))</td><td>\(xmlEscape(c.variant))</td><td>\(n(c.selfTransfer))</td><td>\(n(c.selfAccuracy))</td><td>\(c.perplexity.map(n) ?? "")</td></tr>\n"
            }
            page += "</table>\n"
            if let p = r.perplexity { page += "<p>Dev perplexity before tuning: \(n(p)).</p>\n" }
        }
        return page + "</body></html>\n"
    }

    public static func html(_ d: TaskSpace.Dynamics) -> String {
        var page = Chart.pageStart("Sonde task dynamics report")
        page += "<p>\(d.models.count) models (\(d.models.map(xmlEscape).joined(separator: ", "))), \(d.tasks.count) tasks.</p>\n"
        for w in d.warnings { page += "<p class=\"warn\">Warning: \(xmlEscape(w))</p>\n" }
        let groups = Array(Set(d.groups)).sorted()
        func byGroup(_ values: [[Double]]) -> [(String, [Double?])] {
            groups.map { g in
                let members = d.groups.indices.filter { d.groups[$0] == g }
                return (g, values.map { row in members.map { row[$0] }.reduce(0, +) / Double(members.count) })
            }
        }
        page += "<h2>Scoring curves</h2>\n"
        page += Chart.figure(
            Chart.lineChart(x: d.models, series: byGroup(d.accuracy), yLabel: "accuracy", xLabel: "model"),
            "Mean accuracy of each group's tasks on their test pairs, model by model.")
        page += Chart.figure(
            Chart.lineChart(x: d.models, series: byGroup(d.meanMargin), yLabel: "mean margin (nats)", xLabel: "model"),
            "Mean margin ln p(good) − ln p(bad) of each group's tasks.")
        if !d.stability.isEmpty {
            page += "<h2>Stability of the task spaces</h2>\n"
            let series = d.stability.sorted { $0.key < $1.key }.map { ($0.key, $0.value.toLast.map(Optional.some)) }
            page += Chart.figure(
                Chart.lineChart(x: d.models, series: series, yLabel: "Pearson r with the last", xLabel: "model"),
                "Correlation of each space (off-diagonal cells) with the last model's."
                    + (d.unembedding != nil
                        ? " For transformers the gradient space is restricted to the output (unembedding) matrix: the full gradient differential needs backpropagation through every block."
                        : ""))
        }
        return page + "</body></html>\n"
    }

    public static func n(_ x: Double) -> String { x.isFinite ? String(format: "%.3f", x) : "–" }

    public static func taskTable(_ tasks: [String], _ groups: [String], _ order: [Int]) -> String {
        var t = "<table><tr><th>#</th><th>task</th><th>group</th></tr>\n"
        for i in order { t += "<tr><td>\(i + 1)</td><td>\(xmlEscape(tasks[i]))</td><td>\(xmlEscape(groups[i]))</td></tr>\n" }
        return t + "</table>\n"
    }

    /// A K × K heatmap in `order`: a diverging scale (blue −, white 0, red +) fitted to the
    /// largest |off-diagonal| value, so a large diagonal does not wash out the rest (diagonal cells
    /// beyond it show at full colour); groups framed.
    public static func heatmap(_ m: [[Double]], order: [Int], groups: [String]) -> String {
        let k = order.count
        let cell = min(36.0, 480.0 / Double(max(k, 1))), margin = 40.0
        let size = margin + cell * Double(k) + 10
        let off = order.flatMap { i in order.filter { $0 != i }.map { m[i][$0] } }.filter(\.isFinite).map(abs)
        let scale = max(off.max() ?? 1, 1e-12)
        var s = "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 \(size) \(size)\" width=\"\(size)\" height=\"\(size)\" role=\"img\">"
        for (r, i) in order.enumerated() {
            s += "<text x=\"\(margin - 4)\" y=\"\(margin + cell * (Double(r) + 0.5) + 4)\" text-anchor=\"end\">\(i + 1)</text>"
            s += "<text x=\"\(margin + cell * (Double(r) + 0.5))\" y=\"\(margin - 6)\" text-anchor=\"middle\">\(i + 1)</text>"
            for (c, j) in order.enumerated() {
                let v = m[i][j]
                let t = v.isFinite ? max(-1, min(1, v / scale)) : 0
                let (red, green, blue) =
                    t >= 0 ? (255, Int(255 * (1 - t)), Int(255 * (1 - t))) : (Int(255 * (1 + t)), Int(255 * (1 + t)), 255)
                s +=
                    "<rect x=\"\(margin + cell * Double(c))\" y=\"\(margin + cell * Double(r))\" width=\"\(cell)\" height=\"\(cell)\" fill=\"rgb(\(red),\(green),\(blue))\"><title>\(i + 1) → \(j + 1): \(n(v))</title></rect>"
            }
        }
        // Frames around each group's block.
        var start = 0
        while start < k {
            var end = start
            while end + 1 < k && groups[order[end + 1]] == groups[order[start]] { end += 1 }
            let x = margin + cell * Double(start), w = cell * Double(end - start + 1)
            s += "<rect x=\"\(x)\" y=\"\(x)\" width=\"\(w)\" height=\"\(w)\" fill=\"none\" stroke=\"#222\" stroke-width=\"1.5\"/>"
            start = end + 1
        }
        return s + "</svg>"
    }
}
