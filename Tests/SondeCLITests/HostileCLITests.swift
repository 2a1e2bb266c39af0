import Foundation
import SondeLinalg
import Testing

/// A tiny BERT (the bf16 fixture) with a letter-level WordPiece tokenizer of its 64 ids, so a
/// test can run `sonde extract` without ../shared.
func letterModel(in folder: String) throws -> String {
    let model = folder + "/model"
    try FileManager.default.createDirectory(atPath: model, withIntermediateDirectories: true)
    let fixture = repositoryRoot + "/Tests/Fixtures/models/bert-bf16"
    for name in ["config.json", "model.safetensors"] { try FileManager.default.copyItem(atPath: fixture + "/" + name, toPath: model + "/" + name) }
    var vocab = ["[PAD]": 0, "[UNK]": 1, "[CLS]": 2, "[SEP]": 3]
    for c in "abcdefghijklmnopqrstuvwxyz" { vocab[String(c)] = vocab.count }
    for c in "abcdefghijklmnopqrstuvwxyz" { vocab["##" + String(c)] = vocab.count }
    let tokenizer: [String: Any] = [
        "normalizer": ["type": "BertNormalizer", "lowercase": true], "pre_tokenizer": ["type": "BertPreTokenizer"],
        "post_processor": ["type": "BertProcessing", "cls": ["[CLS]", 2], "sep": ["[SEP]", 3]],
        "model": ["type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##", "vocab": vocab],
    ]
    try JSONSerialization.data(withJSONObject: tokenizer).write(to: URL(fileURLWithPath: model + "/tokenizer.json"))
    return model
}

/// The letter model and its activations of the default corpus's first `limit` sentences.
func letterActivations(in folder: String, limit: Int) throws -> (model: String, activations: String) {
    let model = try letterModel(in: folder)
    let activations = folder + "/acts.safetensors"
    let run = try SondeRun(
        "extract", "--model", model, "--corpus", repositoryRoot + "/corpora/default.conllu", "--limit", String(limit), "--out", activations)
    #expect(run.status == 0, "\(run.stderr)")
    return (model, activations)
}

/// The files in `folder`, the model folder left out.
func leftovers(_ folder: String) throws -> [String] {
    try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0 != "model" }.sorted()
}

@Suite struct HostileCLITests {
    let defaultCorpus = repositoryRoot + "/corpora/default.conllu"

