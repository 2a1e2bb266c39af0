import Foundation
import SondeStudy

extension TaskSpaceOptions {
    /// A task space as tables on stdout (warnings on stderr).
    static func present(_ r: TaskSpace.Result) {
        func matrix(_ title: String, _ m: [[Double]]) {
            print(title)
            var rows = [[""] + r.tasks.indices.map { "[\($0 + 1)]" }]
            for (i, task) in r.tasks.enumerated() {
                rows.append(["[\(i + 1)] \(task)"] + m[i].map { $0.isFinite ? String(format: "%.3f", $0) : "–" })
            }
            formatTable(rows).forEach { print($0) }
            print("")
        }
        var before = [["task", "group", "train", "test", "accuracy", "mean margin"]]
        for (i, e) in r.before.enumerated() {
            before.append([r.tasks[i], r.groups[i], String(r.trainPairs[i]), String(e.pairs), f(e.accuracy), f(e.meanMargin)])
        }
        formatTable(before).forEach { print($0) }
        print("")
        if let t = r.transfer { matrix("transfer: change of mean test margin (row tuned, column evaluated), mean over seeds", t.margin) }
        if let g = r.gradient {
            matrix("gradient differentials: cosine", g.cosine)
            print("parameter sharing (mask overlap within − between groups): \(f(g.parameterSharing))")
        }
        for (name, a) in r.agreement.sorted(by: { $0.key < $1.key }) {
            print(
                "\(name) vs hypothesis: Pearson \(f(a.pearson)), Spearman \(f(a.spearman)), Mantel p \(f(a.mantelP)), within − between \(f(a.withinMinusBetween))"
            )
        }
        if !r.comparisons.isEmpty {
            print("")
            var rows = [["task", "variant", "self-transfer", "self accuracy", "dev perplexity"]]
            for c in r.comparisons {
                rows.append([c.task, c.variant, f(c.selfTransfer), f(c.selfAccuracy), c.perplexity.map { String(format: "%.2f", $0) } ?? ""])
            }
            formatTable(rows).forEach { print($0) }
            if let p = r.perplexity { print("dev perplexity before tuning \(String(format: "%.2f", p))") }
        }
        for w in r.warnings { writeMessage("sonde: warning: \(w)\n") }
    }
}
