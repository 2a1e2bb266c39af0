import SondeCorpus
import SondeModels
import SondeStudy

/// Word interdependence at one checkpoint of the native LSTM (`[analyses] interactions`), on the
/// probes' dev sentences, by linear and tree distance and by phrase frequency in the language
/// model's training split.
struct InteractionsCell: JSONCell {
    var step: Int
    var key: String
    var dependencies: [CellID]
    /// The checkpoint's folder.
    var folder: String
    var settings: Experiment.InteractionSettings

    var id: CellID { .interactions(checkpoint: "step-\(step)") }
    var output: String { "interactions-\(key).json" }

    func compute(_ runner: ExperimentRunner) throws -> InteractionStudy {
        let corpus = try runner.layout().corpus
        // The probes' dev split (each fifth sentence's fourth), its first `sentences`.
        let dev = Corpus(
            sentences: Array(corpus.sentences.enumerated().filter { $0.offset % 5 == 3 }.map(\.element).prefix(settings.sentences)))
        // The language model's training split (`TrainingTasks.split`), for phrase frequencies.
        let training = Corpus(sentences: corpus.sentences.enumerated().filter { $0.offset % 5 < 3 }.map(\.element))
        let model = try LSTMModel(folder: folder)
        return InteractionStudy.run(
            model, name: "step-\(step)", corpus: dev, maxDistance: settings.maxDistance, layers: Array(1...model.layerCount),
            keepPairs: false, training: training
        ) { runner.progress(id.description, $0, $1) }
    }
}
