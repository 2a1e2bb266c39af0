import SondeBase

/// numpy's .npy format, versions 1.0–3.0 (https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html):
/// magic `\x93NUMPY`, version, header length (2 bytes in 1.0, 4 in 2.0/3.0), a Python dict
/// literal `{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }`, then the data.
public enum NPY {
    static let magic: [UInt8] = [0x93] + Array("NUMPY".utf8)

    /// A .npy file's tensor is named after the file ("acts" for "path/to/acts.npy").
    static func defaultName(_ path: String) -> String {
        var name = path.split(separator: "/").last.map(String.init) ?? path
        if name.hasSuffix(".npy") { name.removeLast(4) }
        return name
    }

    /// Parses the .npy image in `storage` (a whole file, or one member of an .npz); `path` names
    /// it in errors.
    static func parse(_ storage: TensorBytes, name: String, path: String) throws -> Tensor {
        let bytes = storage.bytes
        func fail(_ message: String) -> TensorFileError { TensorFileError(.malformed, path, message) }
        guard bytes.count >= 10, bytes.starts(with: magic) else { throw fail("not a .npy file (no \\x93NUMPY magic)") }
        let major = bytes[6]
        let headerLength: Int
        let headerStart: Int
        switch major {
        case 1:
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
            headerStart = 10
        case 2, 3:
            guard bytes.count >= 12 else { throw fail("truncated .npy preamble") }
            headerLength = (0..<4).reduce(0) { $0 | Int(bytes[8 + $1]) << (8 * $1) }
            headerStart = 12
        default:
            throw TensorFileError(.unsupported, path, ".npy format version \(major).\(bytes[7]) (Sonde reads 1.0, 2.0 and 3.0)")
        }
        guard headerLength <= bytes.count - headerStart else {
            throw fail("header of \(headerLength) bytes runs past the end of the file (\(bytes.count) bytes): truncated?")
        }
        let headerBytes = UnsafeRawBufferPointer(rebasing: bytes[headerStart..<headerStart + headerLength])
        guard let header = String(validating: headerBytes, as: UTF8.self) else { throw fail("header is not valid text") }
        let fields: [String: HeaderValue]
        do {
            var parser = HeaderParser(header)
            fields = try parser.parseDict()
        } catch let error as HeaderParser.Failure {
            throw fail("malformed header: \(error.message) in \(header.trimmingWhitespace())")
        }
        guard case .string(let descr)? = fields["descr"] else { throw fail("header has no 'descr' string") }
        guard case .bool(let fortran)? = fields["fortran_order"] else { throw fail("header has no 'fortran_order' True/False") }
        guard case .tuple(let shape)? = fields["shape"] else { throw fail("header has no 'shape' tuple") }
        guard let dtype = TensorDType(npyDescr: descr) else {
            let hint = descr.hasPrefix(">") ? " (big-endian: convert with arr.astype(arr.dtype.newbyteorder('<')))" : ""
            throw TensorFileError(
                .unsupported, path,
                "dtype '\(descr)'\(hint); Sonde reads float16, float32, float64, int32 and int64")
        }
        let dataStart = headerStart + headerLength
        let available = bytes.count - dataStart
        guard let needed = checkedByteCount(shape: shape, elementSize: dtype.byteSize) else {
            throw fail("shape \(shape) is too large")
        }
        guard needed == available else {
            throw fail(
                "shape \(shape) of \(descr) needs \(needed) bytes of data but the file holds \(available)"
                    + (available < needed ? ": truncated?" : ""))
        }
        return Tensor(name: name, dtype: dtype, shape: shape, isFortranOrder: fortran, storage: storage, byteOffset: dataStart)
    }

    /// The header bytes (magic to the newline before the data) for a C-order array.
    static func header(dtype: TensorDType, shape: [Int]) -> [UInt8] {
        let descr = dtype.npyDescr!
        let shapeText = shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
        var dict = "{'descr': '\(descr)', 'fortran_order': False, 'shape': \(shapeText), }"
        // Pad with spaces and a newline so the data starts at a multiple of 64 bytes.
        let preambleV1 = magic.count + 2 + 2
        let useV2 = preambleV1 + dict.utf8.count + 1 > 65535
        let preamble = useV2 ? preambleV1 + 2 : preambleV1
        let total = (preamble + dict.utf8.count + 1 + 63) / 64 * 64
        dict += String(repeating: " ", count: total - preamble - dict.utf8.count - 1) + "\n"
        let length = dict.utf8.count
        var out = magic + (useV2 ? [2, 0] : [1, 0])
        out += useV2 ? (0..<4).map { UInt8(truncatingIfNeeded: length >> (8 * $0)) } : [UInt8(length & 0xFF), UInt8(length >> 8)]
        out += Array(dict.utf8)
        return out
    }

