import Glibc

/// The names in a folder, or nil when `path` is not a folder.
public func listFolder(_ path: String) throws -> [String]? {
    var info = stat()
    guard stat(path, &info) == 0 else { throw FileError(.cannotOpen, path, "cannot open (\(errnoText()))") }
    guard (info.st_mode & S_IFMT) == S_IFDIR else { return nil }
    guard let dir = opendir(path) else { throw FileError(.cannotOpen, path, "cannot list the folder (\(errnoText()))") }
    defer { closedir(dir) }
    var names: [String] = []
    // A record is only as long as its name: read the name where it is, up to its NUL. Copying
    // `d_name` (a 256-byte tuple) out of the last record read past readdir's buffer
    // (AddressSanitizer: heap-buffer-overflow).
    let nameOffset = MemoryLayout<dirent>.offset(of: \dirent.d_name)!
    while let entry = readdir(dir) {
        let name = String(cString: (UnsafeRawPointer(entry) + nameOffset).assumingMemoryBound(to: CChar.self))
        if name != "." && name != ".." { names.append(name) }
    }
    return names
}

/// Whether `path` is a regular file (following links); false when it cannot be looked at.
public func isRegularFile(_ path: String) -> Bool {
    var info = stat()
    return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFREG
}
