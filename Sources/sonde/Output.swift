import ArgumentParser
import Foundation
import SondeBase
import SondeCorpus
import SondeLinalg
import SondeModels
import SondeStudy

/// Options every command shares.
struct OutputOptions: ParsableArguments {
    @Flag(name: .long, help: "Print the result as one JSON object on stdout.")
    var json = false
    @Flag(name: .long, help: "No progress or log lines on stderr (errors and warnings still).")
    var quiet = false
    @Option(name: .long, help: "Threads for the numerics (default: OpenBLAS's, one per core; or OPENBLAS_NUM_THREADS).")
    var threads: Int?

    /// Applies --quiet and --threads as the command line is parsed, before any command runs.
    func validate() throws {
        if let threads {
            guard (1...1024).contains(threads) else { throw ValidationError("--threads must be in 1…1024") }
            BLASThreads.count = threads
        }
        if quiet { Progress.quiet = true }
    }
}

/// Prints `value` on stdout as pretty JSON, under the one JSON policy (`JSONCoding`: sorted
/// keys, non-finite numbers as "nan", "inf", "-inf").
func printJSON<T: Encodable>(_ value: T) throws {
    FileHandle.standardOutput.write(try JSONCoding.encoder(pretty: true).encode(value) + Data("\n".utf8))
}

/// A number in a table: four decimals.
func f(_ x: Double) -> String { String(format: "%.4f", x) }

/// Left-aligned columns separated by two spaces.
func formatTable(_ rows: [[String]]) -> [String] {
    guard let width = rows.map(\.count).max() else { return [] }
    let widths = (0..<width).map { c in rows.map { c < $0.count ? $0[c].count : 0 }.max() ?? 0 }
    return rows.map { row in
        row.enumerated().map { c, cell in
            c == row.count - 1 ? cell : cell.padding(toLength: widths[c], withPad: " ", startingAt: 0)
        }.joined(separator: "  ")
    }
}

/// Checks a numeric option: a finite number meeting `condition` (ArgumentParser reads "nan" and
/// "inf" as Doubles, and every comparison with NaN is false, so `< 0` guards let NaN through).
func requireNumber(_ name: String, _ value: Double?, _ expectation: String, _ condition: (Double) -> Bool = { _ in true }) throws {
    guard let value else { return }
    guard value.isFinite, condition(value) else { throw ValidationError("--\(name) must be \(expectation), not \(value)") }
}

/// A problem the command itself finds in its inputs (malformed, unless it says otherwise).
struct CLIError: CategorizedError {
    let description: String
    let category: ErrorCategory
    init(_ description: String, _ category: ErrorCategory = .malformedInput) {
        self.description = description
        self.category = category
    }
}

/// Writes `text` to stderr with the control characters that inputs may carry (ESC sequences
/// that would drive the terminal, carriage returns, C1 controls) shown as `\x1B`-style escapes;
/// line breaks and tabs pass.
func writeMessage(_ text: String) {
    FileHandle.standardError.write(Data(terminalSafe(text).utf8))
}

func terminalSafe(_ text: String) -> String {
    guard text.unicodeScalars.contains(where: isControl) else { return text }
    var out = ""
    for c in text.unicodeScalars {
        if isControl(c) { out += "\\x" + String(c.value, radix: 16, uppercase: true).leftPadded(to: 2) } else { out.unicodeScalars.append(c) }
    }
    return out
}

private func isControl(_ c: Unicode.Scalar) -> Bool {
    (c.value < 0x20 && c != "\n" && c != "\t") || (0x7F...0x9F).contains(c.value)
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String { String(repeating: "0", count: max(0, width - count)) + self }
}

/// Says on stderr which entries of the corpus folders were left out as not regular files.
func reportSkippedFiles(_ result: ReadResult) {
    guard !result.skippedFiles.isEmpty else { return }
    writeMessage(
        "sonde: left out \(result.skippedFiles.count) entr\(result.skippedFiles.count == 1 ? "y" : "ies") that \(result.skippedFiles.count == 1 ? "is" : "are") not a regular file (FIFO, device, socket): \(result.skippedFiles.joined(separator: ", "))\n"
    )
}
