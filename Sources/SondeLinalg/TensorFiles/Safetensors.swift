import Foundation
import SondeBase

/// The safetensors format (https://github.com/huggingface/safetensors): an 8-byte little-endian
/// header length N, N bytes of JSON (`{"name": {"dtype", "shape", "data_offsets": [begin, end]},
/// "__metadata__": {string: string}}`), then the data buffer, which the offsets (relative to its
/// start) must cover exactly, without holes or overlaps.
public enum Safetensors {
    /// The reference implementation's limit; a larger header is refused before it is read.
    static let maximumHeaderSize = 100_000_000

    /// Parses a mapped file whose 9th byte is "{" (so it has at least 8 bytes of length).
    static func parse(_ file: MappedFile) throws -> TensorCollection {
        let path = file.path
        let bytes = file.bytes
        func fail(_ message: String) -> TensorFileError { TensorFileError(.malformed, path, message) }
        let headerLength = bytes.loadUnaligned(as: UInt64.self).littleEndian
        guard headerLength <= UInt64(maximumHeaderSize) else {
            throw fail("header length \(headerLength) exceeds the \(maximumHeaderSize)-byte limit: not a safetensors file, or corrupt")
        }
        guard Int(headerLength) <= bytes.count - 8 else {
            throw fail("header of \(headerLength) bytes runs past the end of the file (\(bytes.count) bytes): truncated?")
        }
        guard Int(headerLength) <= InputLimits.headerBytes.value else {
            throw fail(InputLimits.headerBytes.message("the JSON header of \(headerLength) bytes is too large"))
        }
        let header = UnsafeRawBufferPointer(rebasing: bytes[8..<(8 + Int(headerLength))])
        if jsonDepthOver(InputLimits.headerDepth.value, header) != nil {
            throw fail(InputLimits.headerDepth.message("the JSON header nests too deep"))
        }
        let dataStart = 8 + Int(headerLength)
        let dataSize = bytes.count - dataStart
        let json: Any
        do {
            let headerData = Data(bytes: header.baseAddress!, count: header.count)
            json = try JSONSerialization.jsonObject(with: headerData)
        } catch {
            throw fail("header is not valid JSON")
        }
        guard let entries = json as? [String: Any] else { throw fail("header is not a JSON object") }

        var metadata: [String: String] = [:]
        if let raw = entries["__metadata__"] {
            guard let dict = raw as? [String: Any] else { throw fail("__metadata__ is not an object") }
            for (key, value) in dict {
                guard let text = value as? String else { throw fail("__metadata__ value of '\(key)' is not a string") }
                metadata[key] = text
            }
        }

        let storage = TensorBytes(mapping: file)
        var found: [(begin: Int, end: Int, tensor: Tensor)] = []
        for (name, raw) in entries where name != "__metadata__" {
            guard let info = raw as? [String: Any] else { throw fail("entry '\(name)' is not an object") }
            guard let dtypeName = info["dtype"] as? String else { throw fail("tensor '\(name)' has no dtype") }
            guard let dtype = TensorDType(safetensorsName: dtypeName) else {
                throw TensorFileError(
                    .unsupported, path, "tensor '\(name)' has dtype \(dtypeName); Sonde reads F16, BF16, F32, F64, I32 and I64")
            }
            guard let shapeValues = info["shape"] as? [Any] else { throw fail("tensor '\(name)' has no shape list") }
            let shape = shapeValues.compactMap { ($0 as? NSNumber).flatMap(exactInt) }
            guard shape.count == shapeValues.count, shape.allSatisfy({ $0 >= 0 }) else {
                throw fail("tensor '\(name)' has a shape that is not a list of non-negative integers")
            }
            guard let offsets = info["data_offsets"] as? [Any], offsets.count == 2,
                let begin = (offsets[0] as? NSNumber).flatMap(exactInt),
                let end = (offsets[1] as? NSNumber).flatMap(exactInt), begin >= 0, begin <= end
            else { throw fail("tensor '\(name)' has data_offsets that are not [begin, end] with 0 ≤ begin ≤ end") }
            guard end <= dataSize else {
                throw fail("tensor '\(name)' data_offsets [\(begin), \(end)] run past the data (\(dataSize) bytes): truncated?")
            }
            guard let needed = checkedByteCount(shape: shape, elementSize: dtype.byteSize), needed == end - begin else {
                throw fail("tensor '\(name)' of shape \(shape) and dtype \(dtypeName) does not fit its \(end - begin) bytes")
            }
            found.append((begin, end, Tensor(name: name, dtype: dtype, shape: shape, storage: storage, byteOffset: dataStart + begin)))
        }
        found.sort { ($0.begin, $0.end, $0.tensor.name) < ($1.begin, $1.end, $1.tensor.name) }
        var covered = 0
        for entry in found {
            guard entry.begin == covered else {
                throw fail(
                    entry.begin < covered
                        ? "tensor '\(entry.tensor.name)' overlaps the tensor before it"
                        : "the data has a hole before tensor '\(entry.tensor.name)' (bytes \(covered)..<\(entry.begin))")
            }
            covered = entry.end
        }
        guard covered == dataSize else {
            throw fail("\(dataSize - covered) bytes after the last tensor belong to no tensor")
        }
        return TensorCollection(path: path, format: .safetensors, tensors: found.map(\.tensor), metadata: metadata)
    }

