import Foundation

/// Shows "what k/n" on stderr while a long job runs: on a terminal a line that updates in place;
/// otherwise (a log, a batch job) a plain timestamped line every five seconds and at the end,
/// so a log shows the job is alive without filling up.
final class Progress {
    /// --quiet: no progress and no log lines.
    nonisolated(unsafe) static var quiet = false
    private let terminal = isatty(2) == 1
    private let what: String
    private let start = Date()
    private var lastLine: Date?

    init(what: String) { self.what = what }

    func update(_ done: Int, _ total: Int) { update(done, total, detail: "") }

    /// `detail` (a loss, a rate) follows the count.
    func update(_ done: Int, _ total: Int, detail: String) {
        guard !Self.quiet else { return }
        let text = "\(what) \(done)/\(total)" + (detail.isEmpty ? "" : ", " + detail)
        if terminal {
            let left =
                done > 0 && done < total ? String(format: ", %.0f s left", Date().timeIntervalSince(start) / Double(done) * Double(total - done)) : ""
            let filled = total > 0 ? min(20, 20 * done / total) : 0
            let bar = "[" + String(repeating: "#", count: filled) + String(repeating: "-", count: 20 - filled) + "] "
            FileHandle.standardError.write(Data(("\r" + bar + terminalSafe(text + left) + "\u{1B}[K" + (done == total ? "\n" : "")).utf8))
            return
        }
        let now = Date()
        guard done == total ? lastLine != nil : now.timeIntervalSince(lastLine ?? start) >= 5 else { return }
        lastLine = now
        let stamp = ISO8601DateFormatter.string(from: now, timeZone: .current, formatOptions: [.withTime, .withColonSeparatorInTime])
        writeMessage("\(stamp) \(text) (\(Int(now.timeIntervalSince(start))) s)\n")
    }

    /// A timestamped log line on stderr (none with --quiet).
    static func log(_ text: String) {
        guard !quiet else { return }
        writeMessage(
            ISO8601DateFormatter.string(from: Date(), timeZone: .current, formatOptions: [.withTime, .withColonSeparatorInTime]) + " " + text + "\n")
    }
}
