import SondeStudy

/// A table of a TOML document: its keys in file order and their values.
///
/// Sonde reads experiment files with this parser of its own (TOML 1.0 without dates and times,
/// which experiment files have no use for): toml++ 3.4.0, behind TOMLKit, stopped the process on
/// an assertion for inputs as small as `[#` or `a = [0, }]` (found by benchmarks/fuzz.sh), and a
/// stranger's experiment file must end in `path:line: what is wrong` instead.
final class TOMLTable {
    private(set) var keys: [String] = []
    private var values: [String: TOMLValue] = [:]
    /// Made by a `[header]` (a second one is an error) rather than on the way to another table.
    fileprivate var hasHeader = false
    /// An inline table `{ … }`: complete as written, nothing may be added to it later.
    fileprivate var isInline = false

    subscript(key: String) -> TOMLValue? { values[key] }

    fileprivate func set(_ key: String, _ value: TOMLValue) {
        if values[key] == nil { keys.append(key) }
        values[key] = value
    }

    /// Parses `text`; an error is a `StudyError` saying `path:line: what is wrong`.
    static func parse(_ text: String, path: String) throws -> TOMLTable {
        var parser = TOMLParser(bytes: Array(text.utf8), path: path)
        return try parser.document()
    }
}

/// The tables of an array of tables (`[[name]]`), which later headers append to.
final class TOMLTableList {
    fileprivate(set) var tables: [TOMLTable] = []
}

/// A TOML value.
enum TOMLValue {
    case string(String)
    case integer(Int)
    case float(Double)
    case boolean(Bool)
    case array([TOMLValue])
    case table(TOMLTable)
    case tables(TOMLTableList)

    var string: String? { if case .string(let s) = self { s } else { nil } }
    var int: Int? { if case .integer(let v) = self { v } else { nil } }
    /// A float's value (an integer is not a float: `int` reads it).
    var double: Double? { if case .float(let v) = self { v } else { nil } }
    var bool: Bool? { if case .boolean(let v) = self { v } else { nil } }
    var table: TOMLTable? { if case .table(let t) = self { t } else { nil } }
    /// An array's items; an array of tables' tables.
    var array: [TOMLValue]? {
        switch self {
        case .array(let items): items
        case .tables(let list): list.tables.map(TOMLValue.table)
        default: nil
        }
    }
}

/// A recursive-descent parser over the document's UTF-8 bytes.
struct TOMLParser {
    let bytes: [UInt8]
    let path: String
    var at = 0
    var line = 1
    var depth = 0
    /// Arrays and inline tables nest at most this deep (a stranger's `[[[[…` must not exhaust the stack).
    static let maxDepth = 64

    init(bytes: [UInt8], path: String) {
        self.bytes = bytes
        self.path = path
    }

    func fail(_ message: String) -> StudyError { StudyError("\(path):\(line): \(message)") }

    var current: UInt8? { at < bytes.count ? bytes[at] : nil }
    func peek(_ offset: Int) -> UInt8? { at + offset < bytes.count ? bytes[at + offset] : nil }
    func starts(with text: String) -> Bool {
        let t = Array(text.utf8)
        return at + t.count <= bytes.count && Array(bytes[at..<(at + t.count)]) == t
    }

    mutating func document() throws -> TOMLTable {
        let root = TOMLTable()
        var table = root
        while true {
            try skipBlankLines()
            guard let c = current else { return root }
            if c == UInt8(ascii: "[") { table = try header(root) } else { try keyValue(into: table) }
            try endOfLine()
        }
    }

    // MARK: Lines, spaces, comments

    mutating func skipSpaces() {
        while let c = current, c == 0x20 || c == 0x09 { at += 1 }
    }

    /// A comment runs to the end of the line.
    mutating func skipComment() {
        if current == UInt8(ascii: "#") { while let c = current, c != 0x0A { at += 1 } }
    }

    /// Consumes a line break (`\n` or `\r\n`); false when there is none here.
    mutating func lineBreak() throws -> Bool {
        if current == 0x0A {
            at += 1
            line += 1
            return true
        }
        if current == 0x0D {
            guard peek(1) == 0x0A else { throw fail("a carriage return not followed by a line feed") }
            at += 2
            line += 1
            return true
        }
        return false
    }

    /// Spaces, comments and line breaks (between statements, inside arrays).
    mutating func skipBlankLines() throws {
        while true {
            skipSpaces()
            skipComment()
            guard try lineBreak() else { return }
        }
    }

