import Foundation
import Testing

/// `sonde slurm`: the job scripts it writes, and a study through a real single-node Slurm.
@Suite struct SlurmCLITests {
    @Test func jobScriptsChainTheLevelsAndResubmitShards() throws {
        try withTemporaryFolder { folder in
            let file = folder + "/study.toml"
            try ShardCLITests.experiment.write(toFile: file, atomically: true, encoding: .utf8)
            let written = try SondeRun("slurm", file, "--out", folder + "/jobs", "--array", "3", "--partition", "cpu", "--mem", "4G", "--json")
            #expect(written.status == 0, "\(written.stderr)")
            let report = try JSONSerialization.jsonObject(with: Data(written.stdout.utf8)) as! [String: Any]
            let levels = report["levels"] as! [[String: Any]]
            #expect(levels.map { $0["level"] as! Int } == [0, 1, 2, 3] && levels.allSatisfy { ($0["shards"] as! [Int]).count <= 3 })
            let submit = try String(contentsOfFile: folder + "/jobs/submit.sh", encoding: .utf8)
            #expect(submit.components(separatedBy: "--dependency=afterok:$previous").count - 1 == 5)  // four arrays and the merge
            let level1 = try String(contentsOfFile: folder + "/jobs/level-1.sbatch", encoding: .utf8)
            #expect(level1.contains("#SBATCH --partition=cpu") && level1.contains("#SBATCH --mem=4G"))
            #expect(level1.contains("--shard \"$SLURM_ARRAY_TASK_ID/3\" --level 1") && level1.contains("'\(file)'"))
            // Resubmitting shard 2 alone: arrays of shard 2 only, levels without it left out.
            _ = try SondeRun("slurm", file, "--out", folder + "/again", "--array", "3", "--only", "2")
            let again = try String(contentsOfFile: folder + "/again/submit.sh", encoding: .utf8)
            #expect(again.contains("--array=2 ") && !again.contains("--array=0"))
            #expect(try SondeRun("slurm", file, "--out", folder + "/x", "--array", "3", "--only", "5").status == 64)
        }
    }

    static let slurmReady: Bool =
        getuid() == 0
        && ["/usr/sbin/slurmctld", "/usr/sbin/slurmd", "/usr/bin/sbatch", "/usr/sbin/munged"].allSatisfy(FileManager.default.fileExists)

    /// Tests/Slurm/cluster-test.sh: daemons started and stopped by the script, 3 shards per
    /// level submitted with `sonde slurm --submit`, merged bytes equal to an unsharded run's.
    @Test(
        .enabled(
            if: slurmReady, "needs root and Debian's slurmctld, slurmd, slurm-client and munge (CI installs them); run Tests/Slurm/cluster-test.sh"))
    func aStudyThroughARealSlurmCluster() throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = [repositoryRoot + "/Tests/Slurm/cluster-test.sh", SondeRun.executable]
        let out = Pipe()
        process.standardOutput = out
        process.standardError = out
        try process.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        if process.terminationStatus == 77 {
            print("skipped: \(text)")
            return
        }
        #expect(process.terminationStatus == 0 && text.contains("OK: 5 jobs"), "\(text)")
    }
}
