import Foundation
import SondeCorpus
import SondeModels
import SondeStudy
import Testing

@testable import SondeExperiment

/// `[taskspace]` in an experiment: task spaces of the LSTM's checkpoints and of another size,
/// the same numbers as `TaskSpace.run` on those checkpoints, cached like every cell, and the
/// claims that read them.
struct TaskSpaceStudyTests {
    let folder = temporaryFolder("sonde-taskspace-study")

    /// A one-layer LSTM on 80 generated sentences with the embedded grammar's pairs of four
    /// tasks in two groups, and `more` after its [taskspace] table.
    func study(_ more: String = "") throws -> String {
        let tasks = try PairGenerator.grammar(tasks: ["sv-adjacent", "sv-pronoun", "det-noun-adjacent", "det-noun-adjective"], count: 8, seed: 1)
        try MinimalPairs.writeTSV(tasks, to: folder + "/pairs.tsv")
        return try tinyStudy(
            in: folder, seed: 5, sentences: 80, steps: 6, checkpoints: [0, 3, 6], lstm: "tagger = \"none\"",
            more: "[analyses]\nablation = [1.0]\nminimal_delta = 0\n[taskspace]\npairs = \"pairs.tsv\"\nlimit = 6\nsizes = [4]\nseeds = 2\n\(more)")
    }

    @Test func spacesOverTrainingAndSizesAreTaskSpaceRunsOnThoseCheckpoints() throws {
        let claims = """
            [[claims]]
            claim = "sharing rises"
            kind = "rises"
            quantities = ["taskspace-sharing"]
            [[claims]]
            claim = "the larger model follows the groups"
            kind = "higher-than"
            quantities = ["taskspace-grouping overlap hidden 8", "taskspace-grouping overlap hidden 4"]
            [[claims]]
            claim = "stable"
            kind = "higher-than"
            quantities = ["taskspace-stability gradient at step-3", "value 0.5"]
            """
        try (try study() + claims).write(toFile: folder + "/t.toml", atomically: true, encoding: .utf8)
        let runner = ExperimentRunner(try Experiment.read(folder + "/t.toml"))
        let plan = try runner.plan()
        #expect(
            plan.cells.filter { $0.kind == .taskSpace }.map(\.id.description) == [
                "taskspace step-0", "taskspace step-3", "taskspace step-6", "taskspace hidden-4",
            ])
        #expect(plan.cells.contains { $0.id == .train(.size(4)) && $0.output.hasPrefix("lm-hidden-4-") })
        for cell in plan.cells { #expect(CellID(cell.id.description) == cell.id, "\(cell.id)") }
        let results = try runner.run()
        let t = try #require(results.taskSpaces)
        #expect(t.checkpoints == ["step-0", "step-3", "step-6"] && t.spaces.count == 3 && t.sizes.map(\.hidden) == [4])
        #expect(t.sizes[0].training.step == 6 && results.experiment.taskSpace?.pairs == "pairs.tsv")

        // The cell is TaskSpace.run on the checkpoint's folder with the file's settings.
        let e = runner.experiment
        let tasks = try e.taskSpace!.chosenTasks()
        #expect(tasks.count == 4 && tasks.allSatisfy { $0.pairs.count == 6 })
        let lmFolder = try #require(
            try FileManager.default.contentsOfDirectory(atPath: e.cacheFolder).first {
                $0.hasPrefix("lm-") && !$0.hasPrefix("lm-hidden") && !$0.hasSuffix(".checksum")
            })
        let direct = try TaskSpace.run(
            model: try LSTMModel(folder: e.cacheFolder + "/" + lmFolder + "/step-3"), tasks: tasks, settings: e.taskSpace!.study)
        let margins = try #require(t.spaces[1].transfer?.margin), expected = try #require(direct.transfer?.margin)
        #expect(zip(margins.joined(), expected.joined()).allSatisfy { abs($0 - $1) <= 1e-9 })
        #expect(abs(t.spaces[1].gradient!.parameterSharing - direct.gradient!.parameterSharing) <= 1e-12)
        // Stability: Pearson of each checkpoint's transfer space with the last's, by hand.
        func pearson(_ a: [[Double]], _ b: [[Double]]) -> Double {
            let cells = (0..<4).flatMap { i in (0..<4).filter { $0 != i }.map { (a[i][$0], b[i][$0]) } }
            let (ma, mb) = (cells.map(\.0).reduce(0, +) / 12, cells.map(\.1).reduce(0, +) / 12)
            let cov = cells.map { ($0.0 - ma) * ($0.1 - mb) }.reduce(0, +)
            return cov / (cells.map { ($0.0 - ma) * ($0.0 - ma) }.reduce(0, +) * cells.map { ($0.1 - mb) * ($0.1 - mb) }.reduce(0, +)).squareRoot()
        }
        let last = t.spaces[2].transfer!.margin
        let toLast = try #require(t.stability["transferMargin"]).toLast
        for i in 0..<3 { #expect(abs(toLast[i] - pearson(t.spaces[i].transfer!.margin, last)) < 1e-9) }

        // The claims read those numbers.
        let verdicts = try #require(results.claims)
        #expect(verdicts[0].measured == [t.spaces[0].gradient!.parameterSharing, t.spaces[2].gradient!.parameterSharing])
        #expect(verdicts[1].measured == [t.spaces[2].agreement["maskOverlap"]!.pearson, t.sizes[0].space.agreement["maskOverlap"]!.pearson])
        #expect(verdicts[2].measured == [t.stability["gradientCosine"]!.toLast[1], 0.5])
        #expect(ExperimentReport.html(results).contains("<h2>Task spaces</h2>"))

        #expect(results.inputHashes["pairs.tsv"] != nil)

        // Fewer checkpoints' spaces: each cell is found in the cache (the steps are not in its
        // key), and an `earlier` claim between a task-space series (steps 3, 6) and an LSTM
        // series (steps 0, 3, 6) compares steps, not positions.
        let earlier = "[[claims]]\nclaim = \"e\"\nkind = \"earlier\"\nquantities = [\"taskspace-grouping overlap\", \"accuracy upos layer1\"]\n"
        try (try study("steps = [3, 6]") + earlier).write(toFile: folder + "/s.toml", atomically: true, encoding: .utf8)
        let fewer = ExperimentRunner(try Experiment.read(folder + "/s.toml"))
        let subset = try fewer.run()
        #expect(fewer.computed.isEmpty, "\(fewer.computed)")
        let mixed = try #require(subset.claims?.first)
        #expect(mixed.measured.allSatisfy { $0 == nil || [0, 3, 6].contains($0!) } && mixed.measured.count == 2, "\(mixed)")
        #expect(mixed.measured[0] != 0)

        // A rerun computes nothing; another tuning setting recomputes the spaces only.
        let again = ExperimentRunner(try Experiment.read(folder + "/t.toml"))
        _ = try again.run()
        #expect(again.computed.isEmpty, "\(again.computed)")
        try (try study("mask = 0.05") + claims).write(toFile: folder + "/t.toml", atomically: true, encoding: .utf8)
        let changed = ExperimentRunner(try Experiment.read(folder + "/t.toml"))
        _ = try changed.run()
        #expect(Set(changed.computed.map(\.kind)) == [.taskSpace] && changed.computed.count == 4, "\(changed.computed)")
    }

