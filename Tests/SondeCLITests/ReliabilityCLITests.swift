import Foundation
import Testing

/// The README's flow in an empty folder, a cache that checks itself, results that do not depend
/// on where the study's folder is, formats named by their extension, degenerate inputs refused.
@Suite struct ReliabilityCLITests {
    /// `sonde demo --print-experiment` with its [corpus] kept as printed (the embedded treebank)
    /// and a model small enough for a test.
    static func smallDemo() throws -> String {
        let printed = try SondeRun("demo", "--print-experiment").stdout
        let head = printed.components(separatedBy: "[lstm]")[0]
        return head + """
            limit = 120
            [lstm]
            hidden = 10
            layers = 1
            steps = 40
            checkpoints = [0, 40]
            batch_size = 8
            tagger = "none"
            [probe]
            properties = ["upos"]
            lambda = 0.05
            seeds = [1]
            k = 3
            [analyses]
            ablation = [0.5]
            minimal_delta = 0

            """
    }

    func read(_ path: String) throws -> Data { try Data(contentsOf: URL(fileURLWithPath: path)) }

    @Test func theREADMEFlowRunsInAnEmptyFolder() throws {
        try withTemporaryFolder { folder in
            let printed = try SondeRun("demo", "--print-experiment")
            #expect(printed.status == 0 && printed.stdout.contains("sonde:default"))
            let file = folder + "/study.toml"
            try Self.smallDemo().write(toFile: file, atomically: true, encoding: .utf8)
            let check = try SondeRun("run", file, "--check")
            #expect(check.status == 0, "\(check.stderr)")
            #expect(check.stdout.contains("corpus sonde:default: the embedded treebank"), "\(check.stdout)")
            let run = try SondeRun("run", file)
            #expect(run.status == 0, "\(run.stderr)")
            #expect(FileManager.default.fileExists(atPath: folder + "/corpus/default.conllu"))
            #expect(FileManager.default.fileExists(atPath: folder + "/results.json"))
        }
    }

    @Test func checkReadsEveryInputAndNamesTheFirstProblem() throws {
        try withTemporaryFolder { folder in
            let file = folder + "/study.toml"
            try "1\tThe\tthe\tDET\n".write(toFile: folder + "/bad.conllu", atomically: true, encoding: .utf8)
            try Self.smallDemo().replacingOccurrences(of: "\"sonde:default\"", with: "\"bad.conllu\"").write(
                toFile: file, atomically: true, encoding: .utf8)
            let check = try SondeRun("run", file, "--check")
            #expect(check.status == 65 && check.stderr.contains("bad.conllu:1:"), "\(check.stderr)")
            try FileManager.default.removeItem(atPath: folder + "/bad.conllu")
            let missing = try SondeRun("run", file, "--check")
            #expect(missing.status == 66 && missing.stderr.contains("bad.conllu"), "\(missing.stderr)")
        }
    }

    /// The same study in two folders at different depths gives the same bytes; a folder copied
    /// elsewhere reruns from its cache.
    @Test func resultsDoNotDependOnWhereTheStudyIs() throws {
        try withTemporaryFolder { folder in
            let (a, b) = (folder + "/a", folder + "/b/deeper/still")
            for f in [a, b] {
                try FileManager.default.createDirectory(atPath: f, withIntermediateDirectories: true)
                try Self.smallDemo().write(toFile: f + "/study.toml", atomically: true, encoding: .utf8)
                let run = try SondeRun("run", f + "/study.toml")
                #expect(run.status == 0, "\(run.stderr)")
            }
            let results = try read(a + "/results.json")
            #expect(try results == read(b + "/results.json"))
            #expect(try read(a + "/report.html") == read(b + "/report.html"))
            #expect(!String(decoding: results, as: UTF8.self).contains(folder), "results.json holds an absolute path")

            let moved = folder + "/moved"
            try FileManager.default.copyItem(atPath: a, toPath: moved)
            let rerun = try SondeRun("run", moved + "/study.toml")
            #expect(rerun.status == 0 && rerun.stdout.contains("nothing recomputed"), "\(rerun.stdout)\(rerun.stderr)")
            #expect(try read(moved + "/results.json") == results)
        }
    }

