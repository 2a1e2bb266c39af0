import Foundation

/// Shows "what k/n" on stderr while a long job runs: on a terminal a line that updates in place;
/// otherwise (a log, a batch job) a plain timestamped line every five seconds and at the end,
/// so a log shows the job is alive without filling up.
final class Progress {
    private let terminal = isatty(2) == 1
    private let what: String
    private let start = Date()
    private var lastLine: Date?

    init(what: String) { self.what = what }

    func update(_ done: Int, _ total: Int) {
        if terminal {
            FileHandle.standardError.write(Data(("\r" + terminalSafe("\(what) \(done)/\(total)") + (done == total ? "\n" : "")).utf8))
            return
        }
        let now = Date()
        guard done == total ? lastLine != nil : now.timeIntervalSince(lastLine ?? start) >= 5 else { return }
        lastLine = now
        let stamp = ISO8601DateFormatter.string(from: now, timeZone: .current, formatOptions: [.withTime, .withColonSeparatorInTime])
        writeMessage("\(stamp) \(what) \(done)/\(total) (\(Int(now.timeIntervalSince(start))) s)\n")
    }
}
