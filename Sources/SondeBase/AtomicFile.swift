import Glibc

/// Writes a file atomically: everything goes to a temporary file in the same folder, which is
/// renamed over the destination only when `body` has finished without error. A reader never sees
/// a half-written file, and a failure leaves nothing behind.
public enum AtomicFile {
    /// A sink for the bytes of one file being written.
    public final class Writer {
        fileprivate let fd: Int32
        fileprivate let path: String
        fileprivate var buffer: [UInt8] = []
        private static let flushThreshold = 1 << 20

        fileprivate init(fd: Int32, path: String) {
            self.fd = fd
            self.path = path
            buffer.reserveCapacity(Self.flushThreshold)
        }

        public func write(_ bytes: some Sequence<UInt8>) throws {
            buffer.append(contentsOf: bytes)
            if buffer.count >= Self.flushThreshold { try flush() }
        }

        /// Writes raw memory directly (large payloads skip the staging buffer).
        public func write(_ raw: UnsafeRawBufferPointer) throws {
            if raw.count < Self.flushThreshold {
                buffer.append(contentsOf: raw)
                if buffer.count >= Self.flushThreshold { try flush() }
                return
            }
            try flush()
            try writeAll(raw)
        }

        /// Writes `raw` at byte `offset` of the file (after whatever is buffered), for writers
        /// that fill a layout fixed up front in any order.
        public func write(_ raw: UnsafeRawBufferPointer, at offset: Int) throws {
            try flush()
            var done = 0
            while done < raw.count {
                let n = pwrite(fd, raw.baseAddress! + done, raw.count - done, off_t(offset + done))
                if n < 0 {
                    if errno == EINTR { continue }
                    throw FileError(.cannotWrite, path, "write failed (\(errnoText()))")
                }
                done += n
            }
        }

        /// Sets the file's length up front, so a full disk fails at once rather than halfway.
        public func reserve(totalBytes: Int) throws {
            try flush()
            let result = posix_fallocate(fd, 0, off_t(totalBytes))
            guard result == 0 || result == EOPNOTSUPP || result == EINVAL else {
                throw FileError(.cannotWrite, path, "cannot reserve \(totalBytes) bytes (\(String(cString: strerror(result))))")
            }
            if result != 0 {
                guard ftruncate(fd, off_t(totalBytes)) == 0 else { throw FileError(.cannotWrite, path, "cannot size the file (\(errnoText()))") }
            }
        }

        fileprivate func flush() throws {
            if buffer.isEmpty { return }
            try buffer.withUnsafeBytes { try writeAll($0) }
            buffer.removeAll(keepingCapacity: true)
        }

        private func writeAll(_ raw: UnsafeRawBufferPointer) throws {
            var offset = 0
            while offset < raw.count {
                let n = Glibc.write(fd, raw.baseAddress! + offset, raw.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    throw FileError(.cannotWrite, path, "write failed (\(errnoText()))")
                }
                offset += n
            }
        }
    }

    /// Creates `path` with the bytes `body` writes. The file gets the mode of the file it
    /// replaces, or 0666 less the umask when it is new.
    ///
    /// On Linux the bytes go to an anonymous file (`O_TMPFILE`) that has no name until the write
    /// has succeeded: a crash, `kill -9` or a signal leaves nothing behind. It is then linked under
    /// a temporary name and renamed over `path`. Where the filesystem has no anonymous files, a
    /// named temporary `.NAME.tmp-PID-SUFFIX` is used instead; it is removed on failure, by
    /// `removePendingFiles()` from a signal handler, and by the next write to the same path if
    /// the process that made it is gone. `SONDE_NO_TMPFILE=1` in the environment chooses the
    /// named scheme everywhere (for filesystems that misreport `O_TMPFILE`, and for its tests).
    public static func write(to path: String, _ body: (Writer) throws -> Void) throws {
        let slash = path.lastIndex(of: "/")
        let folder = slash.map { String(path[..<$0]) }.map { $0.isEmpty ? "/" : $0 } ?? "."
        let name = slash.map { String(path[path.index(after: $0)...]) } ?? path
        let mode = existingMode(path) ?? (0o666 & ~currentUmask())
        removeStaleTemporaries(folder: folder, name: name)
        if getenv("SONDE_NO_TMPFILE") == nil, case let fd = open(folder, oTmpfile | O_RDWR | O_CLOEXEC, mode), fd >= 0 {
            defer { close(fd) }
            try fill(fd: fd, path: path, mode: mode, body)
            // Give the finished file a name, then move it into place; the name is guarded for
            // signals from before it exists until the rename.
            let temporary = temporaryName(folder: folder, name: name, suffix: randomSuffix())
            let slot = registerPending(temporary)
            defer { unregisterPending(slot) }
            if linkat(AT_FDCWD, "/proc/self/fd/\(fd)", AT_FDCWD, temporary, 0x400 /* AT_SYMLINK_FOLLOW */) != 0 {
                try copyToNamedFile(fd: fd, folder: folder, name: name, path: path, mode: mode)
                return
            }
            try moveIntoPlace(temporary, path)
            return
        }
        try withNamedTemporary(folder: folder, name: name, path: path) { fd in try fill(fd: fd, path: path, mode: mode, body) }
    }

    /// Removes the named temporary files of writes under way. Only async-signal-safe calls: a
    /// SIGINT/SIGTERM handler calls it before the process ends.
    public static func removePendingFiles() {
        // Files first, then the (then empty) folders that held them.
        for slot in 0..<pendingSlots { if let p = pending[slot] { unlink(p) } }
        for slot in 0..<pendingSlots { if let p = pending[slot] { rmdir(p) } }
    }

