import SondeCorpus
import SondeModels
import SondeStudy

/// The task spaces of one native LSTM (`[taskspace]`): a checkpoint of the language model, or
/// its last checkpoint at another hidden size.
struct TaskSpaceCell: JSONCell {
    /// "step-500" or "hidden-128".
    var model: String
    var key: String
    var dependencies: [CellID]
    /// The checkpoint's folder.
    var folder: String
    var tasks: [PairTask]
    var settings: Experiment.TaskSpaceSettings

    var id: CellID { .taskSpace(model: model) }
    var output: String { "taskspace-\(key).json" }

    func compute(_ runner: ExperimentRunner) throws -> TaskSpace.Result {
        try TaskSpace.run(model: try LSTMModel(folder: folder), tasks: tasks, settings: settings.study) { runner.progress(id.description, $0, $1) }
    }
}
