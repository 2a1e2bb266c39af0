import Foundation
import Testing

/// A study run as shards — processes running concurrently, level by level, in any order —
/// merges to the same bytes as one unsharded run; a shard killed in the middle of training
/// leaves no half-written file and its rerun completes the study.
@Suite struct ShardCLITests {
    /// Tests/Slurm/study.toml with the embedded treebank's path filled in.
    static let experiment: String = {
        let text = try! String(contentsOfFile: repositoryRoot + "/Tests/Slurm/study.toml", encoding: .utf8)
        return text.replacingOccurrences(of: "@CORPUS@", with: repositoryRoot + "/corpora/default.conllu")
    }()

    /// Starts `sonde` without waiting.
    func start(_ arguments: [String]) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: SondeRun.executable)
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        return process
    }

    func files(_ folder: String) -> [String] {
        (FileManager.default.enumerator(atPath: folder)?.allObjects as? [String] ?? []).sorted()
    }

    @Test func shardsMergeToTheBytesOfOneRun() throws {
        try withTemporaryFolder { folder in
            let file = folder + "/study.toml"
            try Self.experiment.write(toFile: file, atomically: true, encoding: .utf8)
            let whole = try SondeRun("run", file, "--json")
            #expect(whole.status == 0, "\(whole.stderr)")
            let results = try Data(contentsOf: URL(fileURLWithPath: folder + "/out/results.json"))
            let report = try Data(contentsOf: URL(fileURLWithPath: folder + "/out/report.html"))
            try FileManager.default.removeItem(atPath: folder + "/out")

            let plan = try SondeRun("run", file, "--plan", "--shards", "3", "--json")
            #expect(plan.status == 0, "\(plan.stderr)")
            let object = try JSONSerialization.jsonObject(with: Data(plan.stdout.utf8)) as! [String: Any]
            let (levels, cells) = (object["levels"] as! Int, object["cells"] as! [[String: Any]])
            #expect(levels == 4 && cells.count == 14 && object["incompleteShards"] as? [Int] == [0, 1, 2])
            let dry = try SondeRun("run", file, "--dry-run")
            #expect(dry.stdout.contains("\(cells.count) to run"))

            // A shard killed while it trains leaves complete files only; the study completes.
            let lm = cells.first { $0["id"] as? String == "train lm" }!
            let lmFolder = folder + "/out/cache/" + (lm["output"] as! String)
            let killed = try start(["run", file, "--shard", "\(lm["shard"] as! Int)/3", "--level", "0"])
            let deadline = Date().addingTimeInterval(120)
            while killed.isRunning && Date() < deadline && !FileManager.default.fileExists(atPath: lmFolder + "/step-0/trainer_state.json") {
                usleep(5_000)
            }
            kill(killed.processIdentifier, SIGTERM)
            killed.waitUntilExit()
            #expect(killed.terminationReason == .uncaughtSignal, "the shard finished before it was killed")
            #expect(files(folder + "/out").allSatisfy { !$0.contains(".tmp") }, "\(files(folder + "/out"))")
            #expect(!FileManager.default.fileExists(atPath: folder + "/out/results.json"))

            // Level by level, the three shards concurrently, started in another order each time.
            for level in 0..<levels {
                let processes = try [2, 0, 1].map { try start(["run", file, "--shard", "\($0)/3", "--level", "\(level)"]) }
                for p in processes {
                    p.waitUntilExit()
                    #expect(p.terminationStatus == 0, "level \(level)")
                }
            }
            let early = try SondeRun("run", file, "--plan", "--shards", "3")
            #expect(early.stdout.contains(", 0 to run") && !early.stdout.contains("shards not complete"), "\(early.stdout)")
            let merge = try SondeRun("run", file, "--merge")
            #expect(merge.status == 0, "\(merge.stderr)")
            #expect(try Data(contentsOf: URL(fileURLWithPath: folder + "/out/results.json")) == results)
            #expect(try Data(contentsOf: URL(fileURLWithPath: folder + "/out/report.html")) == report)
        }
    }

    @Test func aMergeSaysWhatIsMissingAndAShardItsDependency() throws {
        try withTemporaryFolder { folder in
            let file = folder + "/study.toml"
            try Self.experiment.write(toFile: file, atomically: true, encoding: .utf8)
            let merge = try SondeRun("run", file, "--merge")
            #expect(merge.status != 0 && merge.stderr.contains("cells are not in") && merge.stderr.contains("train lm"))
            let early = try SondeRun("run", file, "--shard", "0/2", "--level", "1")
            #expect(early.status != 0 && early.stderr.contains("run the shards of level 0 first"), "\(early.stderr)")
            let usage = try SondeRun("run", file, "--level", "1")
            #expect(usage.status == 64)
        }
    }
}
