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

    init(_ arguments: String...) throws { try self.init(arguments) }

    /// `environment`: variables added to this process's own.
    init(_ arguments: [String], environment: [String: String] = [:]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.executable)
        process.arguments = arguments
        if !environment.isEmpty { process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
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

/// Runs `body` with a fresh temporary folder, removed afterwards.
func withTemporaryFolder<T>(_ body: (String) throws -> T) throws -> T {
    let folder = NSTemporaryDirectory() + "sonde-cli-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: folder) }
    return try body(folder)
}

let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
let fixtures = repositoryRoot + "/Tests/Fixtures/tensors"

@Suite struct CLITests {
    /// --quiet silences progress and logs, --threads is checked, completion scripts are generated.
    @Test func sharedOptionsAndCompletion() throws {
        try withTemporaryFolder { folder in
            let study = """
                output = "out"
                [corpus]
                paths = ["\(defaultCorpus)"]
                limit = 40
                [lstm]
                hidden = 8
                layers = 1
                steps = 2
                checkpoints = [2]
                tagger = "none"
                [probe]
                properties = ["upos"]
                lambda = 0.05
                seeds = [1]

                """
            try study.write(toFile: folder + "/s.toml", atomically: true, encoding: .utf8)
            let loud = try SondeRun("run", folder + "/s.toml")
            let quiet = try SondeRun("run", folder + "/s.toml", "--force", "--quiet", "--threads", "1")
            #expect(loud.status == 0 && quiet.status == 0 && loud.stderr.contains("running: train lm"), "\(loud.stderr)")
            #expect(quiet.stderr.isEmpty && quiet.stdout.contains("computed"), "\(quiet.stderr)")
            #expect(try SondeRun("run", folder + "/s.toml", "--threads", "0").status == 64)
            let completion = try SondeRun("--generate-completion-script", "bash")
            #expect(completion.status == 0 && completion.stdout.contains("slurm") && completion.stdout.contains("demo"))
        }
    }

    /// docs/json.md documents every command's JSON.
    @Test func jsonDocumentationCoversEveryCommand() throws {
        let docs = try String(contentsOfFile: repositoryRoot + "/docs/json.md", encoding: .utf8)
        let help = try SondeRun("--help").stdout
        // Command lines are indented by exactly two spaces; their wrapped descriptions by more.
        let commands = help.components(separatedBy: "SUBCOMMANDS:").last!.split(separator: "\n")
            .filter { $0.hasPrefix("  ") && !$0.hasPrefix("   ") }
            .compactMap { $0.split(separator: " ").first.map(String.init) }
            .filter { $0 != "help" && $0 != "See" }
        #expect(commands.count >= 12, "\(commands)")
        for command in commands where command != "corpus" { #expect(docs.contains("## `\(command)`"), "docs/json.md lacks \(command)") }
        for sub in ["stats", "validate", "labels", "convert", "generate"] { #expect(docs.contains("## `corpus \(sub)`")) }
    }

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
        #expect(
            run.stdout == """
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

let edgeCases = repositoryRoot + "/Tests/Fixtures/corpora"

@Suite struct CorpusCLITests {
    @Test func stats() throws {
        let run = try SondeRun("corpus", "stats", "\(edgeCases)/multiword-empty-underscore.conllu", "--property", "upos")
        #expect(run.status == 0)
        #expect(run.stdout.hasPrefix("1 file: 2 sentences, 8 words, 7 surface tokens\nmultiword tokens 1, empty nodes 1"))
        #expect(run.stdout.contains("PUNCT  2      25.00%"))
    }

    @Test func statsJSON() throws {
        let run = try SondeRun("corpus", "stats", "--json", "\(edgeCases)/wsj-style.mrg")
        let object = try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as! [String: Any]
        let corpus = object["corpus"] as! [String: Any]
        #expect(corpus["sentences"] as? Int == 2 && corpus["words"] as? Int == 11 && corpus["trees"] as? Int == 2)
    }

    @Test func labelsAsTSVAndNeuroXFiles() throws {
        let tsv = try SondeRun(
            "corpus", "labels", "\(edgeCases)/wsj-style.mrg", "--property", "xpos", "--map", repositoryRoot + "/annotations/ptb-upos.tsv")
        #expect(tsv.status == 0)
        #expect(tsv.stdout.hasPrefix("The\tDET\ndog\tNOUN\nwas\tVERB\nseen\tVERB\n.\tPUNCT\n\nRe(a)d\tPROPN\n"))
        let folder = NSTemporaryDirectory() + "sonde-cli-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let files = try SondeRun(
            "corpus", "labels", "\(edgeCases)/neurox.txt", "--property", "form", "--tokens", folder + "/t.txt", "--labels", folder + "/l.txt")
        #expect(files.status == 0)
        #expect(try String(contentsOfFile: folder + "/l.txt", encoding: .utf8) == "The dog barked .\nIt ran\n")
    }

    @Test func validateListsEveryError() throws {
        let folder = NSTemporaryDirectory() + "sonde-cli-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let bad = folder + "/bad.conllu"
        try "1\tHi\thi\tINTJ\tUH\t_\t0\troot\t_\t_\n\n1\tbad\n\n1\tHi\thi\tINTJ\tUH\t_\t3\troot\t_\t_\n".write(
            toFile: bad, atomically: true, encoding: .utf8)
        let run = try SondeRun("corpus", "validate", bad)
        #expect(run.status == 65)
        // Errors on stderr, as every command's messages; stdout stays for results.
        #expect(run.stdout == "")
        #expect(
            run.stderr
                == "\(bad):3:1: expected 10 tab-separated columns, found 2\n\(bad):5:19: HEAD 3 is beyond the last word (1)\nsonde: 2 invalid sentences, 1 valid\n"
        )
        let good = try SondeRun("corpus", "validate", "\(edgeCases)/bom-crlf.conllu")
        #expect(good.status == 0 && good.stdout == "valid: 1 sentences\n")
    }

    /// A failed conversion exits 65 with the location and leaves no output file; a good one
    /// writes a file that reads back with the same words.
    @Test func convert() throws {
        let folder = NSTemporaryDirectory() + "sonde-cli-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let bad = folder + "/bad.mrg"
        try "(S (NN a))\n(S (NN b) c)\n".write(toFile: bad, atomically: true, encoding: .utf8)
        let failed = try SondeRun("corpus", "convert", bad, "--to", "conllu", "-o", folder + "/out.conllu")
        #expect(failed.status == 65)
        #expect(failed.stderr == "sonde: \(bad):2:11: 'c' is a word without its own (TAG word) brackets\n")
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder) == ["bad.mrg"])
        let skipped = try SondeRun("corpus", "convert", bad, "--skip-invalid", "--to", "tiger", "-o", folder + "/out.xml")
        #expect(skipped.status == 0)
        #expect(skipped.stderr.hasPrefix("sonde: skipped 1 invalid sentence:\n  \(bad):2:11:"))
        let back = try SondeRun("corpus", "labels", folder + "/out.xml", "--property", "form")
        #expect(back.stdout == "a\ta\n\n")
    }

    @Test func unknownPropertyIsAUsageError() throws {
        let run = try SondeRun("corpus", "labels", "\(edgeCases)/neurox.txt", "--property", "colour")
        #expect(run.status == 64)
        #expect(run.stderr.contains("unknown property 'colour'; properties: upos, xpos"))
    }

    @Test func missingAnnotationSaysWhatToDo() throws {
        let run = try SondeRun("corpus", "labels", "\(edgeCases)/neurox.txt", "--property", "deprel")
        #expect(run.status == 65)
        #expect(run.stderr.contains("property 'deprel' needs dependencies (HEAD), which this sentence lacks"))
    }
}

@Suite struct ProbeCLITests {
    /// Tests/Fixtures/probe/small.{x,y}.npy with the labels as text (NeuroX's one per line).
    func labelsFile(_ folder: String) throws -> String {
        // small.y.npy is int64 little-endian: its last 300 × 8 bytes are the values.
        let data = try Data(contentsOf: URL(fileURLWithPath: repositoryRoot + "/Tests/Fixtures/probe/small.y.npy"))
        let values = data.suffix(300 * 8).withUnsafeBytes { raw in (0..<300).map { raw.loadUnaligned(fromByteOffset: $0 * 8, as: Int64.self) } }
        let path = folder + "/labels.txt"
        try values.map { "c\($0)" }.joined(separator: "\n").appending("\n").write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func trainSaveRankAndErrors() throws {
        let folder = NSTemporaryDirectory() + "sonde-cli-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let x = repositoryRoot + "/Tests/Fixtures/probe/small.x.npy"
        let labels = try labelsFile(folder)
        let run = try SondeRun(
            "probe", "--train", x, "--train-labels", labels, "--lambda", "0.01", "--alpha", "1", "--save", folder + "/p.safetensors", "--json")
        #expect(run.status == 0, "\(run.stderr)")
        let report = try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as! [String: Any]
        #expect(report["classes"] as? [String] == ["c0", "c1", "c2"])
        let train = (report["splits"] as! [String: Any])["train"] as! [String: Any]
        #expect((train["accuracy"] as! Double) > 0.8)
        #expect((report["ranking"] as! [Int]).count + (report["unranked"] as! [Int]).count == 8)
        // Same input, same seed: byte-identical JSON.
        let again = try SondeRun(
            "probe", "--train", x, "--train-labels", labels, "--lambda", "0.01", "--alpha", "1", "--save", folder + "/p.safetensors", "--json")
        #expect(again.stdout == run.stdout)
        let rank = try SondeRun("rank", "--probe", folder + "/p.safetensors", "--method", "ordering", "--json")
        let ranking = try JSONSerialization.jsonObject(with: Data(rank.stdout.utf8)) as! [String: Any]
        #expect(ranking["selected"] as? [Int] == report["ranking"] as? [Int])
        let random = try SondeRun("rank", "--probe", folder + "/p.safetensors", "--method", "random", "--count", "3", "--seed", "5")
        let chosen = random.stdout.split(separator: " ").map { Int($0.trimmingCharacters(in: .whitespacesAndNewlines))! }
        #expect(random.status == 0 && chosen.count == 3 && Set(chosen).count == 3 && chosen.allSatisfy { (0..<8).contains($0) })
        // A label file of the wrong length: a message with the path, exit 65.
        let short = folder + "/short.txt"
        try "c0\nc1\n".write(toFile: short, atomically: true, encoding: .utf8)
        let bad = try SondeRun("probe", "--train", x, "--train-labels", short, "--lambda", "0.01")
        #expect(bad.status == 65 && bad.stderr.hasPrefix("sonde: \(short):2: 2 label lines (2 labels) for 300 rows of activations"))
        // NeuroX's other layout, one sentence per line: the same probe.
        let lines = try String(contentsOfFile: labels, encoding: .utf8).split(separator: "\n")
        let bySentence = folder + "/by-sentence.txt"
        try stride(from: 0, to: lines.count, by: 7).map { lines[$0..<min($0 + 7, lines.count)].joined(separator: " ") }.joined(separator: "\n")
            .write(toFile: bySentence, atomically: true, encoding: .utf8)
        let sentences = try SondeRun("probe", "--train", x, "--train-labels", bySentence, "--lambda", "0.01", "--alpha", "1", "--json")
        #expect(sentences.status == 0, "\(sentences.stderr)")
        let bySentenceReport = try JSONSerialization.jsonObject(with: Data(sentences.stdout.utf8)) as! [String: Any]
        #expect(((bySentenceReport["splits"] as! [String: Any])["train"] as! [String: Any])["accuracy"] as! Double == train["accuracy"] as! Double)
        let notProbe = try SondeRun("rank", "--probe", x)
        #expect(notProbe.status == 65 && notProbe.stderr.contains("not a saved Sonde probe"))
    }

    /// A probe that kept no neuron (λ above λ_max) is the intercept-only model: it says so in
    /// text and JSON, and never presents index order 0 1 2 … as a ranking.
    @Test func emptyProbeIsNotARanking() throws {
        try withTemporaryFolder { folder in
            let x = repositoryRoot + "/Tests/Fixtures/probe/small.x.npy"
            let labels = try labelsFile(folder)
            let run = try SondeRun("probe", "--train", x, "--train-labels", labels, "--lambda", "100", "--save", folder + "/p.safetensors", "--json")
            #expect(run.status == 0, "\(run.stderr)")
            let report = try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as! [String: Any]
            #expect((report["ranking"] as! [Int]).isEmpty && (report["unranked"] as! [Int]) == Array(0..<8))
            let warnings = report["warnings"] as! [String]
            #expect(warnings.contains { $0.contains("no neuron has a nonzero weight") } && warnings.contains { $0.contains("majority baseline") })
            let text = try SondeRun("probe", "--train", x, "--train-labels", labels, "--lambda", "100")
            #expect(text.stdout.contains("ranking: none (no neuron has a nonzero weight)") && !text.stdout.contains("0 1 2"))
            let rank = try SondeRun("rank", "--probe", folder + "/p.safetensors")
            #expect(rank.status == 0 && rank.stdout == "\n" && rank.stderr.contains("8 neurons with zero weight unranked"))
            // The hard threshold's default divisor is NeuroX's 2 (it was 0.5: never any neuron).
            let sparse = try SondeRun("probe", "--train", x, "--train-labels", labels, "--lambda", "0.01", "--save", folder + "/q.safetensors")
            #expect(sparse.status == 0)
            // Per-class top neurons in the text output.
            #expect(sparse.stdout.contains("\n  c0: ") && sparse.stdout.contains("\n  c2: "), "\(sparse.stdout)")
            // Words come from the treebank with --train-corpus: a word file beside it is a usage error.
            let both = try SondeRun(
                "probe", "--train", x, "--train-corpus", repositoryRoot + "/corpora/default.conllu", "--property", "upos", "--train-words", labels)
            #expect(both.status == 64 && both.stderr.contains("--train-words goes with label files"), "\(both.stderr)")
            let threshold = try SondeRun("rank", "--probe", folder + "/q.safetensors", "--method", "threshold", "--json")
            #expect(!((try JSONSerialization.jsonObject(with: Data(threshold.stdout.utf8)) as! [String: Any])["selected"] as! [Int]).isEmpty)
            let oneClass = try SondeRun("rank", "--probe", folder + "/q.safetensors", "--method", "top", "--class", "c1", "--json")
            let perClass = (try JSONSerialization.jsonObject(with: Data(oneClass.stdout.utf8)) as! [String: Any])["perClass"] as! [String: [Int]]
            #expect(perClass.keys.sorted() == ["c1"])
        }
    }
}
