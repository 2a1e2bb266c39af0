import Glibc

/// A file that could not be opened, mapped or written. The description starts with the path.
public struct FileError: Error, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// The file does not exist, is not a regular file, or cannot be read.
        case cannotOpen
        /// Writing failed (no such folder, no permission, disk full); nothing was left behind.
        case cannotWrite
    }

    public let kind: Kind
    public let path: String
    public let message: String

    public init(_ kind: Kind, _ path: String, _ message: String) {
        self.kind = kind
        self.path = path
        self.message = message
    }

    public var description: String { "\(path): \(message)" }
}

/// The text of the current `errno`.
func errnoText() -> String { String(cString: strerror(errno)) }
