/// Why the contents of a tensor file could not be read (opening and writing fail with
/// `FileError`). The description starts with the file's path.
public struct TensorFileError: Error, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// The contents are not a valid file of the format (malformed header, bad offsets, …).
        case malformed
        /// Valid, but uses a feature Sonde does not read (big-endian data, an unknown dtype, …).
        case unsupported
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
