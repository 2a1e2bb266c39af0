import SondeModels
import SondeStudy

/// Everything a study found, for results.json and the report. It holds no timing and nothing
/// about which run computed what, so a study run in shards merges to the same bytes.
public struct ExperimentResults: Codable, Sendable {
    public struct LayerProbe: Codable, Sendable {
        public var layer: String
        public var accuracy: Double
        public var accuracySD: Double
        public var selectivity: Double
        public var selectivitySD: Double
        public var majority: Double
        /// The first seed's ranking (most salient first) and its top-k.
        public var ranking: [Int]
        /// What makes the probe degenerate or doubtful (the first seed's, `ProbeStudy.warnings`).
        public var warnings: [String]
    }

    public struct PropertyResult: Codable, Sendable {
        public var property: String
        public var layers: [LayerProbe]
        /// The layer with the best mean dev accuracy: its top-k neurons, ablation and top words.
        public var bestLayer: String
        public var topNeurons: [Int]
        public var topWeights: [Double]
        public var ablation: AblationStudy.Result?
        public var topWords: TopActivations?
        /// Over training: per checkpoint × layer, similarity to the last checkpoint and probes.
        public var dynamics: Dynamics
        /// The same against the tagger (or the `[models]` reference), when there is one.
        public var dynamicsToTagger: Dynamics?
        /// The same against each further reference (`[lstm] references`), by its property.
        public var dynamicsToReferences: [String: Dynamics]? = nil
        /// Pre-trained against fine-tuned, when the experiment fine-tunes (or names a fine-tuned copy).
        public var fineTuning: ModelComparison?
        /// k-sparse probing of the best layer and the rankers' agreement (`[analyses] sparsity`).
        public var sparsity: SparseProbing.Result? = nil
        /// LEACE at the best layer (`[analyses] erasure = true`).
        public var erasure: ErasureResult? = nil
    }

    /// A property erased (LEACE, fitted on the training rows) at its best layer.
    public struct ErasureResult: Codable, Sendable {
        public var layer: String
        /// Directions erased.
        public var rank: Int
        /// A probe's dev accuracy on the plain rows, on the erased rows, and the majority baseline.
        public var probeBefore: Double
        public var probeAfter: Double
        public var majority: Double
        /// The model's own loss on up to 200 dev sentences, the change when the property is
        /// erased inside it, and the change for random erasers of the same rank (mean, SD of 3).
        public var lossBefore: Double? = nil
        public var lossChange: Double? = nil
        public var controlLossChange: Double? = nil
        public var controlLossChangeSD: Double? = nil
        /// Why the loss is absent (a checkpoint with no language-model head).
        public var note: String? = nil
    }

    /// Task spaces (`[taskspace]`): at the language model's checkpoints and at other sizes.
    public struct TaskSpaceResults: Codable, Sendable {
        /// The language model at another hidden size: its last checkpoint's record and space.
        public struct Size: Codable, Sendable {
            public var hidden: Int
            public var training: LSTMCheckpoint
            public var space: TaskSpace.Result
        }
        /// The checkpoints whose spaces were built, oldest first, and their spaces.
        public var checkpoints: [String]
        public var spaces: [TaskSpace.Result]
        /// Per space ("transferMargin", "gradientCosine", "maskOverlap"): Pearson over the
        /// off-diagonal cells between successive checkpoints and with the last.
        public var stability: [String: TaskSpace.Stability]
        public var sizes: [Size]
    }

    public var version: String
    public var experiment: Experiment
    /// Content hashes of the inputs (treebank files, model folders) and of each model's cell.
    public var inputHashes: [String: String]
    /// The native LSTM's checkpoints, tagger and fine-tuned copy (when the study trains them).
    public var checkpoints: [LSTMCheckpoint]
    public var tagger: LSTMCheckpoint?
    public var finetuned: LSTMCheckpoint?
    /// The further references' records (`[lstm] references`), by property.
    public var references: [String: LSTMCheckpoint]? = nil
    /// The checkpoints studied, oldest first, by name (a training step or a folder's name).
    public var checkpointNames: [String]
    public var properties: [PropertyResult]
    /// Word interdependence at every checkpoint (`[analyses] interactions`), oldest first.
    public var interactions: [InteractionStudy]?
    public var taskSpaces: TaskSpaceResults? = nil
    /// The verdicts of the experiment's `[[claims]]`, in their order (absent without claims).
    public var claims: [ClaimResult]? = nil
    public var warnings: [String]
}
