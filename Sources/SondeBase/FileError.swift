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

/// The names in a folder, or nil when `path` is not a folder.
public func listFolder(_ path: String) throws -> [String]? {
    var info = stat()
    guard stat(path, &info) == 0 else { throw FileError(.cannotOpen, path, "cannot open (\(errnoText()))") }
    guard (info.st_mode & S_IFMT) == S_IFDIR else { return nil }
    guard let dir = opendir(path) else { throw FileError(.cannotOpen, path, "cannot list the folder (\(errnoText()))") }
    defer { closedir(dir) }
    var names: [String] = []
    while let entry = readdir(dir) {
        let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
        if name != "." && name != ".." { names.append(name) }
    }
    return names
}

extension String {
    /// The string without leading and trailing whitespace (no Foundation needed).
    public func trimmingWhitespace() -> String {
        var s = Substring(self)
        while let c = s.first, c.isWhitespace { s.removeFirst() }
        while let c = s.last, c.isWhitespace { s.removeLast() }
        return String(s)
    }
}