    /// Marks a file or folder to be removed by `removePendingFiles()` until `unregisterPending`.
    /// Returns its slot (nil when every slot is taken: it then goes unguarded).
    public static func registerPending(_ path: String) -> Int? {
        pendingLock.lock()
        defer { pendingLock.unlock() }
        guard let slot = (0..<pendingSlots).first(where: { pending[$0] == nil }) else { return nil }
        pending[slot] = strdup(path)
        return slot
    }

    public static func unregisterPending(_ slot: Int?) {
        guard let slot else { return }
        pendingLock.lock()
        defer { pendingLock.unlock() }
        let p = pending[slot]
        pending[slot] = nil
        free(p)
    }

    // O_TMPFILE is (__O_TMPFILE | O_DIRECTORY), a macro Swift does not import; its value on Linux.
    private static let oTmpfile: Int32 = 0o20_000_000 | O_DIRECTORY
    private static let pendingSlots = 64
    nonisolated(unsafe) private static let pending: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?> = {
        let p = UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>.allocate(capacity: pendingSlots)
        p.initialize(repeating: nil, count: pendingSlots)
        return p
    }()
    private static let pendingLock = Lock()

    private static func fill(fd: Int32, path: String, mode: mode_t, _ body: (Writer) throws -> Void) throws {
        let writer = Writer(fd: fd, path: path)
        try body(writer)
        try writer.flush()
        guard fsync(fd) == 0 else { throw FileError(.cannotWrite, path, "fsync failed (\(errnoText()))") }
        fchmod(fd, mode)
    }

    /// `.NAME.tmp-PID-SUFFIX`: the PID lets a later write tell a leftover from a live write.
    private static func temporaryName(folder: String, name: String, suffix: String) -> String {
        "\(folder)/.\(name).tmp-\(getpid())-\(suffix)"
    }

    private static func randomSuffix() -> String { String(UInt32.random(in: 0...UInt32.max), radix: 36) }

    /// A named temporary, guarded for signals, renamed over `path` after `body`. Its name is
    /// registered before the file is created (O_EXCL, a new name on a clash): mkstemp's order —
    /// create, then register — left the file behind when a SIGINT came in between (seen under
    /// AddressSanitizer, whose slowness widens the window).
    private static func withNamedTemporary(folder: String, name: String, path: String, _ body: (Int32) throws -> Void) throws {
        var (fd, temporary, slot, failure): (Int32, String, Int?, Int32) = (-1, "", nil, EEXIST)
        for _ in 0..<100 where fd < 0 && failure == EEXIST {
            temporary = temporaryName(folder: folder, name: name, suffix: randomSuffix())
            slot = registerPending(temporary)
            fd = open(temporary, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
            if fd < 0 {
                failure = errno
                unregisterPending(slot)
            }
        }
        guard fd >= 0 else {
            throw FileError(.cannotWrite, path, "cannot create a file in \(folder) (\(String(cString: strerror(failure))))")
        }
        defer { unregisterPending(slot) }
        var isOpen = true
        do {
            try body(fd)
            close(fd)
            isOpen = false
            try moveIntoPlace(temporary, path)
        } catch {
            if isOpen { close(fd) }
            unlink(temporary)
            throw error
        }
    }

    /// Where /proc is not mounted the anonymous file cannot be linked: copy it to a named one.
    private static func copyToNamedFile(fd: Int32, folder: String, name: String, path: String, mode: mode_t) throws {
        try withNamedTemporary(folder: folder, name: name, path: path) { target in
            var buffer = [UInt8](repeating: 0, count: 1 << 20)
            var offset: off_t = 0
            let writer = Writer(fd: target, path: path)
            while true {
                let n = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress!, $0.count, offset) }
                if n < 0 && errno == EINTR { continue }
                guard n >= 0 else { throw FileError(.cannotWrite, path, "cannot read back the written file (\(errnoText()))") }
                if n == 0 { break }
                try buffer.withUnsafeBytes { try writer.write(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
                offset += off_t(n)
            }
            try writer.flush()
            guard fsync(target) == 0 else { throw FileError(.cannotWrite, path, "fsync failed (\(errnoText()))") }
            fchmod(target, mode)
        }
    }

    private static func moveIntoPlace(_ temporary: String, _ path: String) throws {
        guard rename(temporary, path) == 0 else {
            let reason = errnoText()
            unlink(temporary)
            throw FileError(.cannotWrite, path, "cannot rename into place (\(reason))")
        }
    }

    /// The permission bits of an existing regular file at `path`, which a rewrite keeps.
    private static func existingMode(_ path: String) -> mode_t? {
        var info = stat()
        guard stat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { return nil }
        return info.st_mode & 0o7777
    }

    private static func currentUmask() -> mode_t {
        let mask = umask(0o022)
        umask(mask)
        return mask
    }

    /// Removes `.NAME.tmp-PID-*` files in `folder` whose process no longer runs: what a killed
    /// write left behind.
    private static func removeStaleTemporaries(folder: String, name: String) {
        let prefix = ".\(name).tmp-"
        guard let entries = try? listFolder(folder) else { return }
        for entry in entries where entry.hasPrefix(prefix) {
            guard let pid = Int32(entry.dropFirst(prefix.count).prefix { $0 != "-" }), pid > 0, pid != getpid() else { continue }
            if kill(pid, 0) != 0 && errno == ESRCH { unlink("\(folder)/\(entry)") }
        }
    }
}

/// A pthread mutex (Foundation-free, so SondeBase stays free of Foundation).
final class Lock: @unchecked Sendable {
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    init() { pthread_mutex_init(mutex, nil) }
    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }
    func lock() { pthread_mutex_lock(mutex) }
    func unlock() { pthread_mutex_unlock(mutex) }
}
