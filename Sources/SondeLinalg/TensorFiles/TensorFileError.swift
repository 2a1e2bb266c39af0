/// Why a tensor file could not be read or written. The description starts with the file's path.
public struct TensorFileError: Error, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// The file does not exist or cannot be opened.
        case cannotOpen
        /// The contents are not a valid file of the format (malformed header, bad offsets, …).
        case malformed
        /// Valid, but uses a feature Sonde does not read (big-endian data, an unknown dtype, …).
        case unsupported
        /// Writing failed (disk full, no permission, …); nothing was left behind.
        case cannotWrite
    }

    public let path: String
    public let kind: Kind
    public let message: String

    public init(_ kind: Kind, _ path: String, _ message: String) {
        self.kind = kind
        self.path = path
        self.message = message
    }

    public var description: String { "\(path): \(message)" }
}