    /// A write killed with SIGKILL or interrupted with SIGINT leaves no output and no temporary
    /// file (after the rerun, for SIGKILL of the named-temporary scheme, which only a rerun can
    /// clean); the rerun then succeeds. Both the anonymous-file and the named scheme are tried.
    @Test(arguments: [(SIGKILL, false), (SIGINT, false), (SIGTERM, false), (SIGKILL, true), (SIGINT, true)])
    func interruptedWritesLeaveNothing(signal: Int32, named: Bool) throws {
        try withTemporaryFolder { folder in
            let model = try letterModel(in: folder)
            let out = folder + "/acts.safetensors"
            let process = Process()
            process.executableURL = URL(fileURLWithPath: SondeRun.executable)
            process.arguments =
                ["extract", "--model", model, "--out", out] + Array(repeating: ["--corpus", defaultCorpus], count: 12).flatMap { $0 }
            var environment = ProcessInfo.processInfo.environment
            if named { environment["SONDE_NO_TMPFILE"] = "1" } else { environment["SONDE_NO_TMPFILE"] = nil }
            process.environment = environment
            process.standardError = FileHandle.nullDevice
            process.standardOutput = FileHandle.nullDevice
            try process.run()
            // Wait until the output is being written: a named temporary in the folder, or an
            // anonymous one ("/folder/#inode (deleted)") among the process's open files. (Where
            // the filesystem has no O_TMPFILE, the unnamed run falls back to a named temporary.)
            let deadline = Date().addingTimeInterval(60)
            var (anonymous, sawNamed) = (false, false)
            while !(anonymous || sawNamed) && process.isRunning && Date() < deadline {
                sawNamed = try leftovers(folder).contains { $0.hasPrefix(".acts.safetensors.tmp-") }
                if !named {
                    let fds = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(process.processIdentifier)/fd")) ?? []
                    anonymous = fds.contains { fd in
                        ((try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(process.processIdentifier)/fd/\(fd)")) ?? "").hasPrefix(
                            folder + "/#")
                    }
                }
                if !(anonymous || sawNamed) { usleep(2_000) }
            }
            try #require(anonymous || sawNamed, "the extraction never started writing")
            kill(process.processIdentifier, signal)
            process.waitUntilExit()
            #expect(process.terminationReason == .uncaughtSignal && process.terminationStatus == signal)
            let afterKill = try leftovers(folder)
            if sawNamed && signal == SIGKILL {
                // Only a rerun can remove what kill -9 interrupted (checked below).
                #expect(afterKill.count == 1 && afterKill[0].hasPrefix(".acts.safetensors.tmp-"), "\(afterKill)")
            } else {
                #expect(afterKill.isEmpty, "\(afterKill)")
            }
            let rerun = try SondeRun("extract", "--model", model, "--corpus", defaultCorpus, "--limit", "20", "--out", out)
            #expect(rerun.status == 0, "\(rerun.stderr)")
            #expect(try leftovers(folder) == ["acts.safetensors"])
        }
    }

    /// Outputs respect the umask when new and keep an existing file's mode.
    @Test func outputModes() throws {
        try withTemporaryFolder { folder in
            let out = folder + "/copy.conllu"
            let first = try SondeRun("corpus", "convert", defaultCorpus, "--to", "conllu", "-o", out)
            #expect(first.status == 0)
            let mask = umask(0o022)
            umask(mask)
            let created = try FileManager.default.attributesOfItem(atPath: out)[.posixPermissions] as! Int
            #expect(created == 0o666 & ~Int(mask))
            try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: out)
            #expect(try SondeRun("corpus", "convert", defaultCorpus, "--to", "conllu", "-o", out).status == 0)
            #expect(try FileManager.default.attributesOfItem(atPath: out)[.posixPermissions] as! Int == 0o600)
        }
    }

    /// Numeric options are finite and in range (NaN passed every `< 0` guard), and degenerate
    /// settings are usage errors (64), not hangs.
    @Test func numericOptionsAreChecked() throws {
        try withTemporaryFolder { folder in
            let x = folder + "/x.npy", y = folder + "/y.txt"
            try writeNPY(x, rows: 40, columns: 3) { i, j in Float((i * 7 + j * 3) % 11) - 5 }
            try (0..<40).map { $0 % 2 == 0 ? "A" : "B" }.joined(separator: "\n").write(toFile: y, atomically: true, encoding: .utf8)
            for options in [
                ["--lambda", "nan"], ["--lambda", "0"], ["--lambda", "inf"], ["--alpha", "nan"], ["--l1", "nan", "--neurox"],
                ["--tolerance", "nan"], ["--folds", "1"], ["--folds", "41"], ["--min-ratio", "nan"],
            ] {
                let run = try SondeRun(["probe", "--train", x, "--train-labels", y] + options)
                #expect(run.status == 64, "\(options): \(run.stderr)")
            }
            let similarity = try SondeRun("similarity", x, x, "--keep", "nan")
            #expect(similarity.status == 64)
            let layers = try SondeRun(
                "extract", "--model", try letterModel(in: folder), "--corpus", defaultCorpus, "--layers", "0,0,0", "--out", folder + "/a.safetensors")
            #expect(layers.status == 64 && layers.stderr.contains("layer 0 is named twice"), "\(layers.stderr)")
        }
    }

