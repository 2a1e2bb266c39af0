import Foundation
import SondeCorpus
import SondeStudy

/// An experiment file's TOML with its lines, for reading typed values whose errors name the file,
/// the line and `table.key` (`path:line: table.key: what is wrong`).
struct ExperimentFile {
    let path: String
    let root: TOMLTable
    let lines: [String]

    init(_ text: String, path: String) throws {
        self.path = path
        root = try TOMLTable.parse(text, path: path)
        lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    }

    /// The line of `key` in table `table` (its `[table]` header, then the key), for messages;
    /// the table's header line when the key is missing.
    func line(_ table: String, _ key: String) -> Int {
        var current = "", header = 1
        for (n, raw) in lines.enumerated() {
            let l = raw.trimmingCharacters(in: .whitespaces)
            if l.hasPrefix("[") {
                current = l.trimmingCharacters(in: CharacterSet(charactersIn: "[] "))
                if current == table { header = n + 1 }
            }
            if current == table && (l.hasPrefix(key + " ") || l.hasPrefix(key + "=")) { return n + 1 }
        }
        return header
    }

    func fail(_ table: String, _ key: String, _ message: String) -> StudyError {
        StudyError("\(path):\(line(table, key)): \(table.isEmpty ? key : table + "." + key): \(message)")
    }

    /// The table `name` ("" for the file's top level), its keys checked against the schema.
    func table(_ name: String) throws -> TOMLTable? {
        let t =
            name.isEmpty
            ? root
            : try root[name].map { value -> TOMLTable in
                guard let t = value.table else { throw fail("", name, "expected a table ([\(name)])") }
                return t
            }
        if let t {
            let allowed = Experiment.schema[name]!
            if let unknown = t.keys.first(where: { allowed[$0] == nil }) {
                throw fail(
                    name, unknown, "unknown key; \(name.isEmpty ? "the file" : "[\(name)]") has \(allowed.keys.sorted().joined(separator: ", "))")
            }
        }
        return t
    }

    func int(_ t: TOMLTable?, _ tableName: String, _ key: String, _ range: ClosedRange<Int>) throws -> Int? {
        guard let value = t?[key] else { return nil }
        guard let v = value.int, range.contains(v) else {
            throw fail(tableName, key, "expected an integer in \(range.lowerBound)…\(range.upperBound)")
        }
        return v
    }

    func number(_ t: TOMLTable?, _ tableName: String, _ key: String, _ ok: (Double) -> Bool, _ what: String) throws -> Double? {
        guard let value = t?[key] else { return nil }
        guard let v = value.double ?? value.int.map(Double.init), v.isFinite, ok(v) else { throw fail(tableName, key, "expected \(what)") }
        return v
    }

    func strings(_ t: TOMLTable?, _ tableName: String, _ key: String) throws -> [String]? {
        guard let value = t?[key] else { return nil }
        guard let array = value.array, case let items = array.compactMap(\.string), items.count == array.count, !items.isEmpty else {
            throw fail(tableName, key, "expected a list of strings")
        }
        return items
    }

    func ints(_ t: TOMLTable?, _ tableName: String, _ key: String) throws -> [Int]? {
        guard let value = t?[key] else { return nil }
        guard let array = value.array, case let items = array.compactMap(\.int), items.count == array.count, !items.isEmpty,
            items.allSatisfy({ $0 >= 0 })
        else { throw fail(tableName, key, "expected a list of integers ≥ 0") }
        return items
    }

    /// A property name, or "none" (nil).
    func property(_ t: TOMLTable?, _ tableName: String, _ key: String) throws -> String?? {
        guard let value = t?[key] else { return nil }
        guard let name = value.string, name == "none" || Property(name: name) != nil else {
            throw fail(tableName, key, "expected a property or \"none\"")
        }
        return .some(name == "none" ? nil : name)
    }
}