    /// Writes `tensors` (in this order) and `metadata` as a safetensors file, atomically. The
    /// header is padded with spaces so the data starts 8-byte aligned, as the reference writer does.
    public static func write(_ tensors: [TensorPayload], metadata: [String: String] = [:], to path: String) throws {
        let header = try header(tensors.map { ($0.name, $0.shape, $0.dtype) }, metadata: metadata, path: path)
        try AtomicFile.write(to: path) { writer in
            try writer.write(header)
            for t in tensors { try t.write(to: writer) }
        }
    }

    /// Where the rows of a streamed F32 file go: row `row` of tensor `tensor` is written in
    /// place, in any order, so output larger than memory never has to be held.
    public struct RowSink {
        let writer: AtomicFile.Writer
        let starts: [Int]
        let rowBytes: [Int]

        public func write(tensor: Int, row: Int, _ values: UnsafeBufferPointer<Float>) throws {
            precondition(values.count * 4 == rowBytes[tensor], "row length does not match the tensor")
            try writer.write(UnsafeRawBufferPointer(values), at: starts[tensor] + row * rowBytes[tensor])
        }
    }

    /// Writes a safetensors file of F32 tensors whose rows `fill` produces through a `RowSink`,
    /// atomically. Every row must be written; the layout is fixed up front.
    public static func writeStreaming(
        _ tensors: [(name: String, shape: [Int])], metadata: [String: String] = [:], to path: String,
        fill: (RowSink) throws -> Void
    ) throws {
        let header = try header(tensors.map { ($0.name, $0.shape, .float32) }, metadata: metadata, path: path)
        var starts: [Int] = [], rowBytes: [Int] = []
        var offset = header.count
        for t in tensors {
            starts.append(offset)
            let count = t.shape.reduce(1, *)
            rowBytes.append(t.shape.isEmpty ? 4 : t.shape.dropFirst().reduce(1, *) * 4)
            offset += count * 4
        }
        try AtomicFile.write(to: path) { writer in
            try writer.write(header)
            try writer.reserve(totalBytes: offset)
            try fill(RowSink(writer: writer, starts: starts, rowBytes: rowBytes))
        }
    }

    /// The 8-byte length and the JSON header, padded so the data starts 8-byte aligned.
    private static func header(_ tensors: [(String, [Int], TensorDType)], metadata: [String: String], path: String) throws -> [UInt8] {
        var names = Set<String>()
        for (name, _, _) in tensors {
            guard name != "__metadata__", names.insert(name).inserted else {
                throw FileError(.cannotWrite, path, "tensor name '\(name)' is reserved or repeated")
            }
        }
        var header = "{"
        if !metadata.isEmpty {
            header += jsonString("__metadata__") + ":{"
            header += metadata.keys.sorted().map { jsonString($0) + ":" + jsonString(metadata[$0]!) }.joined(separator: ",")
            header += "},"
        }
        var offset = 0
        for (name, shape, dtype) in tensors {
            let bytes = shape.reduce(1, *) * dtype.byteSize
            header += jsonString(name) + ":{\"dtype\":\"\(dtype.safetensorsName)\",\"shape\":["
            header += shape.map(String.init).joined(separator: ",") + "],\"data_offsets\":[\(offset),\(offset + bytes)]},"
            offset += bytes
        }
        if header.hasSuffix(",") { header.removeLast() }
        header += "}"
        header += String(repeating: " ", count: (8 - header.utf8.count % 8) % 8)
        let length = UInt64(header.utf8.count)
        return (0..<8).map { UInt8(truncatingIfNeeded: length >> (8 * $0)) } + Array(header.utf8)
    }
}

private func exactInt(_ number: NSNumber) -> Int? {
    let d = number.doubleValue
    guard d == d.rounded(), abs(d) < 9.0e15 else { return nil }
    return number.intValue
}

/// A JSON string literal.
func jsonString(_ s: String) -> String {
    var out = "\""
    for scalar in s.unicodeScalars {
        switch scalar {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        case _ where scalar.value < 0x20:
            out += "\\u" + String(repeating: "0", count: 4 - String(scalar.value, radix: 16).count) + String(scalar.value, radix: 16)
        default: out.unicodeScalars.append(scalar)
        }
    }
    return out + "\""
}

/// The nesting depth of JSON text once it passes `limit` (brackets inside strings do not count),
/// or nil: checked before the parser, whose recursion a deeply nested header would overflow.
func jsonDepthOver(_ limit: Int, _ text: UnsafeRawBufferPointer) -> Int? {
    var depth = 0
    var inString = false, escaped = false
    for byte in text {
        if inString {
            if escaped {
                escaped = false
            } else if byte == UInt8(ascii: "\\") {
                escaped = true
            } else if byte == UInt8(ascii: "\"") {
                inString = false
            }
            continue
        }
        switch byte {
        case UInt8(ascii: "\""): inString = true
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            depth += 1
            if depth > limit { return depth }
        case UInt8(ascii: "}"), UInt8(ascii: "]"): depth -= 1
        default: break
        }
    }
    return nil
}
