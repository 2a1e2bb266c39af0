import Foundation
import Testing

@testable import SondeExperiment

/// Sonde's TOML parser against Python's `tomllib` (an independent implementation): the document
/// below, rendered by `render` here and by Python with the same rules
/// (`tomllib.load`, then ints as written, floats as `%.17g`, strings with \\ \" \n \t escaped,
/// tables `{key: value, …}` in file order), gives the expected text. And malformed documents,
/// among them the two that stopped toml++ on an assertion (found by benchmarks/fuzz.sh), are
/// errors that name their line.
struct TOMLTests {
    static let document = #"""
# A comment line
title = "Sonde \"study\"\tA\u00e9\U0001F600" # trailing comment
"quoted key" = 'C:\path\no-escape'
dotted.inner.leaf = true
bare-key_2 = false
ints = [0, +17, -42, 1_000_000, 0xDEAD_beef, 0o755, 0b1101, 9223372036854775807, -9223372036854775808]
floats = [1.5, -0.0, 3e2, 6.626e-34, 1_000.000_1, +inf, -inf, 1E+3]
nested = [[1, 2], ["a", 'b'], [], [{x = 1}]]
multi = [
  1,   # one
  2,
]
inline = { a = 1, b.c = "d", e = [1.0] }
ml = """
first \
    joined
second "quoted" ""end"""""
lit = '''
raw \n kept'''
empty = ""

[table]
key = "value"

[table.sub]
x = 1

[[claims]]
claim = "one"
quantities = ["a", "b"]

[[claims]]
claim = "two"
tolerance = 0.05

[[claims.more]]
deep = 1

[other."quoted.part"]
y = 2
"""#

    /// The rendering Python printed for `document` (Python 3.11 tomllib).
    static let expected = #"""
{title: "Sonde \"study\"\tAé😀", quoted key: "C:\\path\\no-escape", dotted: {inner: {leaf: true}}, bare-key_2: false, ints: [0, 17, -42, 1000000, 3735928559, 493, 13, 9223372036854775807, -9223372036854775808], floats: [1.5, -0, 300, 6.6259999999999998e-34, 1000.0001, inf, -inf, 1000], nested: [[1, 2], ["a", "b"], [], [{x: 1}]], multi: [1, 2], inline: {a: 1, b: {c: "d"}, e: [1]}, ml: "first joined\nsecond \"quoted\" \"\"end\"\"", lit: "raw \\n kept", empty: "", table: {key: "value", sub: {x: 1}}, claims: [{claim: "one", quantities: ["a", "b"]}, {claim: "two", tolerance: 0.050000000000000003, more: [{deep: 1}]}], other: {quoted.part: {y: 2}}}
"""#

    func render(_ value: TOMLValue) -> String {
        switch value {
        case .boolean(let b): return b ? "true" : "false"
        case .integer(let v): return String(v)
        case .float(let v):
            if v.isNaN { return "nan" }
            if v.isInfinite { return v > 0 ? "inf" : "-inf" }
            return String(format: "%.17g", v)
        case .string(let s):
            let escaped = s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
                .replacingOccurrences(of: "\n", with: "\\n").replacingOccurrences(of: "\t", with: "\\t")
            return "\"" + escaped + "\""
        case .array, .tables: return "[" + value.array!.map(render).joined(separator: ", ") + "]"
        case .table(let t): return render(t)
        }
    }

    func render(_ table: TOMLTable) -> String {
        "{" + table.keys.map { $0 + ": " + render(table[$0]!) }.joined(separator: ", ") + "}"
    }

    @Test func matchesPythonsTomllib() throws {
        let table = try TOMLTable.parse(Self.document, path: "doc.toml")
        #expect(render(table) == Self.expected)
    }

    @Test(arguments: [
        ("[#", 1, "expected a key"),
        ("ts = [0, } 00]", 1, "expected a value"),
        ("a = 1\nb = 2\na = 3", 3, "a is defined twice"),
        ("[t]\nx = 1\n[t]", 3, "[t] is defined twice"),
        ("a = \"open", 1, "does not end on its line"),
        ("a = 007", 1, "leading zeros"),
        ("a = 1__0", 1, "is not a number"),
        ("a = 1979-05-27", 1, "dates and times"),
        ("a = {b = 1\n}", 1, "expected , or }"),
        ("a = 1 b = 2", 1, "expected the end of the line"),
        ("a = \"\\q\"", 1, "unknown escape"),
        ("a = 99999999999999999999", 1, "out of the integer range"),
        ("a = \"\"\"never", 1, "does not end"),
        ("x = 1\n\n\"a\" = [1,\n2,,]", 4, "expected a value"),
        ("a = [" + String(repeating: "[", count: 100), 1, "nest more than 64"),
        ("a = 1\r2", 1, "carriage return"),
        ("a.b = 1\na.b.c = 2", 2, "already a value"),
        ("[[a]]\n[a]", 2, "[a] is defined twice"),
        ("a = 1\n[[a]]", 2, "other than an array of tables"),
        ("a = { b = 1 }\n[a]", 2, "[a] is defined twice"),
    ] as [(String, Int, String)])
    func malformedDocumentsNameTheirLine(text: String, line: Int, message: String) {
        #expect {
            _ = try TOMLTable.parse(text, path: "bad.toml")
        } throws: { error in
            "\(error)".hasPrefix("bad.toml:\(line): ") && "\(error)".contains(message)
        }
    }
}
