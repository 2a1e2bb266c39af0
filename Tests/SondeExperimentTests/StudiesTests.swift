import Foundation
import Testing

@testable import SondeExperiment

let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
let sharedFolder = URL(fileURLWithPath: repositoryRoot).deletingLastPathComponent().path + "/shared"
let sharedAvailable = FileManager.default.fileExists(atPath: sharedFolder + "/zoo/README.md")

/// The studies in studies/ read and plan on ../shared as shipped, and one runs shortened (30
/// sentences, three checkpoints, a sparser probe that debug builds fit in seconds) to its claims' verdicts.
@Suite(.enabled(if: sharedAvailable, "../shared is absent beside the repository: the studies are not checked"))
struct StudiesTests {
    var studies: [String] {
        (try? FileManager.default.contentsOfDirectory(atPath: repositoryRoot + "/studies"))?.filter { $0.hasSuffix(".toml") }.sorted() ?? []
    }

    @Test func everyStudyPlans() throws {
        #expect(studies.count >= 5)
        for name in studies {
            let experiment = try Experiment.read(repositoryRoot + "/studies/" + name)
            let plan = try ExperimentRunner(experiment).plan()
            #expect(!plan.cells.isEmpty && experiment.claims?.isEmpty == false, "\(name)")
        }
    }

    /// The thesis study names the Saphra & Lopez study's cache: the language model, taggers and
    /// dynamics are the same cells there, so it trains nothing of its own.
    @Test func theThesisStudySharesTheLanguageModel() throws {
        let plans = try ["saphra-lopez-2019", "saphra-thesis"].map { name in
            try ExperimentRunner(try Experiment.read(repositoryRoot + "/studies/\(name).toml")).plan().cells
        }
        let keys = plans.map { Dictionary(uniqueKeysWithValues: $0.map { ($0.id.description, $0.key) }) }
        let thesisExperiment = try Experiment.read(repositoryRoot + "/studies/saphra-thesis.toml")
        #expect(thesisExperiment.cacheFolder == repositoryRoot + "/studies/out/saphra-lopez-2019/cache")
        for cell in plans[1] { #expect(keys[0][cell.id.description] == cell.key, "\(cell.id)") }
    }

    @Test func aShortenedStudyRunsToItsVerdicts() throws {
        let folder = NSTemporaryDirectory() + "sonde-study-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: folder) }
        var experiment = try Experiment.read(repositoryRoot + "/studies/raghu-convergence-gpt.toml")
        (experiment.output, experiment.limit, experiment.seeds, experiment.lambda) = (folder, 30, [1], 0.05)
        (experiment.ablation, experiment.minimalDelta) = ([1.0], nil)
        experiment.models!.checkpoints = [0, 4, 5].map { experiment.models!.checkpoints[$0] }
        let results = try ExperimentRunner(experiment).run()
        // Four claims, each under the four measures.
        #expect(results.claims?.count == 16 && results.claims?.allSatisfy { $0.measured.count == 2 } == true)
    }
}
