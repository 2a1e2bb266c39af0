import Glibc

/// An error about one file, `path: message`, with a kind the caller can switch on. Each module
/// names its own kinds: `FileError` (opening, writing), `TensorFileError` (contents of tensor
/// files), `ModelError` (model folders and tokenizers).
public struct PathError<Kind: PathErrorKind>: CategorizedError, Equatable, Sendable {
    public let kind: Kind
    public let path: String
    public let message: String

    public init(_ kind: Kind, _ path: String, _ message: String) {
        self.kind = kind
        self.path = path
        self.message = message
    }

    public var description: String { "\(path): \(message)" }
    public var category: ErrorCategory { kind.category }
}

/// Why a file could not be opened, mapped or written.
public enum FileProblem: PathErrorKind {
    /// The file does not exist, is not a regular file, or cannot be read.
    case cannotOpen
    /// Writing failed (no such folder, no permission, disk full); nothing was left behind.
    case cannotWrite

    public var category: ErrorCategory { self == .cannotOpen ? .missingInput : .output }
}

/// A file that could not be opened, mapped or written. The description starts with the path.
public typealias FileError = PathError<FileProblem>

/// The text of the current `errno`.
public func errnoText() -> String { String(cString: strerror(errno)) }
