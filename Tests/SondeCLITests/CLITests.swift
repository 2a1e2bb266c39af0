import Foundation
import Testing

/// Runs the built `sonde` binary (it sits beside the test bundle in the build folder).
struct SondeRun {
    let status: Int32
    let stdout: String
    let stderr: String

    static let executable: String = {
        let folder = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        // The test runner is `<build>/SondePackageTests.xctest` (a file on Linux, a bundle elsewhere).
        for candidate in [folder, folder.deletingLastPathComponent(), folder.deletingLastPathComponent().deletingLastPathComponent()] {
            let path = candidate.appendingPathComponent("sonde").path
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        return folder.appendingPathComponent("sonde").path
    }()

    init(_ arguments: String...) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.executable)
        process.arguments = arguments
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        // Read both pipes before waiting, so a full pipe cannot block the child.
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        status = process.terminationStatus
        stdout = String(decoding: outData, as: UTF8.self)
        stderr = String(decoding: errData, as: UTF8.self)
    }
}

let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
let fixtures = repositoryRoot + "/Tests/Fixtures/tensors"

@Suite struct CLITests {
    @Test func helpListsEveryCommand() throws {
        let run = try SondeRun("--help")
        #expect(run.status == 0)
        #expect(run.stdout.contains("USAGE: sonde <subcommand>"))
        #expect(run.stdout.contains("inspect"))
        let inspect = try SondeRun("help", "inspect")
        #expect(inspect.stdout.contains("USAGE: sonde inspect <file> [--json]"))
    }

    @Test func version() throws {
        let run = try SondeRun("--version")
        #expect(run.status == 0 && run.stdout == "0.1.0\n")
    }

    /// Tensors are listed in file order (by data offset; the safetensors writer puts 8-byte
    /// dtypes first).
    @Test func inspectTable() throws {
        let run = try SondeRun("inspect", "\(fixtures)/mixed.safetensors")
        #expect(run.status == 0)
        #expect(run.stdout == """
            \(fixtures)/mixed.safetensors: safetensors, 3 tensors
            name  dtype  shape   bytes
            b     I64    [2, 3]  48
            c     F64    [5]     40
            a     F32    [3, 4]  48
            metadata:
              layers = a,b,c
              model = fixture

            """)
    }

    @Test func inspectJSON() throws {
        let run = try SondeRun("inspect", "--json", "\(fixtures)/f32_fortran.npy")
        #expect(run.status == 0)
        let object = try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as! [String: Any]
        #expect(object["format"] as? String == "npy")
        let tensors = object["tensors"] as! [[String: Any]]
        #expect(tensors.count == 1)
        #expect(tensors[0]["name"] as? String == "f32_fortran")
        #expect(tensors[0]["shape"] as? [Int] == [3, 4])
        #expect(tensors[0]["order"] as? String == "F")
        #expect(tensors[0]["dtype"] as? String == "F32")
    }

    /// Errors: a message naming the file on stderr, nothing on stdout, a sysexits status.
    @Test func missingFile() throws {
        let run = try SondeRun("inspect", "/no/such/file.npy")
        #expect(run.status == 66)
        #expect(run.stdout.isEmpty)
        #expect(run.stderr == "sonde: /no/such/file.npy: cannot open (No such file or directory)\n")
    }

    @Test func malformedFile() throws {
        let run = try SondeRun("inspect", "\(fixtures)/make_fixtures.py")
        #expect(run.status == 65)
        #expect(run.stdout.isEmpty)
        #expect(run.stderr.hasPrefix("sonde: \(fixtures)/make_fixtures.py: not a tensor file"))
    }

    @Test func usageError() throws {
        let run = try SondeRun("inspect")
        #expect(run.status == 64)
        #expect(run.stderr.contains("Missing expected argument '<file>'"))
    }
}
