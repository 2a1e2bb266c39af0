import Glibc

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

/// Whether `path` is a regular file (following links); false when it cannot be looked at.
public func isRegularFile(_ path: String) -> Bool {
    var info = stat()
    return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFREG
}
