import ArgumentParser
import Foundation
import SondeCorpus
import SondeBase
import SondeLinalg
import SondeModels

/// Options every command shares.
struct OutputOptions: ParsableArguments {
    @Flag(name: .long, help: "Print the result as one JSON object on stdout.")
    var json = false
}

/// Prints `value` as pretty JSON with sorted keys (stable output: same input, same bytes).
func printJSON<T: Encodable>(_ value: T) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    let data = try encoder.encode(value)
    FileHandle.standardOutput.write(data)
    FileHandle.standardOutput.write(Data("\n".utf8))
}

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


/// Runs `body`, turning input and output errors into a message on stderr and a sysexits
/// status: 65 malformed input, 66 missing input, 73 output not writable.
func withInputErrors<T>(_ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch let error as TensorFileError {
        throw fail(error, code: 65)
    } catch let error as FileError {
        throw fail(error, code: error.kind == .cannotOpen ? 66 : 73)
    } catch let error as CorpusError {
        throw fail(error, code: 65)
    } catch let error as PropertyError {
        throw fail(error, code: 65)
    } catch let error as ModelError {
        throw fail(error, code: error.kind == .missing ? 66 : 65)
    } catch let error as CLIError {
        throw fail(error, code: 65)
    }
}

/// A problem the command itself finds in its input.
struct CLIError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// A malformed-input failure the command itself detects: the message on stderr, exit 65.
func failure(_ message: String) -> ExitCode {
    FileHandle.standardError.write(Data("sonde: \(message)\n".utf8))
    return ExitCode(65)
}

private func fail(_ error: Error, code: Int32) -> ExitCode {
    FileHandle.standardError.write(Data("sonde: \(error)\n".utf8))
    return ExitCode(code)
}

/// Says on stderr which entries of the corpus folders were left out as not regular files.
func reportSkippedFiles(_ result: ReadResult) {
    guard !result.skippedFiles.isEmpty else { return }
    FileHandle.standardError.write(Data("sonde: left out \(result.skippedFiles.count) entr\(result.skippedFiles.count == 1 ? "y" : "ies") that \(result.skippedFiles.count == 1 ? "is" : "are") not a regular file (FIFO, device, socket): \(result.skippedFiles.joined(separator: ", "))\n".utf8))
}