    /// A flipped byte in a cached activation file and a truncated cell output are found by
    /// --verify and recomputed by the next run, with a warning; the results are unchanged.
    @Test func theCacheChecksItself() throws {
        try withTemporaryFolder { folder in
            let file = folder + "/study.toml"
            try Self.smallDemo().write(toFile: file, atomically: true, encoding: .utf8)
            #expect(try SondeRun("run", file).status == 0)
            let results = try read(folder + "/results.json")
            let clean = try SondeRun("run", file, "--verify")
            #expect(clean.status == 0 && clean.stdout.contains("0 damaged"), "\(clean.stdout)")

            let cache = folder + "/cache"
            let names = try FileManager.default.contentsOfDirectory(atPath: cache)
            let activations = cache + "/" + names.first { $0.hasPrefix("activations-") && $0.hasSuffix(".safetensors") }!
            var bytes = try read(activations)
            bytes[bytes.count - 5] ^= 0x01
            try bytes.write(to: URL(fileURLWithPath: activations))
            let probe = cache + "/" + names.first { $0.hasPrefix("probe-") && $0.hasSuffix(".json") }!
            let text = try read(probe)
            try text.prefix(text.count / 2).write(to: URL(fileURLWithPath: probe))

            let verify = try SondeRun("run", file, "--verify", "--json")
            #expect(verify.status == 65)
            let report = try JSONSerialization.jsonObject(with: Data(verify.stdout.utf8)) as! [String: Any]
            let damaged = (report["damaged"] as! [[String: String]]).map { $0["problem"]! }.sorted()
            #expect(damaged.count == 2 && damaged.contains("checksum mismatch") && damaged.contains { $0.hasPrefix("truncated") }, "\(damaged)")

            // A shard does not rewrite a damaged dependency (other shards of its level may be
            // reading it): it stops and says which level to recompute. (Every activation file
            // damaged now, so the probe recomputed at level 2 reads one.)
            for name in names where name.hasPrefix("activations-") && name.hasSuffix(".safetensors") {
                var data = try read(cache + "/" + name)
                data[data.count - 9] ^= 0x10
                try data.write(to: URL(fileURLWithPath: cache + "/" + name))
            }
            let shard = try SondeRun("run", file, "--shard", "0/1", "--level", "2")
            #expect(shard.status == 65 && shard.stderr.contains("checksum mismatch") && shard.stderr.contains("level 1"), "\(shard.stderr)")
            // Its own truncated probe output, a cell of its level, it did recompute (and stopped at its dependency).
            #expect(shard.stderr.contains("truncated"), "\(shard.stderr)")

            let rerun = try SondeRun("run", file)
            #expect(rerun.status == 0, "\(rerun.stderr)")
            #expect(rerun.stderr.contains("checksum mismatch, recomputing"), "\(rerun.stderr)")
            #expect(try read(folder + "/results.json") == results)
            #expect(try SondeRun("run", file, "--verify").status == 0)
        }
    }

    @Test func anExtensionNamesTheFormat() throws {
        try withTemporaryFolder { folder in
            let path = folder + "/four-columns.conllu"
            try "1\tThe\tthe\tDET\n2\tdog\tdog\tNOUN\n".write(toFile: path, atomically: true, encoding: .utf8)
            let stats = try SondeRun("corpus", "stats", path)
            #expect(stats.status == 65 && stats.stderr.contains("four-columns.conllu:1:"), "\(stats.stderr)")
            let asText = try SondeRun("corpus", "stats", path, "--format", "text")
            #expect(asText.status == 0, "\(asText.stderr)")
        }
    }

    @Test func degenerateActivationsAreRefusedBeforeAnyWork() throws {
        try withTemporaryFolder { folder in
            try writeNPY(folder + "/x.npy", rows: 240, columns: 0) { _, _ in 0 }
            try writeNPY(folder + "/empty.npy", rows: 0, columns: 8) { _, _ in 0 }
            try (0..<240).map { $0 % 2 == 0 ? "a" : "b" }.joined(separator: "\n").write(
                toFile: folder + "/y.txt", atomically: true, encoding: .utf8)
            let noColumns = try SondeRun("probe", "--train", folder + "/x.npy", "--train-labels", folder + "/y.txt", "--lambda", "1e-3")
            #expect(noColumns.status == 65 && noColumns.stderr.contains("no columns"), "\(noColumns.stderr)")
            #expect(!noColumns.stdout.contains("nan"))
            let noRows = try SondeRun("probe", "--train", folder + "/empty.npy", "--train-labels", folder + "/y.txt")
            #expect(noRows.status == 65 && noRows.stderr.contains("no rows"), "\(noRows.stderr)")
            // 240 × 8 Float activations need about 16 kB: under a limit of 4 kB the probe is
            // refused before it starts, with the estimate and the variable that raises it.
            try writeNPY(folder + "/small.npy", rows: 240, columns: 8) { i, j in Float((i * 7 + j * 3) % 11) }
            let memory = try SondeRun(
                ["probe", "--train", folder + "/small.npy", "--train-labels", folder + "/y.txt"], environment: ["SONDE_MAX_MEMORY": "4096"])
            #expect(memory.status == 71 && memory.stderr.contains("SONDE_MAX_MEMORY") && memory.stderr.contains("240 × 8"), "\(memory.stderr)")
            let tensors = fixtures + "/mixed.safetensors"
            let layer = try SondeRun("probe", "--train", tensors, "--layer", "layer99", "--train-labels", folder + "/y.txt")
            #expect(layer.status == 64 && layer.stderr.contains("no tensor 'layer99'"), "\(layer.stderr)")
        }
    }
}
