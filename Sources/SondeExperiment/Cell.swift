import Foundation
import SondeBase

/// One kind of a study's work: its identity, the content key of its inputs and settings, the
/// cells whose outputs it reads, its output's name under the cache, and the work. A new kind of
/// cell is one file conforming to this, placed in the plan by `StudyLayout.init`.
protocol Cell {
    var id: CellID { get }
    var key: String { get }
    var dependencies: [CellID] { get }
    /// A file, or a folder for training.
    var output: String { get }
    /// Writes the output (atomically) into the runner's cache, reading only the dependencies'.
    func run(_ runner: ExperimentRunner) throws
}

/// A cell whose output is one JSON value.
protocol JSONCell: Cell {
    associatedtype Output: Codable
    func compute(_ runner: ExperimentRunner) throws -> Output
}

extension JSONCell {
    func run(_ runner: ExperimentRunner) throws { try runner.store(try compute(runner), as: output) }

    /// The output from the cache, checked against its record first (recomputed when damaged).
    func read(_ runner: ExperimentRunner) throws -> Output { try runner.load(Output.self, of: self) }
}

/// Content keys: FNV-1a over a cell's parts (each followed by a separator), so a changed input
/// or setting gives a new output name and an unchanged one finds its output in the cache.
enum CellKey {
    static func hash(_ parts: [String]) -> String {
        var h = FNV1a()
        for part in parts { h.mix(Array(part.utf8) + [0xFF]) }
        return h.hex
    }

    static func file(_ path: String) throws -> String {
        let file = try MappedFile(path: path)
        var h = FNV1a()
        withExtendedLifetime(file) { h.mix(file.bytes) }  // the mapping lives as long as the file object
        return h.hex
    }

    /// Settings as a key part: JSON with sorted keys.
    static func json<T: Encodable>(_ value: T) throws -> String { try JSONCoding.text(value) }
}
