import SondeModels

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
        /// Pre-trained against fine-tuned, when the experiment fine-tunes (or names a fine-tuned copy).
        public var fineTuning: ModelComparison?
    }

    public var version: String
    public var experiment: Experiment
    /// Content hashes of the inputs (treebank files, model folders) and of each model's cell.
    public var inputHashes: [String: String]
    /// The native LSTM's checkpoints, tagger and fine-tuned copy (when the study trains them).
    public var checkpoints: [LSTMCheckpoint]
    public var tagger: LSTMCheckpoint?
    public var finetuned: LSTMCheckpoint?
    /// The checkpoints studied, oldest first, by name (a training step or a folder's name).
    public var checkpointNames: [String]
    public var properties: [PropertyResult]
    /// Word interdependence at every checkpoint (`[analyses] interactions`), oldest first.
    public var interactions: [InteractionStudy]?
    public var warnings: [String]
}

/// One unit of work of a study, addressed by the content hash of its inputs and settings: one
/// model's training, one checkpoint's extraction, one (property, layer) probe over seeds, one
/// property's analysis of its best layer, similarity over training, or the fine-tuning
/// comparison. A cell reads only its dependencies' outputs from the cache and writes only its
/// own output there (atomically), so cells run in any process once their dependencies are done.
public struct StudyCell: Codable, Sendable, Equatable {
    public enum Kind: String, Codable, Sendable { case train, extract, probe, analysis, dynamics, fineTuning = "fine-tuning", interactions }
    public var id: String
    public var kind: Kind
    public var key: String
    /// Cells of lower levels first: a cell's dependencies are all on lower levels.
    public var level: Int
    public var dependencies: [String]
    /// Its output under the output folder's cache (a file, or a folder for training).
    public var output: String
}

/// The cells of a study and their status in the cache.
public struct StudyPlan: Codable, Sendable {
    public var cells: [StudyCell]
    /// The ids of the cells whose output is in the cache.
    public var done: [String]
    public var levels: Int { (cells.map(\.level).max() ?? -1) + 1 }

    /// Shard `index` of `count`: within each level, the level's cells in plan order dealt
    /// round-robin, so every cell belongs to exactly one shard and each level spreads evenly.
    public func cells(shard index: Int, of count: Int) -> [StudyCell] {
        var seen: [Int: Int] = [:]
        return cells.filter { cell in
            defer { seen[cell.level, default: 0] += 1 }
            return seen[cell.level, default: 0] % count == index
        }
    }
}