    mutating func endOfLine() throws {
        skipSpaces()
        skipComment()
        if current == nil { return }
        guard try lineBreak() else { throw fail("expected the end of the line after a value or header") }
    }

    // MARK: Keys and tables

    static func isBare(_ c: UInt8) -> Bool {
        (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || c == 0x5F || c == 0x2D
    }

    mutating func simpleKey() throws -> String {
        switch current {
        case UInt8(ascii: "\""): return try basicString()
        case UInt8(ascii: "'"): return try literalString()
        default:
            let start = at
            while let c = current, Self.isBare(c) { at += 1 }
            guard at > start else { throw fail("expected a key (letters, digits, _ and -, or a quoted key)") }
            return String(decoding: bytes[start..<at], as: UTF8.self)
        }
    }

    mutating func dottedKey() throws -> [String] {
        var keys = [try simpleKey()]
        while true {
            skipSpaces()
            guard current == UInt8(ascii: ".") else { return keys }
            at += 1
            skipSpaces()
            keys.append(try simpleKey())
        }
    }

    /// `[a.b]` or `[[a.b]]`: the table the following keys go into.
    mutating func header(_ root: TOMLTable) throws -> TOMLTable {
        let isList = peek(1) == UInt8(ascii: "[")
        at += isList ? 2 : 1
        skipSpaces()
        let keys = try dottedKey()
        skipSpaces()
        let close = isList ? "]]" : "]"
        guard starts(with: close) else { throw fail("expected \(close) to end the table header") }
        at += close.utf8.count
        let name = keys.joined(separator: ".")
        var table = root
        for key in keys.dropLast() { table = try descend(table, key, name) }
        let last = keys[keys.count - 1]
        if isList {
            let list: TOMLTableList
            switch table[last] {
            case nil:
                list = TOMLTableList()
                table.set(last, .tables(list))
            case .tables(let existing): list = existing
            default: throw fail("[[\(name)]]: \(name) is already defined as something other than an array of tables")
            }
            let item = TOMLTable()
            item.hasHeader = true
            list.tables.append(item)
            return item
        }
        switch table[last] {
        case nil:
            let item = TOMLTable()
            item.hasHeader = true
            table.set(last, .table(item))
            return item
        case .table(let existing) where !existing.hasHeader && !existing.isInline:
            existing.hasHeader = true
            return existing
        default: throw fail("[\(name)] is defined twice")
        }
    }

    /// The table `key` of `table` on the way to a deeper one (made when missing).
    mutating func descend(_ table: TOMLTable, _ key: String, _ name: String) throws -> TOMLTable {
        switch table[key] {
        case nil:
            let made = TOMLTable()
            table.set(key, .table(made))
            return made
        case .table(let t) where !t.isInline: return t
        case .tables(let list): return list.tables[list.tables.count - 1]
        default: throw fail("\(name): \(key) is already a value, not a table")
        }
    }

    /// `key = value` (a dotted key makes the tables on its way).
    mutating func keyValue(into table: TOMLTable) throws {
        let keys = try dottedKey()
        skipSpaces()
        guard current == UInt8(ascii: "=") else { throw fail("expected = after the key \(keys.joined(separator: "."))") }
        at += 1
        skipSpaces()
        let value = try value()
        let name = keys.joined(separator: ".")
        var target = table
        for key in keys.dropLast() { target = try descend(target, key, name) }
        let last = keys[keys.count - 1]
        guard target[last] == nil else { throw fail("\(name) is defined twice") }
        target.set(last, value)
    }

    // MARK: Values

    mutating func value() throws -> TOMLValue {
        guard let c = current else { throw fail("expected a value at the end of the file") }
        switch c {
        case UInt8(ascii: "\""): return .string(starts(with: "\"\"\"") ? try multilineString(literal: false) : try basicString())
        case UInt8(ascii: "'"): return .string(starts(with: "'''") ? try multilineString(literal: true) : try literalString())
        case UInt8(ascii: "["): return try nested { try $0.array() }
        case UInt8(ascii: "{"): return try nested { try $0.inlineTable() }
        default:
            if starts(with: "true") && !(peek(4).map(Self.isBare) ?? false) {
                at += 4
                return .boolean(true)
            }
            if starts(with: "false") && !(peek(5).map(Self.isBare) ?? false) {
                at += 5
                return .boolean(false)
            }
            return try number()
        }
    }

    mutating func nested(_ body: (inout TOMLParser) throws -> TOMLValue) throws -> TOMLValue {
        depth += 1
        defer { depth -= 1 }
        guard depth <= Self.maxDepth else { throw fail("arrays and inline tables nest more than \(Self.maxDepth) deep") }
        return try body(&self)
    }

    mutating func array() throws -> TOMLValue {
        at += 1
        var items: [TOMLValue] = []
        while true {
            try skipBlankLines()
            if current == UInt8(ascii: "]") {
                at += 1
                return .array(items)
            }
            items.append(try value())
            try skipBlankLines()
            switch current {
            case UInt8(ascii: ","): at += 1
            case UInt8(ascii: "]"):
                at += 1
                return .array(items)
            default: throw fail("expected , or ] in an array")
            }
        }
    }

    mutating func inlineTable() throws -> TOMLValue {
        at += 1
        let table = TOMLTable()
        skipSpaces()
        if current == UInt8(ascii: "}") {
            at += 1
            table.isInline = true
            return .table(table)
        }
        while true {
            try keyValue(into: table)
            skipSpaces()
            switch current {
            case UInt8(ascii: ","):
                at += 1
                skipSpaces()
            case UInt8(ascii: "}"):
                at += 1
                table.isInline = true
                return .table(table)
            default: throw fail("expected , or } in an inline table (which stays on one line)")
            }
        }
    }

    /// An integer (decimal, 0x, 0o, 0b; `_` between digits) or a float (with `inf`, `nan`).
    mutating func number() throws -> TOMLValue {
        let start = at
        while let c = current, Self.isBare(c) || c == UInt8(ascii: "+") || c == UInt8(ascii: ".") || c == UInt8(ascii: ":") { at += 1 }
        let token = String(decoding: bytes[start..<at], as: UTF8.self)
        guard !token.isEmpty else {
            throw fail("expected a value (a string, number, true, false, [array] or {table})")
        }
        let unsigned = token.hasPrefix("+") || token.hasPrefix("-") ? String(token.dropFirst()) : token
        let negative = token.hasPrefix("-")
        if unsigned == "inf" { return .float(negative ? -.infinity : .infinity) }
        if unsigned == "nan" { return .float(.nan) }
        if token.contains(":") || (token.count >= 5 && token.dropFirst(4).first == "-" && token.prefix(4).allSatisfy(\.isNumber)) {
            throw fail("'\(token)': dates and times are not used in experiment files")
        }
        func digits(_ s: Substring, _ isDigit: (Character) -> Bool) throws -> String {
            // Underscores only between digits.
            guard !s.isEmpty, isDigit(s.first!), isDigit(s.last!), !s.contains("__"), s.allSatisfy({ isDigit($0) || $0 == "_" }) else {
                throw fail("'\(token)' is not a number")
            }
            return s.replacingOccurrences(of: "_", with: "")
        }
        for (prefix, radix, isDigit) in [("0x", 16, { (c: Character) in c.isHexDigit }), ("0o", 8, { ("0"..."7").contains($0) }), ("0b", 2, { $0 == "0" || $0 == "1" })]
        where token.hasPrefix(prefix) {
            guard let v = Int(try digits(token.dropFirst(2), isDigit), radix: radix) else { throw fail("'\(token)' is out of the integer range") }
            return .integer(v)
        }
        let isDecimal: (Character) -> Bool = { $0.isASCII && $0.isNumber }
        // mantissa [. fraction] [e exponent]
        var rest = Substring(unsigned)
        let exponentAt = rest.firstIndex { $0 == "e" || $0 == "E" }
        let exponent = exponentAt.map { rest[rest.index(after: $0)...] }
        if let exponentAt { rest = rest[..<exponentAt] }
        let parts = rest.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        let whole = try digits(parts[0], isDecimal)
        guard whole == "0" || !whole.hasPrefix("0") else { throw fail("'\(token)': leading zeros are not allowed") }
        if parts.count == 1 && exponent == nil {
            guard let v = Int((negative ? "-" : "") + whole) else { throw fail("'\(token)' is out of the integer range") }
            return .integer(v)
        }
        var text = (negative ? "-" : "") + whole
        if parts.count == 2 { text += "." + (try digits(parts[1], isDecimal)) }
        if let exponent {
            let sign = exponent.first == "-" || exponent.first == "+" ? String(exponent.first!) : ""
            text += "e" + sign + (try digits(exponent.dropFirst(sign.count), isDecimal))
        }
        guard let v = Double(text) else { throw fail("'\(token)' is not a number") }
        return .float(v)
    }
}
