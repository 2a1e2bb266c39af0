import Foundation
import Glibc

/// A whole file mapped read-only into memory; unmapped when the last reference goes away.
/// Readers take views into the mapping, so opening a 1 GB file costs no copy.
public final class MappedFile: @unchecked Sendable {  // immutable after init
    public let path: String
    /// The mapped bytes (empty for an empty file).
    public let bytes: UnsafeRawBufferPointer

    public init(path: String) throws {
        self.path = path
        // O_NONBLOCK: opening a FIFO would otherwise wait for a writer forever; the check below
        // then refuses anything that is not a regular file.
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard fd >= 0 else {
            throw FileError(.cannotOpen, path, "cannot open (\(errnoText()))")
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            throw FileError(.cannotOpen, path, "cannot stat (\(errnoText()))")
        }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            throw FileError(.cannotOpen, path, "not a regular file (a folder, FIFO or device); name a file")
        }
        let size = Int(info.st_size)
        if size == 0 {
            bytes = UnsafeRawBufferPointer(start: nil, count: 0)
            return
        }
        guard let base = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), base != MAP_FAILED else {
            throw FileError(.cannotOpen, path, "cannot map into memory (\(errnoText()))")
        }
        bytes = UnsafeRawBufferPointer(start: base, count: size)
    }

    deinit {
        if let base = bytes.baseAddress { munmap(UnsafeMutableRawPointer(mutating: base), bytes.count) }
    }
}

extension MappedFile {
    /// The bytes of a regular file, copied (a FIFO or device is refused, not read forever).
    public static func data(_ path: String) throws -> Data {
        let file = try MappedFile(path: path)
        return withExtendedLifetime(file) { Data(file.bytes) }  // the mapping lives as long as the object
    }
}
