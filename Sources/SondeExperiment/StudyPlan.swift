/// One unit of work of a study, addressed by the content hash of its inputs and settings: one
/// model's training, one checkpoint's extraction, one (property, layer) probe over seeds, one
/// property's analysis of its best layer, similarity over training, or the fine-tuning
/// comparison. A cell reads only its dependencies' outputs from the cache and writes only its
/// own output there (atomically), so cells run in any process once their dependencies are done.
public struct StudyCell: Codable, Sendable, Equatable {
    public enum Kind: String, Codable, Sendable {
        case train, extract, probe, analysis, sparsity, erasure, dynamics, fineTuning = "fine-tuning", interactions
        case taskSpace = "taskspace"
    }
    public var id: CellID
    public var kind: Kind { id.kind }
    public var key: String
    /// Cells of lower levels first: a cell's dependencies are all on lower levels.
    public var level: Int
    public var dependencies: [CellID]
    /// Its output under the study's cache folder (a file, or a folder for training).
    public var output: String
}

/// The cells of a study and their status in the cache.
public struct StudyPlan: Codable, Sendable {
    public var cells: [StudyCell]
    /// The cells whose output is in the cache.
    public var done: [CellID]
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
