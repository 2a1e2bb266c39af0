import SondeModels
import SondeStudy

/// One model's activations on the study's sentences: every state (0…L), each word's last
/// subword, in a safetensors file recorded as `sonde extract` records it, so the file also
/// serves `sonde probe` and the other commands.
struct ExtractCell: Cell {
    var model: String
    var key: String
    var dependencies: [CellID]
    /// The model's folder (a checkpoint under the cache when the study trains it).
    var folder: String

    var id: CellID { .extract(model: model) }
    var output: String { "activations-\(key).safetensors" }

    func run(_ runner: ExperimentRunner) throws {
        let e = runner.experiment
        let model = try loadLanguageModel(folder, tokenizer: e.models?.tokenizer)
        let metadata = ActivationSource.provenance(corpus: e.corpus, limit: e.limit > 0 ? e.limit : nil)
        let corpus = try runner.layout().corpus
        let sentences = corpus.sentences.map { $0.words.map(\.form) }
        let ids = corpus.sentences.enumerated().map { $1.id ?? String($0 + 1) }
        _ = try ActivationFile.extract(
            model, sentences: sentences, ids: ids, layers: Array(0...model.layerCount), aggregate: .last, extraMetadata: metadata,
            to: runner.cache + "/" + output
        ) { runner.progress(id.description, $0, sentences.count) }
    }
}
