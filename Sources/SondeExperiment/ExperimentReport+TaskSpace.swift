import Foundation
import SondeBase
import SondeReport
import SondeStudy

extension ExperimentReport {
    /// Task spaces over training and across sizes: how stable each space is, how much related
    /// tasks share parameters and transfer, the last checkpoint's transfer space, and each size.
    static func taskSpaceSection(_ t: ExperimentResults.TaskSpaceResults, _ r: ExperimentResults) -> String {
        let e = r.experiment
        guard let last = t.spaces.last, let settings = e.taskSpace else { return "" }
        let n = TaskSpaceReport.n
        var out = "<h2>Task spaces</h2>\n"
        out +=
            "<p>\(last.tasks.count) tasks in \(Set(last.groups).count) groups from \(xmlEscape(settings.pairs)), at most \(settings.limit) pairs each (half train, half test); FTGD on \(String(format: "%g", settings.mask * 100))% of the parameters, \(settings.seeds) seeds (Weber et al. 2024).</p>\n"
        let names = ["transferMargin": "transfer", "gradientCosine": "gradient cosine", "maskOverlap": "mask overlap"]
        out += Chart.figure(
            Chart.lineChart(
                x: t.checkpoints,
                series: t.stability.sorted { $0.key < $1.key }.map { (names[$0.key] ?? $0.key, $0.value.toLast.map(Optional.some)) },
                yLabel: "Pearson r with the last", xLabel: "checkpoint"),
            "Stability: each checkpoint's space against the last checkpoint's (Pearson over the off-diagonal cells). A curve that stays high means the structure was there early; a jump marks a stage."
        )
        let agreements = ["transferMargin", "transferNormalised", "gradientCosine", "maskOverlap"]
        var series: [(String, [Double?])] = [("parameter sharing", t.spaces.map { $0.gradient?.parameterSharing })]
        for a in agreements where t.spaces.contains(where: { $0.agreement[a] != nil }) {
            series.append(("\(a) vs groups", t.spaces.map { $0.agreement[a]?.pearson }))
        }
        out += Chart.figure(
            Chart.lineChart(x: t.checkpoints, series: series, yLabel: "value", xLabel: "checkpoint"),
            "Over training: parameter sharing (mean Jaccard overlap of the FTGD masks of tasks in one group minus that of tasks in different groups) and each space's Pearson correlation with the same-group hypothesis."
        )
        if let transfer = last.transfer {
            let order = last.tasks.indices.sorted { (last.groups[$0], $0) < (last.groups[$1], $1) }
            out += Chart.figure(
                TaskSpaceReport.heatmap(transfer.margin, order: order, groups: last.groups),
                "The transfer space at \(xmlEscape(t.checkpoints.last ?? "")): change of the mean test margin of task b (column) after FTGD on task a (row); red raises, blue lowers; groups framed."
            )
            out += TaskSpaceReport.taskTable(last.tasks, last.groups, order)
        }
        if !t.sizes.isEmpty {
            out +=
                "<h3>Model sizes</h3>\n<table><tr><th>model</th><th>dev perplexity</th><th>mean accuracy</th><th>parameter sharing</th>"
                + agreements.map { "<th>\($0) vs groups</th>" }.joined() + "</tr>\n"
            let rows =
                [("hidden \(e.lstm.hidden) (\(t.checkpoints.last ?? ""))", nil as Double?, last)]
                + t.sizes.map { ("hidden \($0.hidden)", $0.training.devPerplexity, $0.space) }
            for (name, perplexity, space) in rows {
                let accuracy = space.before.map(\.accuracy).reduce(0, +) / Double(max(space.before.count, 1))
                out +=
                    "<tr><td>\(name)</td><td>\(perplexity.map { String(format: "%.1f", $0) } ?? "")</td><td>\(n(accuracy))</td><td>\(space.gradient.map { n($0.parameterSharing) } ?? "–")</td>"
                    + agreements.map { "<td>\(space.agreement[$0].map { n($0.pearson) } ?? "–")</td>" }.joined() + "</tr>\n"
            }
            out += "</table>\n"
        }
        return out
    }
}
