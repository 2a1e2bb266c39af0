import SondeModels
import SondeSimilarity
import SondeStudy

/// A property before and after fine-tuning: the last checkpoint against its fine-tuned copy
/// (`ModelComparison`).
struct FineTuningCell: JSONCell {
    var property: String
    var key: String
    var base: ModelEntry
    var other: ModelEntry

    var id: CellID { .fineTuning(property: property) }
    var dependencies: [CellID] { [base.extract, other.extract] }
    var output: String { "finetuning-\(key).json" }

    func compute(_ runner: ExperimentRunner) throws -> ModelComparison {
        let (a, b) = (try runner.activations(base.extract), try runner.activations(other.extract))
        guard a.count == b.count else {
            throw StudyError("\(other.folder) has \(b.count) states, \(base.folder) \(a.count): they cannot be compared layer by layer")
        }
        return try ModelComparison.compare(
            base: a, other: b, layerNames: a.indices.map(ActivationFile.layerName), tokens: try runner.tokens(property).1,
            k: runner.experiment.k, measures: runner.measures(default: SimilarityMeasures.comparisonDefault), settings: runner.probeSettings,
            sameNeurons: ModelComparison.neuronsCorrespond(base: a, other: b)
        ) { runner.progress("fine-tuning \(property)", $0, $1) }
    }
}
