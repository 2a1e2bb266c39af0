import SondeModels
import SondeSimilarity
import SondeStudy

/// A property over training: every checkpoint's layers against a reference's (the last
/// checkpoint, the tagger, or the `[models]` reference) — similarity, probes, ranking stability,
/// alignment (`Comparator.dynamics`).
struct DynamicsCell: JSONCell {
    var property: String
    var key: String
    var series: [ModelEntry]
    var reference: ModelEntry
    /// Whether the reference is the series' own last checkpoint.
    var toLastCheckpoint: Bool

    var id: CellID { .dynamics(property: property, reference: toLastCheckpoint ? nil : reference.name) }
    var dependencies: [CellID] { series.map(\.extract) + (toLastCheckpoint ? [] : [reference.extract]) }
    var output: String { "dynamics-\(key).json" }

    func compute(_ runner: ExperimentRunner) throws -> Dynamics {
        let target = try runner.activations(reference.extract)
        let checkpoints = try series.map { ($0.name, try runner.activations($0.extract)) }
        guard checkpoints.allSatisfy({ $0.1.count == target.count }) else {
            throw StudyError(
                "\(reference.folder) has \(target.count) states, the checkpoints \(checkpoints[0].1.count): similarity needs the same layers")
        }
        let tokens = try runner.tokens(property).1
        return try Comparator.dynamics(
            checkpoints: checkpoints, reference: target, layerNames: target.indices.map(ActivationFile.layerName),
            tokens: tokens, k: runner.experiment.k, measures: runner.measures(default: SimilarityMeasures.dynamicsDefault),
            settings: runner.probeSettings, probe: { c, l in runner.probe(checkpoints[c].1[l], of: series[c].extract, layer: l, tokens) },
            // The last checkpoint is also probed as a checkpoint: one fit serves both.
            referenceProbe: toLastCheckpoint ? { l in runner.probe(target[l], of: reference.extract, layer: l, tokens) } : nil
        ) { runner.progress("dynamics \(property) to \(reference.name)", $0, $1) }
    }
}

/// A model of the study: its name, folder and extraction cell.
struct ModelEntry {
    var name: String
    var folder: String
    var extract: CellID { .extract(model: name) }
}
