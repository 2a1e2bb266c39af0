import ArgumentParser
import Foundation
import SondeLinalg

/// `sonde inspect FILE`: the tensors of a tensor file.
struct Inspect: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List the tensors (name, dtype, shape) of a .npy, .npz or safetensors file.",
        discussion: """
            The format is recognised from the file's first bytes, not its name. Safetensors and .npy \
            files are memory-mapped, so inspecting a large file reads only its header.
            """)

    @Argument(help: "A .npy, .npz or .safetensors file.")
    var file: String

    @OptionGroup var output: OutputOptions

    func run() throws {
        let collection = try TensorCollection.read(file)
        let report = InspectReport(collection)
        if output.json {
            try printJSON(report)
        } else {
            print(report.table())
        }
    }
}

struct InspectReport: Encodable {
    struct Entry: Encodable {
        let name: String
        let dtype: String
        let shape: [Int]
        let bytes: Int
        let order: String
    }

    let path: String
    let format: String
    let tensors: [Entry]
    let metadata: [String: String]

    init(_ collection: TensorCollection) {
        path = collection.path
        format = collection.format.rawValue
        tensors = collection.tensors.map {
            Entry(name: $0.name, dtype: $0.dtype.rawValue, shape: $0.shape, bytes: $0.byteCount, order: $0.isFortranOrder ? "F" : "C")
        }
        metadata = collection.metadata
    }

    /// A metadata value as a reader wants it: short values whole; a JSON list as its length and
    /// first items (an activation file's sentence ids and word counts run to hundreds of kB);
    /// other long text cut (`--json` has every value whole).
    static func summary(_ value: String) -> String {
        if value.hasPrefix("["), let list = try? JSONSerialization.jsonObject(with: Data(value.utf8)) as? [Any], list.count > 8 {
            let head = list.prefix(5).map { item in (item as? String).map { "\"\($0)\"" } ?? "\(item)" }
            return "\(list.count) items: " + head.joined(separator: ", ") + ", …"
        }
        guard value.count > 120 else { return value }
        return String(value.prefix(100)) + "… (\(value.count) characters; all with --json)"
    }

    func table() -> String {
        var rows = [["name", "dtype", "shape", "bytes"]]
        for t in tensors {
            let shape = "[" + t.shape.map(String.init).joined(separator: ", ") + "]" + (t.order == "F" ? " (Fortran order)" : "")
            rows.append([t.name, t.dtype, shape, String(t.bytes)])
        }
        var lines = ["\(path): \(format), \(tensors.count) tensor\(tensors.count == 1 ? "" : "s")"]
        lines += formatTable(rows)
        if !metadata.isEmpty {
            lines.append("metadata:")
            for key in metadata.keys.sorted() { lines.append("  \(key) = \(Self.summary(metadata[key]!))") }
        }
        return lines.joined(separator: "\n")
    }
}
