import Glibc

/// What a job is about to need in memory, checked before it starts against what the machine
/// can give (`MemAvailable`), so that an input ten times too large is refused with the estimate
/// and the variable that raises the bound, instead of the kernel killing the process midway.
/// The estimates come from measured peaks (ARCHITECTURE.md, "Memory"; benchmarks/memory.sh).
public enum MemoryBudget {
    /// SONDE_MAX_MEMORY (bytes), or the memory available when a command first asks.
    public static let limit = InputLimit("SONDE_MAX_MEMORY", default: availableBytes(), unit: "bytes")

    /// Refuses `what` when its estimated peak `bytes` exceeds the limit.
    public static func require(_ bytes: Double, for what: String) throws {
        guard bytes > Double(limit.value) else { return }
        let bound = getenv(limit.variable) == nil ? "the \(size(Double(limit.value))) this machine has available" : "the limit of \(size(Double(limit.value)))"
        throw MemoryError(
            description: limit.message("\(what) needs about \(size(bytes)) of memory, more than \(bound)")
                + "; use a machine with more memory, or fewer rows or neurons")
    }

    /// Bytes in the unit that suits them: "812 kB", "3.4 MB", "7.9 GB", "42 GB".
    static func size(_ bytes: Double) -> String {
        let (value, unit) = bytes < Double(1 << 20) ? (bytes / 1024, "kB") : bytes < Double(1 << 30) ? (bytes / Double(1 << 20), "MB") : (bytes / Double(1 << 30), "GB")
        return value < 10 ? "\((value * 10).rounded() / 10) \(unit)" : "\(Int(value.rounded())) \(unit)"
    }

    /// `MemAvailable` of /proc/meminfo (Linux), else the physical memory.
    static func availableBytes() -> Int {
        if let file = fopen("/proc/meminfo", "r") {
            defer { fclose(file) }
            var line = [CChar](repeating: 0, count: 256)
            while fgets(&line, Int32(line.count), file) != nil {
                let text = String(decoding: line.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
                if text.hasPrefix("MemAvailable:"), let kb = Int(text.split(separator: " ")[1]) { return kb * 1024 }
            }
        }
        return Int(sysconf(Int32(_SC_PHYS_PAGES))) * Int(sysconf(Int32(_SC_PAGESIZE)))
    }
}

/// A job that would not fit in memory: the estimate, the limit and how to raise it.
public struct MemoryError: CategorizedError, Sendable {
    public let description: String
    public var category: ErrorCategory { .resources }
}
