import Glibc
import SondeBase

/// Bytes that tensors point into: a memory-mapped file, or memory decompressed from an archive.
final class TensorBytes: @unchecked Sendable {  // immutable after init
    let bytes: UnsafeRawBufferPointer
    private let mapping: MappedFile?

    init(mapping: MappedFile) {
        self.mapping = mapping
        self.bytes = mapping.bytes
    }

    /// Takes ownership of a copy of `data`.
    init(copying data: UnsafeRawBufferPointer) {
        let copy = UnsafeMutableRawBufferPointer.allocate(byteCount: max(data.count, 1), alignment: 16)
        if data.count > 0 { copy.copyMemory(from: data) }
        self.bytes = UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(copy)[0..<data.count])
        self.mapping = nil
    }

    deinit {
        if mapping == nil { UnsafeMutableRawPointer(mutating: bytes.baseAddress)?.deallocate() }
    }
}

/// One tensor of a tensor file: its name, element type and shape, and a view of its bytes in the
/// file (no copy is made until the values are asked for).
public struct Tensor: Sendable {
    public let name: String
    public let dtype: TensorDType
    public let shape: [Int]
    /// True for a numpy array stored in column-major (Fortran) order.
    public let isFortranOrder: Bool
    let storage: TensorBytes
    let byteOffset: Int

    init(name: String, dtype: TensorDType, shape: [Int], isFortranOrder: Bool = false, storage: TensorBytes, byteOffset: Int) {
        self.name = name
        self.dtype = dtype
        self.shape = shape
        self.isFortranOrder = isFortranOrder
        self.storage = storage
        self.byteOffset = byteOffset
    }

    public var elementCount: Int { shape.reduce(1, *) }
    public var byteCount: Int { elementCount * dtype.byteSize }

    /// The raw little-endian bytes, in the file's element order.
    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try body(UnsafeRawBufferPointer(rebasing: storage.bytes[byteOffset..<byteOffset + byteCount]))
    }

    /// Sub-tensor `index` along the first axis (e.g. one layer of a [layer, token, neuron] array),
    /// as a view.
    public func slice(_ index: Int) -> Tensor {
        precondition(!shape.isEmpty && index >= 0 && index < shape[0], "slice \(index) of shape \(shape)")
        precondition(!isFortranOrder || shape.count == 1, "slicing a Fortran-order array")
        let inner = Array(shape.dropFirst())
        let stride = inner.reduce(1, *) * dtype.byteSize
        return Tensor(
            name: "\(name)[\(index)]", dtype: dtype, shape: inner, storage: storage,
            byteOffset: byteOffset + index * stride)
    }

    /// The values as Float, in row-major (C) order whatever the file's order.
    public func floats() -> [Float] {
        [Float](hugeCapacity: elementCount) { decode(into: $0) }
    }

    /// The values as Double, in row-major (C) order.
    public func doubles() -> [Double] {
        if dtype == .float64 {
            return [Double](hugeCapacity: elementCount) { buffer in
                withUnsafeBytes { raw in UnsafeMutableRawBufferPointer(buffer).copyMemory(from: raw) }
            }.reorderedToRowMajor(shape: shape, fromFortran: isFortranOrder)
        }
        if dtype == .int64 { return integers()!.map { Double($0) } }
        return floats().map { Double($0) }
    }

    /// The values as Int (integer tensors only; nil for floating-point ones), row-major order.
    public func integers() -> [Int]? {
        let values: [Int]
        switch dtype {
        case .int32: values = withUnsafeBytes { raw in (0..<elementCount).map { Int(raw.loadUnaligned(fromByteOffset: $0 * 4, as: Int32.self)) } }
        case .int64: values = withUnsafeBytes { raw in (0..<elementCount).map { Int(raw.loadUnaligned(fromByteOffset: $0 * 8, as: Int64.self)) } }
        default: return nil
        }
        return values.reorderedToRowMajor(shape: shape, fromFortran: isFortranOrder)
    }

    /// The tensor as a Float matrix: a 2-D tensor as it is, a 1-D one as a single row.
    /// Higher ranks throw: take a `slice` first.
    public func matrix() throws -> Matrix<Float> {
        switch shape.count {
        case 1: return Matrix(rows: 1, columns: shape[0], elements: floats())
        case 2: return Matrix(rows: shape[0], columns: shape[1]) { decode(into: $0) }
        default:
            throw TensorFileError(.unsupported, name, "a \(shape.count)-D tensor \(shape) is not a matrix; select one slice of its first axis")
        }
    }

    /// Converts every element to Float into `out` (row-major order); `out.count == elementCount`.
    func decode(into out: UnsafeMutableBufferPointer<Float>) {
        let n = elementCount
        precondition(out.count >= n)
        guard n > 0 else { return }
        withUnsafeBytes { raw in
            adviseReadAhead(raw)
            switch dtype {
            case .float32:
                UnsafeMutableRawBufferPointer(rebasing: UnsafeMutableRawBufferPointer(out)[0..<n * 4]).copyMemory(from: raw)
            case .float16:
                float16Table.withUnsafeBufferPointer { table in
                    for i in 0..<n { out[i] = table[Int(raw.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))] }
                }
            case .bfloat16:
                for i in 0..<n {
                    out[i] = Float(bitPattern: UInt32(raw.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)) << 16)
                }
            case .float64:
                for i in 0..<n { out[i] = Float(raw.loadUnaligned(fromByteOffset: 8 * i, as: Double.self)) }
            case .int32:
                for i in 0..<n { out[i] = Float(raw.loadUnaligned(fromByteOffset: 4 * i, as: Int32.self)) }
            case .int64:
                for i in 0..<n { out[i] = Float(raw.loadUnaligned(fromByteOffset: 8 * i, as: Int64.self)) }
            }
        }
        if isFortranOrder && shape.count > 1 {
            let reordered = Array(out[0..<n]).reorderedToRowMajor(shape: shape, fromFortran: true)
            _ = out.update(fromContentsOf: reordered)
        }
    }
}

/// Every half-precision bit pattern's Float value: one load per element beats converting in
/// software (the F16C instructions are not enabled in a portable build).
private let float16Table: [Float] = (0...UInt16.max).map { Float(Float16(bitPattern: $0)) }

extension Array {
    /// Reorders elements stored in column-major order of `shape` into row-major order.
    func reorderedToRowMajor(shape: [Int], fromFortran: Bool) -> [Element] {
        guard fromFortran, shape.count > 1, !isEmpty else { return self }
        // Fortran strides: stride[k] = product of shape[0..<k].
        var fortranStride = [Int](repeating: 1, count: shape.count)
        for k in 1..<shape.count { fortranStride[k] = fortranStride[k - 1] * shape[k - 1] }
        var index = [Int](repeating: 0, count: shape.count)
        var result: [Element] = []
        result.reserveCapacity(count)
        var source = 0
        for _ in 0..<count {
            result.append(self[source])
            // advance the row-major multi-index (last axis fastest)
            var k = shape.count - 1
            while k >= 0 {
                index[k] += 1
                source += fortranStride[k]
                if index[k] < shape[k] { break }
                source -= fortranStride[k] * shape[k]
                index[k] = 0
                k -= 1
            }
        }
        return result
    }
}