    /// Constant activations give the intercept-only model at once, with a warning in text and
    /// JSON; an absurd value is refused before the solver sees it; CRLF label files are read.
    @Test func degenerateActivations() throws {
        try withTemporaryFolder { folder in
            let y = folder + "/y.txt", crlf = folder + "/crlf.txt"
            let labels = (0..<40).map { $0 % 3 == 0 ? "A" : "B" }
            try labels.joined(separator: "\n").write(toFile: y, atomically: true, encoding: .utf8)
            try (labels.joined(separator: "\r\n") + "\r\n").write(toFile: crlf, atomically: true, encoding: .utf8)
            let constant = folder + "/constant.npy"
            try writeNPY(constant, rows: 40, columns: 4) { _, _ in 1 }
            for extra in [["--lambda", "0.01"], []] {
                let run = try SondeRun(["probe", "--train", constant, "--train-labels", crlf, "--json"] + extra)
                #expect(run.status == 0, "\(run.stderr)")
                let report = try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as! [String: Any]
                let warnings = report["warnings"] as! [String]
                #expect(warnings.contains { $0.contains("every neuron is constant") }, "\(warnings)")
                #expect((report["diagnostics"] as! [String: Any])["converged"] as! Bool)
            }
            let huge = folder + "/huge.npy"
            try writeNPY(huge, rows: 40, columns: 4) { i, j in i == 5 && j == 3 ? 3e38 : Float(i % 4 - j) }
            let run = try SondeRun("probe", "--train", huge, "--train-labels", y, "--lambda", "0.01")
            #expect(run.status == 65 && run.stderr.contains("row 5") && run.stderr.contains("1e18"), "\(run.stderr)")
        }
    }

    /// A NaN in a result (debiased CKA is undefined below 4 rows) is the string "nan" on stdout,
    /// as in every file Sonde writes, not an EncodingError and exit 1.
    @Test func nonFiniteResultsAreStringsInJSON() throws {
        try withTemporaryFolder { folder in
            let x = folder + "/x.npy", y = folder + "/y.npy"
            try writeNPY(x, rows: 3, columns: 2) { i, j in Float(i * i + j) }
            try writeNPY(y, rows: 3, columns: 2) { i, j in Float((i + 2 * j) % 3) }
            let run = try SondeRun("similarity", x, y, "--measures", "cka", "--json")
            #expect(run.status == 0, "\(run.stderr)")
            let json = try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as! [String: Any]
            let debiased = (json["measures"] as! [String: Any])["cka-debiased"] as! [String: Any]
            #expect(debiased["value"] as? String == "nan", "\(run.stdout)")
        }
    }

    /// A FIFO where a file should be (config.json, a label file, a corpus) is refused at once.
    @Test func fifosNeverBlock() throws {
        try withTemporaryFolder { folder in
            let model = try letterModel(in: folder)
            try FileManager.default.removeItem(atPath: model + "/config.json")
            #expect(mkfifo(model + "/config.json", 0o600) == 0)
            #expect(mkfifo(folder + "/labels.txt", 0o600) == 0)
            let start = Date()
            let extract = try SondeRun("extract", "--model", model, "--corpus", defaultCorpus, "--out", folder + "/a.safetensors")
            #expect(extract.status == 66 && extract.stderr.contains("config.json"), "\(extract.stderr)")
            let x = folder + "/x.npy"
            try writeNPY(x, rows: 4, columns: 2) { i, j in Float(i + j) }
            let probe = try SondeRun("probe", "--train", x, "--train-labels", folder + "/labels.txt", "--lambda", "0.1")
            #expect(probe.status == 66 && probe.stderr.contains("not a regular file"), "\(probe.stderr)")
            let corpus = try SondeRun("corpus", "stats", folder + "/labels.txt")
            #expect(corpus.status == 66, "\(corpus.stderr)")
            #expect(mkfifo(folder + "/study.toml", 0o600) == 0)
            let run = try SondeRun("run", folder + "/study.toml", "--check")
            #expect(run.status == 65 && run.stderr.contains("study.toml: cannot read the experiment file"), "\(run.stderr)")
            #expect(Date().timeIntervalSince(start) < 30)
        }
    }

