import SondeProbe
import SondeStudy

/// k-sparse probing of a property's best layer (`[analyses] sparsity`): accuracy on dev against
/// k for each ranker, and the rankers' agreement.
struct SparsityCell: JSONCell {
    struct Output: Codable {
        /// The best layer's index (the analysis cell's).
        var layer: Int
        var result: SparseProbing.Result
    }

    var property: String
    var key: String
    var extract: CellID
    var analysis: AnalysisCell

    var id: CellID { .sparsity(property: property) }
    var dependencies: [CellID] { [extract, analysis.id] }
    var output: String { "sparsity-\(key).json" }

    func compute(_ runner: ExperimentRunner) throws -> Output {
        let e = runner.experiment
        let best = try analysis.read(runner).best
        let x = try runner.activations(extract)[best]
        let (_, tokens) = try runner.tokens(property)
        let classes = Array(Set(tokens.labels)).sorted()
        let ks = (e.sparsity ?? []).filter { $0 <= x.columns }
        let result = try SparseProbing.run(
            train: tokens.dataset(x, tokens.trainRows, classes: classes), evaluation: tokens.dataset(x, tokens.devRows, classes: classes),
            ks: ks.isEmpty ? [x.columns] : ks, rankers: e.rankers ?? SparseProbing.Ranker.defaults, settings: runner.probeSettings
        ) { done, total in runner.progress("sparse probes \(property)", done, total) }
        return Output(layer: best, result: result)
    }
}
