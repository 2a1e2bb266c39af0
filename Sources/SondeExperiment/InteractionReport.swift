import SondeBase
import SondeReport
import SondeStudy

extension ExperimentReport {
    /// Word interdependence over training (`[analyses] interactions`): per layer, the mean by
    /// linear distance at each checkpoint, and at the last checkpoint the mean by syntactic
    /// distance within each linear distance (Saphra & Lopez: closer in the tree, more
    /// interdependent than the distance in the string predicts).
    static func interactionsSection(_ studies: [InteractionStudy]) -> String {
        guard let last = studies.last else { return "" }
        var out = "<h2>Word interdependence (contextual decomposition)</h2>\n"
        out += "<p>Pairs of words at most \(last.maxDistance) apart in \(last.sentences) dev sentences; interdependence ‖β(x∪y) − β(x) − β(y)‖ / ‖β(x∪y)‖ at the later word's state.</p>\n"
        let distances = Array(1...last.maxDistance).map(String.init)
        let checkpoints = studies.map(\.model)
        for layer in last.layers {
            if let familiar = last.familiarCount, studies.allSatisfy({ $0.byPhraseFrequency != nil }) {
                let series = (1...min(3, last.maxDistance)).flatMap { d in
                    [true, false].map { known in
                        ("\(known ? "familiar" : "rare"), \(d) apart", studies.map { s in
                            s.byPhraseFrequency!.first { $0.layer == layer && $0.linearDistance == d && $0.familiar == known && $0.count >= 5 }?.mean
                        })
                    }
                }
                out += Chart.figure(
                    Chart.lineChart(x: checkpoints, series: series, yLabel: "interdependence", xLabel: "checkpoint"),
                    "Layer \(layer): constituents whose phrase occurs at least \(familiar) times in training (familiar) against at most once (rare), at equal linear distance, over training — Saphra & Lopez: familiar constituents become interdependent earlier (groups of at least 5 pairs).")
            }
            let series = studies.map { study in
                (study.model, (1...last.maxDistance).map { d in study.byLinearDistance.first { $0.layer == layer && $0.linearDistance == d }?.mean })
            }
            out += Chart.figure(
                Chart.lineChart(x: distances, series: series, yLabel: "interdependence", xLabel: "words apart"),
                "Layer \(layer): mean interdependence by linear distance at each checkpoint — how much of a pair's joint contribution neither word makes alone, over training.")
            let points = last.bySyntacticDistance.filter { $0.layer == layer && $0.linearDistance <= 4 && $0.count >= 5 }
            let syntactic = Set(points.compactMap(\.syntacticDistance)).sorted()
            guard !syntactic.isEmpty else { continue }
            let bySyntax = (1...min(4, last.maxDistance)).map { d in
                ("\(d) apart", syntactic.map { s in points.first { $0.linearDistance == d && $0.syntacticDistance == s }?.mean })
            }
            out += Chart.figure(
                Chart.lineChart(x: syntactic.map(String.init), series: bySyntax, yLabel: "interdependence", xLabel: "dependency-tree distance"),
                "Layer \(layer), \(xmlEscape(last.model)): at each linear distance (1–4 words apart), the mean interdependence by the pair's path length in the dependency tree (groups of at least 5 pairs): falling lines mean words closer in the tree interact more than their distance in the string predicts.")
        }
        return out
    }
}