    /// Writes one tensor as a .npy file (format 1.0, or 2.0 for a very long header), atomically.
    public static func write(_ payload: TensorPayload, to path: String) throws {
        guard payload.dtype.npyDescr != nil else {
            throw TensorFileError(.unsupported, path, "numpy has no \(payload.dtype) dtype")
        }
        try AtomicFile.write(to: path) { writer in
            try writer.write(header(dtype: payload.dtype, shape: payload.shape))
            try payload.write(to: writer)
        }
    }
}

/// The product of `shape` times `elementSize`, or nil on a negative dimension or overflow.
func checkedByteCount(shape: [Int], elementSize: Int) -> Int? {
    var total = elementSize
    for d in shape {
        guard d >= 0 else { return nil }
        let (product, overflow) = total.multipliedReportingOverflow(by: d)
        guard !overflow, product <= Int(Int64.max) / 2 else { return nil }
        total = product
    }
    return total
}

enum HeaderValue: Equatable {
    case string(String)
    case bool(Bool)
    case int(Int)
    case tuple([Int])
}

/// A parser for the small subset of Python literals that .npy headers use.
struct HeaderParser {
    struct Failure: Error { let message: String }
    private let scalars: [Unicode.Scalar]
    private var position = 0

    init(_ text: String) { scalars = Array(text.unicodeScalars) }

    mutating func parseDict() throws -> [String: HeaderValue] {
        skipSpace()
        try expect("{")
        var result: [String: HeaderValue] = [:]
        while true {
            skipSpace()
            if peek() == "}" { position += 1; break }
            guard case .string(let key) = try parseValue() else { throw Failure(message: "a key that is not a string") }
            skipSpace()
            try expect(":")
            result[key] = try parseValue()
            skipSpace()
            if peek() == "," { position += 1; continue }
            skipSpace()
            try expect("}")
            break
        }
        skipSpace()
        guard position == scalars.count else { throw Failure(message: "text after the closing brace") }
        return result
    }

    private mutating func parseValue() throws -> HeaderValue {
        skipSpace()
        guard let c = peek() else { throw Failure(message: "unexpected end") }
        switch c {
        case "'", "\"":
            position += 1
            var text = ""
            while let d = peek(), d != c {
                text.unicodeScalars.append(d)
                position += 1
            }
            try expect(c)
            return .string(text)
        case "(":
            position += 1
            var items: [Int] = []
            while true {
                skipSpace()
                if peek() == ")" { position += 1; break }
                // Shape entries are integers: no nesting, so no recursion a header could deepen.
                if peek() == "(" { throw Failure(message: "a nested tuple") }
                guard case .int(let v) = try parseValue() else { throw Failure(message: "a shape entry that is not an integer") }
                items.append(v)
                skipSpace()
                if peek() == "," { position += 1; continue }
                try expect(")")
                break
            }
            return .tuple(items)
        case "T", "F":
            if matchWord("True") { return .bool(true) }
            if matchWord("False") { return .bool(false) }
            throw Failure(message: "an unknown word")
        default:
            var digits = ""
            if peek() == "-" { digits = "-"; position += 1 }
            while let d = peek(), ("0"..."9").contains(d) {
                digits.unicodeScalars.append(d)
                position += 1
            }
            if peek() == "L" { position += 1 }  // Python 2 long suffix
            guard let value = Int(digits) else { throw Failure(message: "an unexpected character '\(c)'") }
            return .int(value)
        }
    }

    private func peek() -> Unicode.Scalar? { position < scalars.count ? scalars[position] : nil }

    private mutating func skipSpace() {
        while let c = peek(), c == " " || c == "\n" || c == "\t" || c == "\r" { position += 1 }
    }

    private mutating func expect(_ c: Unicode.Scalar) throws {
        guard peek() == c else { throw Failure(message: "expected '\(c)'") }
        position += 1
    }

    private mutating func matchWord(_ word: String) -> Bool {
        let w = Array(word.unicodeScalars)
        guard position + w.count <= scalars.count, Array(scalars[position..<position + w.count]) == w else { return false }
        position += w.count
        return true
    }
}
