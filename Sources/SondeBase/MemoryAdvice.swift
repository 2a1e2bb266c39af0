import Glibc

// Memory hints for large buffers (4 MiB or more; for smaller ones the system calls cost more
// than they save). Faulting in fresh memory 4 KiB page by page costs more than filling it: on the
// benchmark machine (THP in `madvise` mode, the default of many distributions) a 0.6 GB copy took
// 0.3–1.7 s into fresh pages and 0.1 s into huge pages.

extension Array {
    /// An array of `count` elements, all written by `body`, backed by transparent huge pages
    /// when large (as numpy does for its arrays).
    @inlinable
    public init(hugeCapacity count: Int, initializingWith body: (UnsafeMutableBufferPointer<Element>) throws -> Void) rethrows {
        guard count > 0 else {
            // Array(unsafeUninitializedCapacity: 0) writes its count into the empty-array
            // singleton, a write that threads making empty matrices at once race on
            // (ThreadSanitizer caught it in `sonde similarity`'s pooled baseline tasks).
            // `body` gets an empty buffer with a real address, as an array's own would be.
            let scratch = UnsafeMutablePointer<Element>.allocate(capacity: 1)
            defer { scratch.deallocate() }
            try body(UnsafeMutableBufferPointer(start: scratch, count: 0))
            self = []
            return
        }
        self = try Array(unsafeUninitializedCapacity: count) { buffer, initialized in
            adviseHugePages(UnsafeMutableRawBufferPointer(buffer))
            try body(buffer)
            initialized = count
        }
    }
}

let adviceThreshold = 4 << 20

/// Marks a large, not yet touched buffer MADV_HUGEPAGE (advice only: the kernel may ignore it).
public func adviseHugePages(_ buffer: UnsafeMutableRawBufferPointer) {
    guard buffer.count >= adviceThreshold, let base = buffer.baseAddress else { return }
    // Only whole pages inside the buffer: round the start up and the end down.
    let page = Int(sysconf(Int32(_SC_PAGESIZE)))
    let start = (Int(bitPattern: base) + page - 1) & ~(page - 1)
    let end = (Int(bitPattern: base) + buffer.count) & ~(page - 1)
    _ = madvise(UnsafeMutableRawPointer(bitPattern: start), end - start, MADV_HUGEPAGE)
}

/// Asks the kernel to read a large mapped range ahead (MADV_WILLNEED) before it is copied out.
public func adviseReadAhead(_ source: UnsafeRawBufferPointer) {
    guard source.count >= adviceThreshold, let base = source.baseAddress else { return }
    // The range must start on a page boundary: round the start down.
    let page = Int(sysconf(Int32(_SC_PAGESIZE)))
    let start = Int(bitPattern: base) & ~(page - 1)
    _ = madvise(UnsafeMutableRawPointer(bitPattern: start), Int(bitPattern: base) + source.count - start, MADV_WILLNEED)
}

/// Tells the kernel a large mapped, unmodified file range has been read for good (MADV_DONTNEED:
/// its pages leave the process's resident set; a later read faults them in from the file again).
/// A checkpoint's tensors are converted to Float once, so without this a model's resident size
/// would be its weights twice: the mapped file and the converted copy.
public func adviseDone(_ source: UnsafeRawBufferPointer) {
    guard source.count >= adviceThreshold, let base = source.baseAddress else { return }
    // Only whole pages inside the range: its neighbours may share the first and last page.
    let page = Int(sysconf(Int32(_SC_PAGESIZE)))
    let start = (Int(bitPattern: base) + page - 1) & ~(page - 1)
    let end = (Int(bitPattern: base) + source.count) & ~(page - 1)
    guard end > start else { return }
    _ = madvise(UnsafeMutableRawPointer(bitPattern: start), end - start, MADV_DONTNEED)
}
