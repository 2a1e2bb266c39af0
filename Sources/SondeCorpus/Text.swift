import SondeBase

/// A whole text file as bytes with its lines, for the line-oriented readers (CoNLL-U, PTB,
/// NeuroX). UTF-8 is checked once for the whole file, and a bad byte is reported with its line.
struct TextFile {
    let path: String
    let mapping: MappedFile
    var bytes: UnsafeRawBufferPointer { mapping.bytes }

    init(path: String) throws {
        self.path = path
        mapping = try MappedFile(path: path)
        if let (line, column) = firstInvalidUTF8(mapping.bytes) {
            throw CorpusError(path, line: line, column: column, "invalid UTF-8 (is this a binary file, or another encoding?)")
        }
    }

    /// Lines as byte ranges without their terminator (`\n` or `\r\n`); 1-based numbers.
    func forEachLine(_ body: (_ number: Int, _ line: Range<Int>) throws -> Void) rethrows {
        let b = bytes
        var start = 0
        var number = 1
        let n = b.count
        // Skip a UTF-8 byte-order mark.
        if n >= 3 && b[0] == 0xEF && b[1] == 0xBB && b[2] == 0xBF { start = 3 }
        while start < n {
            var end = start
            while end < n && b[end] != 0x0A { end += 1 }
            var contentEnd = end
            if contentEnd > start && b[contentEnd - 1] == 0x0D { contentEnd -= 1 }
            try body(number, start..<contentEnd)
            number += 1
            start = end + 1
        }
    }

    func string(_ range: Range<Int>) -> String {
        String(decoding: UnsafeRawBufferPointer(rebasing: bytes[range]), as: UTF8.self)
    }
}

/// The (line, column) of the first byte that is not valid UTF-8, or nil.
func firstInvalidUTF8(_ b: UnsafeRawBufferPointer) -> (Int, Int)? {
    var i = 0
    let n = b.count
    var line = 1
    var lineStart = 0
    while i < n {
        let c = b[i]
        if c < 0x80 {
            if c == 0x0A { line += 1; lineStart = i + 1 }
            if c == 0 { return (line, i - lineStart + 1) }
            i += 1
            continue
        }
        let length: Int
        let minimum: UInt32
        switch c {
        case 0xC2...0xDF: length = 2; minimum = 0x80
        case 0xE0...0xEF: length = 3; minimum = 0x800
        case 0xF0...0xF4: length = 4; minimum = 0x10000
        default: return (line, i - lineStart + 1)
        }
        guard i + length <= n else { return (line, i - lineStart + 1) }
        var value = UInt32(c) & (0xFF >> UInt32(length + 1))
        for k in 1..<length {
            let d = b[i + k]
            guard d & 0xC0 == 0x80 else { return (line, i - lineStart + 1) }
            value = value << 6 | UInt32(d & 0x3F)
        }
        guard value >= minimum, value <= 0x10FFFF, !(0xD800...0xDFFF).contains(value) else { return (line, i - lineStart + 1) }
        i += length
    }
    return nil
}
