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
            if result != 0 { guard ftruncate(fd, off_t(totalBytes)) == 0 else { throw FileError(.cannotWrite, path, "cannot size the file (\(errnoText()))") } }
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

    /// Creates `path` with the bytes `body` writes.
    public static func write(to path: String, _ body: (Writer) throws -> Void) throws {
        let slash = path.lastIndex(of: "/")
        let folder = slash.map { String(path[..<$0]) } ?? "."
        let name = slash.map { String(path[path.index(after: $0)...]) } ?? path
        var template = Array("\(folder.isEmpty ? "/" : folder)/.\(name).tmp-XXXXXX".utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else {
            throw FileError(.cannotWrite, path, "cannot create a file in \(folder) (\(errnoText()))")
        }
        let temporary = String(decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
        var open = true
        do {
            let writer = Writer(fd: fd, path: path)
            try body(writer)
            try writer.flush()
            guard fsync(fd) == 0 else {
                throw FileError(.cannotWrite, path, "fsync failed (\(errnoText()))")
            }
            fchmod(fd, 0o644)
            close(fd)
            open = false
            guard rename(temporary, path) == 0 else {
                throw FileError(.cannotWrite, path, "cannot rename into place (\(errnoText()))")
            }
        } catch {
            if open { close(fd) }
            unlink(temporary)
            throw error
        }
    }
}
