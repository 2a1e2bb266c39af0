import Foundation
import SondeBase

/// The integrity record of a cached cell output: `<output>.checksum` beside it, written when the
/// cell is done and checked when the output is read, so a truncated, bit-flipped or foreign
/// (older Sonde, interrupted before its record) output is recomputed instead of flowing into new
/// cells. A record lists every regular file of the output (a file, or a training folder; names
/// starting with "." left out) as
/// `<XXH64 hex> <bytes> <path inside the output>`, after the line `sonde-cache-checksum 1`.
enum CellChecksum {
    static let header = "sonde-cache-checksum 1"

    static func recordPath(_ output: String) -> String { output + ".checksum" }

    /// The regular files of `output` (itself when it is a file), as paths inside it ("." for the
    /// file itself), in a fixed order.
    private static func files(_ output: String) throws -> [String] {
        guard let names = try listFolder(output) else { return ["."] }
        var found: [String] = []
        for name in names.sorted() where !name.hasPrefix(".") {
            let full = output + "/" + name
            if isRegularFile(full) {
                found.append(name)
            } else if (try? listFolder(full)) != nil {
                found += try files(full).map { name + "/" + $0 }
            }
        }
        return found
    }

    private static func line(_ output: String, _ file: String) throws -> String {
        let mapped = try MappedFile(path: file == "." ? output : output + "/" + file)
        return withExtendedLifetime(mapped) { "\(XXH64.hex(mapped.bytes)) \(mapped.bytes.count) \(file)" }
    }

    /// Writes the record of `output` (atomically).
    static func record(_ output: String) throws {
        let lines = try files(output).map { try line(output, $0) }
        try AtomicFile.write(to: recordPath(output)) { try $0.write(Array(([header] + lines).joined(separator: "\n").utf8 + [0x0A])) }
    }

    /// Why `output` cannot be trusted, or nil when it matches its record.
    static func problem(_ output: String) -> String? {
        guard FileManager.default.fileExists(atPath: output) else { return "missing" }
        guard let data = try? MappedFile.data(recordPath(output)) else {
            return "no checksum record (written by an older Sonde, or interrupted before its record)"
        }
        let lines = String(decoding: data, as: UTF8.self).split(separator: "\n").map(String.init)
        guard lines.first == header, lines.count >= 2 else { return "unreadable checksum record" }
        for entry in lines.dropFirst() {
            let parts = entry.split(separator: " ", maxSplits: 2).map(String.init)
            guard parts.count == 3, let bytes = Int(parts[1]), !parts[2].contains("..") else { return "unreadable checksum record" }
            let path = parts[2] == "." ? output : output + "/" + parts[2]
            guard let mapped = try? MappedFile(path: path) else { return "\(parts[2] == "." ? "the file" : parts[2]) is missing" }
            let what = parts[2] == "." ? "" : " of \(parts[2])"
            let (count, hex) = withExtendedLifetime(mapped) { (mapped.bytes.count, XXH64.hex(mapped.bytes)) }
            if count < bytes { return "truncated\(what) (\(count) of \(bytes) bytes)" }
            if count != bytes { return "size changed\(what) (\(count) bytes, \(bytes) recorded)" }
            if hex != parts[0] { return "checksum mismatch\(what)" }
        }
        return nil
    }

    /// Removes `output` (a file or folder) and its record.
    static func remove(_ output: String) {
        try? FileManager.default.removeItem(atPath: output)
        try? FileManager.default.removeItem(atPath: recordPath(output))
    }
}
