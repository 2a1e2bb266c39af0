import SondeStudy
import Foundation
import SondeModels

/// Trains a native LSTM (the language model, the tagger or the fine-tuned copy) into a folder of
/// checkpoints. A folder cut short by an interrupted run continues from its last complete
/// checkpoint.
struct TrainCell: Cell {
    var model: CellID.TrainedModel
    var key: String
    var dependencies: [CellID]
    var settings: LSTMTrainingSettings
    /// The training and dev tasks, built when the cell runs.
    var task: () throws -> (LSTMTask, LSTMTask)
    /// The model to start from (the fine-tuned copy's base), when not from scratch.
    var start: (() throws -> LSTMModel)?

    var id: CellID { .train(model) }
    var output: String { "\(model)-\(key)" }

    /// The folder of checkpoint `step` under the cache `root`.
    func checkpoint(_ step: Int, in root: String) -> String { root + "/" + output + "/step-\(step)" }

    /// Whether every checkpoint is complete.
    func isComplete(in root: String) -> Bool {
        settings.checkpointSteps.allSatisfy { FileManager.default.fileExists(atPath: checkpoint($0, in: root) + "/trainer_state.json") }
    }

    func run(_ runner: ExperimentRunner) throws {
        let path = runner.cache + "/" + output
        if runner.force { try? FileManager.default.removeItem(atPath: path) }
        let done = settings.checkpointSteps.last { FileManager.default.fileExists(atPath: checkpoint($0, in: runner.cache) + "/trainer_state.json") }
        let resume = try done.map { try LSTMModel(folder: checkpoint($0, in: runner.cache)) } ?? start?()
        let (train, dev) = try task()
        let trainer = try LSTMTrainer(settings: settings, train: train, dev: dev, start: resume)
        _ = try trainer.run(into: path) { step, total, _, _ in runner.progress(id.description, step, total) }
    }
}