    /// Control characters from an input (an ESC sequence in a word) are escaped in messages.
    @Test func messagesEscapeControlCharacters() throws {
        try withTemporaryFolder { folder in
            let bad = folder + "/bad.ptb"
            try "(S (NN a) \u{1B}[31mred)\n".write(toFile: bad, atomically: true, encoding: .utf8)
            let run = try SondeRun("corpus", "validate", bad)
            #expect(run.status == 65)
            #expect(!run.stderr.contains("\u{1B}") && run.stderr.contains("\\x1B[31mred"), "\(run.stderr)")
        }
    }

    /// Hostile inputs to `sonde extract` that need no ../shared: a word or a sentence beyond
    /// the limits is refused with the limit and how to raise it.
    @Test func sentenceAndWordLimits() throws {
        try withTemporaryFolder { folder in
            let model = try letterModel(in: folder)
            let word = folder + "/word.txt"
            try ("a " + String(repeating: "x", count: 1_000_000) + "\n").write(toFile: word, atomically: true, encoding: .utf8)
            let longWord = try SondeRun("extract", "--model", model, "--corpus", word, "--out", folder + "/w.safetensors")
            #expect(longWord.status == 65 && longWord.stderr.contains("SONDE_MAX_WORD_BYTES"), "\(longWord.stderr)")
            let sentence = folder + "/sentence.txt"
            try (Array(repeating: "w", count: 50_000).joined(separator: " ") + "\n").write(toFile: sentence, atomically: true, encoding: .utf8)
            let longSentence = try SondeRun("extract", "--model", model, "--corpus", sentence, "--out", folder + "/s.safetensors")
            #expect(longSentence.status == 65 && longSentence.stderr.contains("SONDE_MAX_SENTENCE_WORDS"), "\(longSentence.stderr)")
            #expect(try leftovers(folder) == ["sentence.txt", "word.txt"])
        }
    }
}

/// Writes a float32 .npy [rows, columns] with `value(i, j)`.
func writeNPY(_ path: String, rows: Int, columns: Int, _ value: (Int, Int) -> Float) throws {
    var header = "{'descr': '<f4', 'fortran_order': False, 'shape': (\(rows), \(columns)), }"
    while (10 + header.utf8.count + 1) % 64 != 0 { header += " " }
    header += "\n"
    var data = Data([0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(header.utf8.count & 0xFF), UInt8(header.utf8.count >> 8)])
    data += Data(header.utf8)
    for i in 0..<rows { for j in 0..<columns { withUnsafeBytes(of: value(i, j).bitPattern.littleEndian) { data += Data($0) } } }
    try data.write(to: URL(fileURLWithPath: path))
}

/// Activations meet the model they came from, or nothing (issue: BERT activations were ablated
/// inside GPT-2 and a "re-extracted accuracy" reported).
@Suite struct ModelIdentityCLITests {
    let defaultCorpus = repositoryRoot + "/corpora/default.conllu"

