import Foundation
import SondeModels
import SondeStudy
import Testing

@testable import SondeExperiment

/// Checkpoint series as the hub lays them out on disk (refs/ → snapshots/<commit>/) and as
/// folders of stepN revisions, listed by step and named by revision in a study.
struct CheckpointSeriesTests {
    private func withFolder(_ body: (String) throws -> Void) throws {
        let folder = NSTemporaryDirectory() + "sonde-series-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try body(folder)
    }

    private func write(_ text: String, _ path: String) throws {
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try text.write(toFile: path, atomically: true, encoding: .utf8)
    }

    @Test func hubCacheByStep() throws {
        try withFolder { root in
            // OLMo-2's and Pythia's revision names; `main` has no step and is left out.
            for (name, commit) in [("stage1-step140000-tokens587B", "ab12"), ("step1000", "cd34"), ("step20", "ef56"), ("main", "ab12")] {
                try write(commit + "\n", root + "/refs/" + name)
                try write("{}", root + "/snapshots/\(commit)/config.json")
            }
            let revisions = try CheckpointSeries.list(root)
            #expect(revisions.map(\.step) == [20, 1000, 140_000])
            #expect(revisions.map(\.name) == ["step20", "step1000", "stage1-step140000-tokens587B"])
            #expect(revisions[0].folder == root + "/snapshots/ef56")
            let e = try Experiment.parse(
                "output = \"out\"\n[corpus]\npaths = [\"c.conllu\"]\n[models]\nseries = \"\(root)\"\nsteps = [20, 140000]\n", path: "x.toml",
                folder: "/d")
            #expect(e.models?.checkpoints == [root + "/snapshots/ef56", root + "/snapshots/ab12"])
            #expect(e.models?.names == ["step20", "stage1-step140000-tokens587B"])
            #expect(throws: StudyError.self) {
                try Experiment.parse(
                    "output = \"o\"\n[corpus]\npaths = [\"c\"]\n[models]\nseries = \"\(root)\"\nsteps = [7]\n", path: "x.toml", folder: "/d")
            }
            // A ref that is not a commit, or names a revision not downloaded, is refused with its file.
            try write("../../etc\n", root + "/refs/step5")
            #expect { try CheckpointSeries.list(root) } throws: { "\($0)".contains("refs/step5:1: expected a commit hash") }
            try FileManager.default.removeItem(atPath: root + "/refs/step5")
            try FileManager.default.createDirectory(atPath: root + "/refs/step5", withIntermediateDirectories: true)
            #expect { try CheckpointSeries.list(root) } throws: { "\($0)".contains("refs/step5") }
            try FileManager.default.removeItem(atPath: root + "/refs/step5")
            try write("9999\n", root + "/refs/step5")
            #expect { try CheckpointSeries.list(root) } throws: { "\($0)".contains("snapshots/9999/config.json does not exist") }
        }
    }

    @Test func foldersOfSteps() throws {
        try withFolder { root in
            for name in ["step300", "step3", "step30", "notes"] { try write("{}", root + "/\(name)/config.json") }
            #expect(try CheckpointSeries.list(root).map(\.name) == ["step3", "step30", "step300"])
            try write("{}", root + "/run-b-step30/config.json")
            #expect { try CheckpointSeries.list(root) } throws: { "\($0)".contains("are both step 30") }
        }
        #expect { try CheckpointSeries.list("/nonexistent/series") } throws: { ($0 as? ModelError)?.kind == .missing }
    }
}
