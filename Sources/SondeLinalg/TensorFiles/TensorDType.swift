/// Element types of tensors in .npy, .npz and safetensors files.
public enum TensorDType: String, Sendable, Codable, CaseIterable {
    case float16 = "F16"
    case bfloat16 = "BF16"
    case float32 = "F32"
    case float64 = "F64"
    case int32 = "I32"
    case int64 = "I64"

    public var byteSize: Int {
        switch self {
        case .float16, .bfloat16: return 2
        case .float32, .int32: return 4
        case .float64, .int64: return 8
        }
    }

    /// The safetensors spelling ("F32", …).
    public var safetensorsName: String { rawValue }

    init?(safetensorsName: String) { self.init(rawValue: safetensorsName) }

    /// The little-endian numpy descr ("<f4", …); numpy has no bfloat16.
    var npyDescr: String? {
        switch self {
        case .float16: return "<f2"
        case .float32: return "<f4"
        case .float64: return "<f8"
        case .int32: return "<i4"
        case .int64: return "<i8"
        case .bfloat16: return nil
        }
    }

    init?(npyDescr: String) {
        // "=" (native) is little-endian on every machine Sonde runs on.
        let normalized = npyDescr.hasPrefix("=") ? "<" + npyDescr.dropFirst() : npyDescr
        switch normalized {
        case "<f2": self = .float16
        case "<f4": self = .float32
        case "<f8": self = .float64
        case "<i4": self = .int32
        case "<i8": self = .int64
        default: return nil
        }
    }
}