    @Test func ablationRefusesAnotherCheckpoint() throws {
        try withTemporaryFolder { folder in
            let (model, acts) = try letterActivations(in: folder, limit: 40)
            // The same architecture and width, one weight byte changed: another checkpoint.
            let other = folder + "/other"
            try FileManager.default.copyItem(atPath: model, toPath: other)
            var weights = try Data(contentsOf: URL(fileURLWithPath: other + "/model.safetensors"))
            weights[weights.count - 1] ^= 0x01
            try weights.write(to: URL(fileURLWithPath: other + "/model.safetensors"))
            func ablate(_ folder: String) throws -> SondeRun {
                try SondeRun(
                    "ablate", "--train", acts, "--layer", "layer1", "--train-corpus", defaultCorpus, "--property", "upos",
                    "--lambda", "0.01", "--k", "2", "--seeds", "1", "--model", folder, "--model-corpus", defaultCorpus,
                    "--model-layer", "1", "--model-limit", "5")
            }
            let wrong = try ablate(other)
            #expect(
                wrong.status == 65 && wrong.stderr.contains("was not extracted from \(other): they come from another checkpoint"), "\(wrong.stderr)")
            // The right checkpoint passes the check (this fixture is a classifier, which the
            // model's own score then asks a sentence property for: a later, unrelated message).
            let right = try ablate(model)
            #expect(!right.stderr.contains("was not extracted from") && right.stderr.contains("a classifier is scored"), "\(right.stderr)")
        }
    }

    @Test func compareRefusesDifferentArchitectures() throws {
        try withTemporaryFolder { folder in
            let (model, base) = try letterActivations(in: folder, limit: 60)
            let other = folder + "/other.safetensors"
            // The same numbers, recorded as coming from a GPT-2.
            let file = try TensorCollection.read(base)
            var metadata = file.metadata
            metadata["architecture"] = "gpt2"
            metadata["fingerprint"] = nil
            try Safetensors.write(
                file.tensors.map { TensorPayload(name: $0.name, shape: $0.shape, dtype: .float32, values: .float($0.floats())) }, metadata: metadata,
                to: other)
            let arguments = [
                "compare", "--base", base, "--other", other, "--corpus", defaultCorpus, "--limit", "60", "--property", "upos", "--lambda", "0.01",
                "--k", "4", "--json",
            ]
            let refused = try SondeRun(arguments)
            #expect(refused.status == 64 && refused.stderr.contains("--allow-different"), "\(refused.stderr)")
            let allowed = try SondeRun(arguments + ["--allow-different"])
            #expect(allowed.status == 0, "\(allowed.stderr)")
            let layers = (try JSONSerialization.jsonObject(with: Data(allowed.stdout.utf8)) as! [String: Any])["layers"] as! [[String: Any]]
            #expect(!layers.isEmpty && layers.allSatisfy { $0["topKOverlap"] == nil || $0["topKOverlap"] is NSNull })
            // One checkpoint compared with itself: allowed, with a warning.
            let same = try SondeRun([
                "compare", "--base", model, "--other", base, "--corpus", defaultCorpus, "--limit", "60", "--property", "upos", "--lambda", "0.01",
                "--k", "4",
            ])
            #expect(same.status == 0 && same.stderr.contains("are the same checkpoint"), "\(same.stderr)")
        }
    }
}

/// One convention across commands: layer names, alignment messages, metadata summaries.
@Suite struct ConventionCLITests {
    let defaultCorpus = repositoryRoot + "/corpora/default.conllu"

    @Test func layersAlignmentAndInspect() throws {
        try withTemporaryFolder { folder in
            let (_, acts) = try letterActivations(in: folder, limit: 50)
            // --layer 1 and --layer layer1 name the same tensor.
            let a = try SondeRun(
                "probe", "--train", acts, "--layer", "1", "--train-corpus", defaultCorpus, "--property", "upos", "--lambda", "0.01", "--json")
            let b = try SondeRun(
                "probe", "--train", acts, "--layer", "layer1", "--train-corpus", defaultCorpus, "--property", "upos", "--lambda", "0.01", "--json")
            #expect(a.status == 0 && a.stdout == b.stdout, "\(a.stderr)")
            // A treebank the file was not extracted from: the message names the one it was.
            let other = try SondeRun(
                "probe", "--train", acts, "--layer", "1", "--train-corpus", repositoryRoot + "/Tests/Fixtures/corpora/bom-crlf.conllu", "--property",
                "upos")
            #expect(other.status == 65 && other.stderr.contains("(it was extracted from \(defaultCorpus), --limit 50)"), "\(other.stderr)")
            // inspect summarises long metadata lists.
            let inspect = try SondeRun("inspect", acts)
            #expect(inspect.stdout.contains("sentence_words = 50 items: ") && inspect.stdout.count < 2_000, "\(inspect.stdout)")
        }
    }
}

/// `sonde top-words`: neurons by number or from a probe, text, JSON and the HTML view.
@Suite struct TopWordsCLITests {
    let defaultCorpus = repositoryRoot + "/corpora/default.conllu"

