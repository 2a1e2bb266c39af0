import SondeBase

/// The file formats Sonde reads tensors from.
public enum TensorFileFormat: String, Sendable, Codable {
    case npy, npz, safetensors
    /// NeuroX's activations as JSON Lines (read only).
    case neuroxJSON = "neurox-json"
    /// NeuroX's activations as HDF5 (read only; h5py's default layout).
    case neuroxHDF5 = "neurox-hdf5"

    /// NeuroX's own activation files, which record their sentences' word counts and tokens.
    public var isNeuroX: Bool { self == .neuroxJSON || self == .neuroxHDF5 }
}

/// The tensors of one file, in file order, with the file's string metadata (safetensors'
/// `__metadata__`; empty for numpy files).
public struct TensorCollection: Sendable {
    public let path: String
    public let format: TensorFileFormat
    public let tensors: [Tensor]
    public let metadata: [String: String]

    public subscript(name: String) -> Tensor? { tensors.first { $0.name == name } }

    /// Reads a .npy, .npz or safetensors file, recognised by its first bytes (not its name).
    /// Safetensors and .npy are memory-mapped: no tensor data is read until it is used.
    public static func read(_ path: String) throws -> TensorCollection {
        let file = try MappedFile(path: path)
        let bytes = file.bytes
        if bytes.starts(with: NPY.magic) {
            let tensor = try NPY.parse(TensorBytes(mapping: file), name: NPY.defaultName(path), path: path)
            return TensorCollection(path: path, format: .npy, tensors: [tensor], metadata: [:])
        }
        if bytes.starts(with: [0x50, 0x4B, 0x03, 0x04]) || bytes.starts(with: [0x50, 0x4B, 0x05, 0x06]) {
            return try NPZ.read(path)
        }
        if bytes.count >= 9 && bytes[8] == UInt8(ascii: "{") {
            return try Safetensors.parse(file)
        }
        if NeuroXJSON.looksLike(bytes) { return try NeuroXJSON.read(file) }
        if bytes.starts(with: NeuroXHDF5.signature) { return try NeuroXHDF5.read(file) }
        if bytes.isEmpty { throw TensorFileError(.malformed, path, "the file is empty") }
        throw TensorFileError(
            .malformed, path,
            "not a tensor file: expected a .npy, .npz or safetensors file or NeuroX's JSON or HDF5 activations (recognised by their first bytes)")
    }
}

/// Values to write as one tensor. The values are kept as given (row-major order) and converted to
/// `dtype` while writing, so a Float matrix can go to disk as F16 without a second full copy.
public struct TensorPayload: Sendable {
    public enum Values: Sendable {
        case float([Float])
        case double([Double])
        case int32([Int32])
        case int64([Int64])

        var count: Int {
            switch self {
            case .float(let v): return v.count
            case .double(let v): return v.count
            case .int32(let v): return v.count
            case .int64(let v): return v.count
            }
        }
    }

    public let name: String
    public let shape: [Int]
    public let dtype: TensorDType
    public let values: Values

    /// - Precondition: the shape's element count equals the number of values; integer dtypes
    ///   take integer values and floating dtypes floating values.
    public init(name: String, shape: [Int], dtype: TensorDType, values: Values) {
        precondition(shape.allSatisfy { $0 >= 0 } && shape.reduce(1, *) == values.count, "shape \(shape) for \(values.count) values")
        switch (values, dtype) {
        case (.float, .float16), (.float, .bfloat16), (.float, .float32), (.float, .float64),
            (.double, .float16), (.double, .bfloat16), (.double, .float32), (.double, .float64),
            (.int32, .int32), (.int32, .int64), (.int64, .int64):
            break
        default: preconditionFailure("cannot write \(values) as \(dtype)")
        }
        self.name = name
        self.shape = shape
        self.dtype = dtype
        self.values = values
    }

    /// A Float matrix as a 2-D tensor (shares the matrix's storage).
    public init(name: String, matrix: Matrix<Float>, dtype: TensorDType = .float32) {
        self.init(name: name, shape: [matrix.rows, matrix.columns], dtype: dtype, values: .float(matrix.elements))
    }

    var byteCount: Int { values.count * dtype.byteSize }

    /// Streams the little-endian bytes of the converted values into `writer`.
    func write(to writer: AtomicFile.Writer) throws {
        let chunk = 1 << 16
        func convert<T, U>(_ source: [T], _ transform: (T) -> U) throws {
            var staging = [U]()
            staging.reserveCapacity(chunk)
            for start in stride(from: 0, to: source.count, by: chunk) {
                staging.removeAll(keepingCapacity: true)
                for i in start..<min(start + chunk, source.count) { staging.append(transform(source[i])) }
                try staging.withUnsafeBytes { try writer.write($0) }
            }
        }
        switch (values, dtype) {
        case (.float(let v), .float32): try v.withUnsafeBytes { try writer.write($0) }
        case (.float(let v), .float16): try convert(v) { Float16($0).bitPattern }
        case (.float(let v), .bfloat16): try convert(v, bfloat16Bits)
        case (.float(let v), .float64): try convert(v) { Double($0) }
        case (.double(let v), .float64): try v.withUnsafeBytes { try writer.write($0) }
        case (.double(let v), .float32): try convert(v) { Float($0) }
        case (.double(let v), .float16): try convert(v) { Float16($0).bitPattern }
        case (.double(let v), .bfloat16): try convert(v) { bfloat16Bits(Float($0)) }
        case (.int32(let v), .int32): try v.withUnsafeBytes { try writer.write($0) }
        case (.int32(let v), .int64): try convert(v) { Int64($0) }
        case (.int64(let v), .int64): try v.withUnsafeBytes { try writer.write($0) }
        default: preconditionFailure("unreachable: checked in init")
        }
    }
}

/// Float → bfloat16 with round-to-nearest-even (NaN stays NaN).
private func bfloat16Bits(_ x: Float) -> UInt16 {
    if x.isNaN { return 0x7FC0 }
    let bits = x.bitPattern
    let rounding = 0x7FFF + ((bits >> 16) & 1)
    return UInt16(truncatingIfNeeded: (bits &+ rounding) >> 16)
}