    @Test func theFileIsCheckedWhenRead() throws {
        let base = try study()
        func expectError(_ text: String, _ message: String) {
            #expect { _ = try Experiment.parse(text, path: "x.toml", folder: folder) } throws: { "\($0)".contains(message) }
        }
        expectError(base.replacingOccurrences(of: "pairs = \"pairs.tsv\"\n", with: ""), "x.toml:17: taskspace.pairs: missing")
        expectError(base + "steps = [5]\n", "taskspace.steps: no checkpoint at step 5; the language model's are 0, 3, 6")
        expectError(
            base.replacingOccurrences(of: "sizes = [4]", with: "sizes = [8]"),
            "taskspace.sizes: 8: expected hidden sizes in 1…4096 other than [lstm] hidden (8)")
        expectError(base + "tasks = [\"sv-adjacent\"]\n", "taskspace.tasks: a task space needs at least two tasks")
        expectError(base + "colour = 1\n", "taskspace.colour: unknown key")
        expectError(base.replacingOccurrences(of: "pairs = \"pairs.tsv\"", with: "pairs = 3"), "x.toml:18: taskspace.pairs: expected a path")
        expectError(base + claim("higher-than", "\"taskspace-stability transfer\", \"value 0.5\""), "is 1 at the last checkpoint")
        let models =
            "output = \"o\"\n[corpus]\npaths = [\"c.conllu\"]\n[models]\ncheckpoints = [\"a\", \"b\"]\n[taskspace]\npairs = \"pairs.tsv\"\nsteps = [7]\n"
        expectError(models, "task spaces tune the native LSTM")
        // An unknown task is found when the plan reads the pairs.
        try (base + "tasks = [\"sv-adjacent\", \"nonsense\"]\n").write(toFile: folder + "/u.toml", atomically: true, encoding: .utf8)
        #expect { _ = try ExperimentRunner(try Experiment.read(folder + "/u.toml")).plan() } throws: { "\($0)".contains("no task 'nonsense'") }

        func claim(_ kind: String, _ quantities: String) -> String {
            "[[claims]]\nclaim = \"c\"\nkind = \"\(kind)\"\nquantities = [\(quantities)]\n"
        }
        expectError(base + claim("rises", "\"taskspace-sharing hidden 8\""), "'rises' compares series")
        expectError(base + claim("higher-than", "\"taskspace-sharing hidden 5\", \"value 0\""), "no model of hidden size 5")
        expectError(
            base + claim("higher-than", "\"taskspace-grouping colour\", \"value 0\""),
            "expected 'taskspace-grouping transfer|normalised|gradient|overlap [hidden N]'")
        expectError(base + claim("higher-than", "\"taskspace-stability transfer at step-4\", \"value 0\""), "no task space at 'step-4'")
        expectError(
            base + "steps = [0, 3]\n" + claim("higher-than", "\"taskspace-sharing hidden 8\", \"value 0\""), "which [taskspace] steps leave out")
        let plain = "output = \"o\"\n[corpus]\npaths = [\"c.conllu\"]\n"
        expectError(plain + claim("rises", "\"taskspace-sharing\""), "'taskspace-sharing' needs task spaces ([taskspace] pairs = …)")
    }
}