    @Test func topWords() throws {
        try withTemporaryFolder { folder in
            let (_, acts) = try letterActivations(in: folder, limit: 80)
            let json = try SondeRun(
                "top-words", acts, "--layer", "2", "--corpus", defaultCorpus, "--neurons", "3,7", "--count", "10", "--property", "upos", "--json")
            #expect(json.status == 0, "\(json.stderr)")
            let report = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as! [String: Any]
            let neurons = report["neurons"] as! [[String: Any]]
            #expect(neurons.map { $0["neuron"] as! Int } == [3, 7])
            let top = neurons[0]["top"] as! [[String: Any]]
            #expect(top.count == 10 && zip(top, top.dropFirst()).allSatisfy { ($0["activation"] as! Double) >= ($1["activation"] as! Double) })
            #expect((neurons[0]["topLabels"] as! [[String: Any]]).map { $0["count"] as! Int }.reduce(0, +) == 10)
            let html = folder + "/view.html"
            let probe = folder + "/p.safetensors"
            #expect(
                try SondeRun(
                    "probe", "--train", acts, "--layer", "2", "--train-corpus", defaultCorpus, "--property", "upos", "--lambda", "0.003", "--save",
                    probe
                ).status == 0)
            let text = try SondeRun(
                "top-words", acts, "--layer", "layer2", "--corpus", defaultCorpus, "--probe", probe, "--k", "2", "--count", "3", "--property", "upos",
                "--html", html)
            #expect(
                text.status == 0 && text.stdout.contains("labels among the top 3:") && text.stdout.contains("highest:") && text.stdout.contains("["),
                "\(text.stderr)")
            let page = try String(contentsOfFile: html, encoding: .utf8)
            #expect(page.contains("<section id=\"n") && page.contains("class=\"w hit\""))
            let none = try SondeRun("top-words", acts, "--layer", "2", "--corpus", defaultCorpus)
            #expect(none.status == 64)
        }
    }
}

/// Hostile model folders through the command line: exit 65, the file and field named, no output.
@Suite struct HostileModelCLITests {
    let defaultCorpus = repositoryRoot + "/corpora/default.conllu"

    @Test func badTokenizerAndConfigLeaveNothing() throws {
        try withTemporaryFolder { folder in
            let model = try letterModel(in: folder)
            let out = folder + "/a.safetensors"
            // A negative id in the vocabulary (it was read before the embedding matrix: signal 11).
            let tokenizerPath = model + "/tokenizer.json"
            var tokenizer = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: tokenizerPath))) as! [String: Any]
            var inner = tokenizer["model"] as! [String: Any]
            var vocab = inner["vocab"] as! [String: Int]
            vocab["e"] = -7
            inner["vocab"] = vocab
            tokenizer["model"] = inner
            let hostile = folder + "/hostile-tokenizer.json"
            try JSONSerialization.data(withJSONObject: tokenizer).write(to: URL(fileURLWithPath: hostile))
            let negative = try SondeRun("extract", "--model", model, "--tokenizer", hostile, "--corpus", defaultCorpus, "--out", out)
            #expect(negative.status == 65 && negative.stderr.contains("\(hostile): token \"e\" has the negative id -7"), "\(negative.stderr)")
            // A layer-norm epsilon of 0 (all-NaN activations, exit 0, before).
            let configPath = model + "/config.json"
            var config = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: configPath))) as! [String: Any]
            config["layer_norm_eps"] = 0
            try JSONSerialization.data(withJSONObject: config).write(to: URL(fileURLWithPath: configPath))
            let epsilon = try SondeRun("extract", "--model", model, "--corpus", defaultCorpus, "--out", out)
            #expect(epsilon.status == 65 && epsilon.stderr.contains("\(configPath): layer_norm_eps"), "\(epsilon.stderr)")
            #expect(try leftovers(folder) == ["hostile-tokenizer.json"])
        }
    }
}
