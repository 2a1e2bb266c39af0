/// TOML's four kinds of string: basic and literal, on one line or several.
extension TOMLParser {

    mutating func literalString() throws -> String {
        at += 1
        let start = at
        while let c = current, c != UInt8(ascii: "'") {
            guard c != 0x0A && c != 0x0D else { throw fail("a string does not end on its line") }
            at += 1
        }
        guard current != nil else { throw fail("a string does not end on its line") }
        defer { at += 1 }
        return String(decoding: bytes[start..<at], as: UTF8.self)
    }

    mutating func basicString() throws -> String {
        at += 1
        var out: [UInt8] = []
        while true {
            guard let c = current, c != 0x0A, c != 0x0D else { throw fail("a string does not end on its line") }
            at += 1
            if c == UInt8(ascii: "\"") { return String(decoding: out, as: UTF8.self) }
            if c == UInt8(ascii: "\\") { try escape(into: &out) } else {
                guard c >= 0x20 || c == 0x09, c != 0x7F else { throw fail("a control character in a string (write it as \\uXXXX)") }
                out.append(c)
            }
        }
    }

    /// After a backslash: `\b \t \n \f \r \" \\ \uXXXX \UXXXXXXXX`.
    mutating func escape(into out: inout [UInt8]) throws {
        guard let c = current else { throw fail("a string does not end on its line") }
        at += 1
        let simple: [UInt8: UInt8] = [0x62: 0x08, 0x74: 0x09, 0x6E: 0x0A, 0x66: 0x0C, 0x72: 0x0D, 0x22: 0x22, 0x5C: 0x5C]
        if let byte = simple[c] { return out.append(byte) }
        guard c == UInt8(ascii: "u") || c == UInt8(ascii: "U") else {
            throw fail("unknown escape \\\(Character(Unicode.Scalar(c))) in a string")
        }
        let count = c == UInt8(ascii: "u") ? 4 : 8
        guard at + count <= bytes.count, let code = UInt32(String(decoding: bytes[at..<(at + count)], as: UTF8.self), radix: 16),
            let scalar = Unicode.Scalar(code)
        else { throw fail("\\\(Character(Unicode.Scalar(c))) needs \(count) hex digits of a Unicode scalar") }
        at += count
        out += Array(String(Character(scalar)).utf8)
    }

    /// `"""…"""` or `'''…'''`: a line break right after the opening is dropped; in basic ones a
    /// backslash at the end of a line joins it to the next.
    mutating func multilineString(literal: Bool) throws -> String {
        let quote = literal ? UInt8(ascii: "'") : UInt8(ascii: "\"")
        at += 3
        _ = try lineBreak()
        var out: [UInt8] = []
        while true {
            guard let c = current else { throw fail("a multi-line string does not end") }
            if c == quote && peek(1) == quote && peek(2) == quote {
                at += 3
                // Up to two more quotes belong to the string.
                var extra = 0
                while extra < 2 && current == quote {
                    out.append(quote)
                    at += 1
                    extra += 1
                }
                return String(decoding: out, as: UTF8.self)
            }
            if try lineBreak() {
                out.append(0x0A)
                continue
            }
            at += 1
            if !literal && c == UInt8(ascii: "\\") {
                // A line-ending backslash: drop the break and the blanks after it.
                var probe = at
                while probe < bytes.count && (bytes[probe] == 0x20 || bytes[probe] == 0x09) { probe += 1 }
                if probe < bytes.count && (bytes[probe] == 0x0A || bytes[probe] == 0x0D) {
                    at = probe
                    while true {
                        if current == 0x20 || current == 0x09 { at += 1 } else if !(try lineBreak()) { break }
                    }
                    continue
                }
                try escape(into: &out)
                continue
            }
            guard c >= 0x20 || c == 0x09, c != 0x7F else { throw fail("a control character in a string (write it as \\uXXXX)") }
            out.append(c)
        }
    }
}
