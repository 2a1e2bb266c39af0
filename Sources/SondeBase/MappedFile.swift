import Glibc

/// A whole file mapped read-only into memory; unmapped when the last reference goes away.
/// Readers take views into the mapping, so opening a 1 GB file costs no copy.
public final class MappedFile: @unchecked Sendable {  // immutable after init
    public let path: String
    /// The mapped bytes (empty for an empty file).
    public let bytes: UnsafeRawBufferPointer

    public init(path: String) throws {
        self.path = path
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            throw FileError(.cannotOpen, path, "cannot open (\(errnoText()))")
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            throw FileError(.cannotOpen, path, "cannot stat (\(errnoText()))")
        }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            throw FileError(.cannotOpen, path, "not a regular file")
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

/// Memory hints for copying large tensors (≥ 8 MB) out of a mapping; for smaller ones the
/// system calls cost more than they save.
///
/// Faulting in fresh memory page by page costs more than the copy itself (about 0.5 s per GB
/// here, against 0.15 s for the copy), so: ask the kernel to read the source ahead
/// (`MADV_WILLNEED`), and to back the destination with 2 MB pages (`MADV_HUGEPAGE`, as numpy does
/// for its large arrays), which takes 512 times fewer faults.
public enum BulkCopyAdvice {
    static let threshold = 8 << 20
    static let hugePage = 2 << 20

    public static func prepare(source: UnsafeRawBufferPointer, destination: UnsafeMutableRawBufferPointer) {
        guard destination.count >= threshold, let s = source.baseAddress, let d = destination.baseAddress else { return }
        let pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))
        let sourceStart = Int(bitPattern: s) / pageSize * pageSize
        let sourceEnd = Int(bitPattern: s) + source.count
        madvise(UnsafeMutableRawPointer(bitPattern: sourceStart), sourceEnd - sourceStart, MADV_WILLNEED)
        let start = (Int(bitPattern: d) + hugePage - 1) / hugePage * hugePage
        let end = (Int(bitPattern: d) + destination.count) / hugePage * hugePage
        if end > start { madvise(UnsafeMutableRawPointer(bitPattern: start), end - start, MADV_HUGEPAGE) }
    }
}
