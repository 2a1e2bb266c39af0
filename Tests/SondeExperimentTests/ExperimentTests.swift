import Foundation
import SondeBase
import SondeCorpus
import SondeModels
import SondeStudy
import Testing

@testable import SondeExperiment

/// Experiment files (errors with their line) and the runner's cache on a tiny study of the
/// embedded treebank's generator.
struct ExperimentTests {
    let folder = temporaryFolder("sonde-experiment")

    func expectError(_ text: String, _ message: String) {
        #expect { _ = try Experiment.parse(text, path: "x.toml", folder: ".") } throws: { "\($0)".contains(message) }
    }

    @Test func errorsNameTheLine() {
        let good = "output = \"out\"\n[corpus]\npaths = [\"c.conllu\"]\n"
        #expect((try? Experiment.parse(good, path: "x.toml", folder: "/data/./e"))?.corpus == ["/data/e/c.conllu"])
        expectError(good + "[lstm]\nhiden = 3\n", "x.toml:5: lstm.hiden: unknown key; [lstm] has batch_size")
        expectError(good + "[probe]\nlambda = \"small\"\n", "x.toml:5: probe.lambda: expected a positive number")
        expectError(good + "[probe]\nproperties = [\"upos\", \"nonsense\"]\n", "x.toml:5: probe.properties: unknown property 'nonsense'")
        expectError(good + "[lstm]\nsteps = 0\n", "x.toml:5: lstm.steps: expected an integer in 1…")
        expectError(good + "[lstm]\nsteps = 400\ncheckpoints = [500]\n", "x.toml:6: lstm.checkpoints: no checkpoint within 0…400")
        expectError("[corpus]\npaths = [\"c.conllu\"]\n", "x.toml:1: output: missing")
        expectError(good + "[probe\n", "x.toml:4:")
        expectError(good + "[analyses]\nsparsity = [0, 2]\n", "x.toml:5: analyses.sparsity: expected whole numbers ≥ 1")
        expectError(good + "[analyses]\nsparsity = [1]\nrankers = [\"vibes\"]\n", "x.toml:6: analyses.rankers: unknown ranker 'vibes'")
        expectError(good + "[analyses]\nrankers = [\"lca\"]\n", "x.toml:5: analyses.rankers: rankers go with sparsity")
        expectError(good + "[analyses]\nerasure = 1\n", "x.toml:5: analyses.erasure: expected true or false")
        expectError("color = 3\n" + good, "x.toml:1: color: unknown key")
        expectError(good + "color = 3\n", "x.toml:4: corpus.color: unknown key; [corpus] has limit, paths")
        // Existing checkpoints instead of training: not both; the series is required.
        let models = good + "[models]\ncheckpoints = [\"a\", \"b\"]\ntokenizer = \"t.json\"\n"
        let parsed = try? Experiment.parse(models, path: "x.toml", folder: "/d")
        #expect(parsed?.models?.checkpoints == ["/d/a", "/d/b"] && parsed?.models?.tokenizer == "/d/t.json" && parsed?.tagger == nil)
        expectError(models + "[lstm]\nhidden = 8\n", "x.toml:5: models.checkpoints: give [lstm] (train a native LSTM) or [models]")
        expectError(good + "[models]\nreference = \"r\"\n", "x.toml:4: models.checkpoints: missing")
        // A name twice would be two cells with one id.
        expectError(good + "[models]\ncheckpoints = [\"a\", \"a\"]\n", "x.toml:5: models.checkpoints: 'a' is listed twice")
        expectError(good + "[probe]\nproperties = [\"upos\", \"upos\"]\n", "x.toml:5: probe.properties: 'upos' is listed twice")
        // An absent file is missing input (exit 66), not a malformed one.
        #expect { _ = try Experiment.read("/nonexistent/e.toml") } throws: { ($0 as? StudyError)?.category == .missingInput }
        // No references: no key in results.json's experiment (the file reads as before).
        let plain = try! JSONEncoder().encode(try! Experiment.parse(good, path: "x.toml", folder: "/d"))
        #expect(!String(decoding: plain, as: UTF8.self).contains("references"))
        expectError(good + "[lstm]\nreferences = [\"upos\"]\n", "x.toml:5: lstm.references: 'upos' is listed twice (or is the tagger)")
        // Similarity measures by registered name.
        #expect(
            (try? Experiment.parse(good + "[analyses]\nmeasures = [\"cka\", \"procrustes\"]\n", path: "x.toml", folder: "/d"))?.measures == [
                "cka", "procrustes",
            ])
        expectError(
            good + "[analyses]\nmeasures = [\"cka\", \"rsa\"]\n",
            "x.toml:5: analyses.measures: unknown measure 'rsa'; measures: svcca, svcca-20, pwcca, cka")
    }

    /// A layer whose mean accuracy over seeds is within one SD of the majority baseline is said
    /// to show nothing, even when its first seed's probe was just above it.
    @Test func layersAtTheBaselineAreWarnedOf() {
        func layer(_ name: String, _ accuracy: Double, _ sd: Double, warnings: [String] = []) -> ExperimentResults.LayerProbe {
            .init(layer: name, accuracy: accuracy, accuracySD: sd, selectivity: 0, selectivitySD: 0, majority: 0.44, ranking: [], warnings: warnings)
        }
        let w = ExperimentRunner.warnings(
            "genre",
            [
                layer("layer0", 0.487, 0.008), layer("layer1", 0.4401, 0.0005),
                layer("layer2", 0.44, 0, warnings: ["dev accuracy 0.44 does not beat the majority baseline 0.44"]),
            ])
        #expect(
            w.count == 2 && w[0].hasPrefix("genre, layer1: mean dev accuracy 0.4401 ± 0.0005 is within one SD")
                && w[1].hasPrefix("genre, layer2: dev accuracy"))
    }

    /// The language model's dev perplexity says whether it was trained to convergence: diverged,
    /// past its best by more than 2%, still falling by more than 2% at the end, or neither.
    @Test func convergenceIsReadFromTheDevPerplexity() throws {
        func series(_ points: [(Int, Double)]) throws -> [LSTMCheckpoint] {
            let settings = String(decoding: try JSONEncoder().encode(LSTMTrainingSettings()), as: UTF8.self)
            return try points.map { step, p in
                let value = String(decoding: try JSONCoding.encoder().encode([p]), as: UTF8.self).dropFirst().dropLast()
                let json =
                    #"{"step":\#(step),"folder":"f","devLoss":0,"devPerplexity":\#(value),"devAccuracy":0,"tokensSeen":0,"settings":\#(settings)}"#
                return try JSONCoding.decoder().decode(LSTMCheckpoint.self, from: Data(json.utf8))
            }
        }
        let falling = ExperimentRunner.convergenceWarnings(try series([(0, 7058), (1000, 160), (1600, 152.7), (2000, 145)]))
        #expect(falling.count == 1 && falling[0].contains("still falls (152.7 at step 1600, 145.0 at step 2000)"))
        // Log-spaced: the last interval is half the run; a fall over it says nothing.
        #expect(ExperimentRunner.convergenceWarnings(try series([(0, 7058), (1000, 152.7), (2000, 140.5)])).isEmpty)
        let over = ExperimentRunner.convergenceWarnings(try series([(0, 7058), (2000, 140.5), (3000, 150.3)]))
        #expect(over.count == 1 && over[0].contains("lowest at step 2000 (140.5) and 150.3 at step 3000"))
        // Past its best and falling again: over-trained, not "more steps".
        let u = ExperimentRunner.convergenceWarnings(try series([(0, 7058), (500, 100), (1000, 130), (1200, 120)]))
        #expect(u.count == 1 && u[0].contains("overfits after step 500"))
        let never = ExperimentRunner.convergenceWarnings(try series([(0, 7058), (100, 9000)]))
        #expect(never.count == 1 && never[0].contains("never improved"))
        #expect(ExperimentRunner.convergenceWarnings(try series([(0, 7058), (2000, 140.5), (2500, 143.0)])).isEmpty)
        #expect(ExperimentRunner.convergenceWarnings(try series([(0, 7058)])).isEmpty)
        let diverged = ExperimentRunner.convergenceWarnings(try series([(0, 7058), (100, .nan), (200, 900)]))
        #expect(diverged.count == 1 && diverged[0].contains("diverged"))
    }

    /// `cache` puts the cells elsewhere than OUTPUT/cache, resolved from the file's folder.
    @Test func theCacheFolderIsASetting() throws {
        let base = "output = \"o\"\n[corpus]\npaths = [\"c.conllu\"]\n"
        #expect(try Experiment.parse(base, path: "e.toml", folder: "/s").cacheFolder == "/s/o/cache")
        #expect(try Experiment.parse("cache = \"../shared-cache\"\n" + base, path: "e.toml", folder: "/s/t").cacheFolder == "/s/shared-cache")
        expectError("cache = 3\n" + base, "x.toml:1: cache: expected a folder name")
    }

    /// Dynamics to the last checkpoint, the tagger and a further reference read one probe per
    /// checkpoint and layer, fitted once.
    @Test func dynamicsToSeveralReferencesFitEachProbeOnce() throws {
        let text = try tinyStudy(
            in: folder, output: "out-references", seed: 4, lstm: "tagger = \"upos\"\nreferences = [\"genre\"]",
            more: "[analyses]\nablation = [1.0]\nminimal_delta = 0")
        try text.write(toFile: folder + "/r.toml", atomically: true, encoding: .utf8)
        let runner = ExperimentRunner(try Experiment.read(folder + "/r.toml"))
        let results = try runner.run()
        _ = try runner.write(results)
        // The same cells through another study's file naming this one's cache: nothing computed,
        // and the output folder made for its results.
        try (text.replacingOccurrences(of: "output = \"out-references\"", with: "output = \"elsewhere\"\ncache = \"out-references/cache\""))
            .write(toFile: folder + "/shared.toml", atomically: true, encoding: .utf8)
        let sharing = ExperimentRunner(try Experiment.read(folder + "/shared.toml"))
        _ = try sharing.write(try sharing.run())
        #expect(sharing.computed.isEmpty && FileManager.default.fileExists(atPath: folder + "/elsewhere/results.json"))
        // A study of another first property through the same cache finds the language model its
        // key names, whose concentration is grouped by UPOS: said, not shown as genre's.
        try
            (text.replacingOccurrences(of: "output = \"out-references\"", with: "output = \"genre-first\"\ncache = \"out-references/cache\"")
            .replacingOccurrences(of: "properties = [\"upos\"]", with: "properties = [\"genre\"]"))
            .write(toFile: folder + "/genre.toml", atomically: true, encoding: .utf8)
        let genreFirst = try ExperimentRunner(try Experiment.read(folder + "/genre.toml")).run()
        #expect(genreFirst.warnings.contains { $0.contains("grouped by labels that are not genre's") })
        #expect(!results.warnings.contains { $0.contains("grouped by labels") })
        let p = results.properties[0]
        let series = [p.dynamics, p.dynamicsToTagger!, p.dynamicsToReferences!["genre"]!]
        #expect(runner.probeMemo.count == 2 * 2)
        for d in series.dropFirst() {
            #expect(
                d.rows.map(\.probeAccuracy) == series[0].rows.map(\.probeAccuracy) && d.rows.map(\.selectivity) == series[0].rows.map(\.selectivity))
        }
    }

    @Test func aRerunRecomputesNothingAndASettingOnlyItsStages() throws {
        var text = try tinyStudy(in: folder, output: "out", seed: 3, lstm: "tagger = \"none\"", more: "k = 3\n[analyses]\nablation = [0.5, 1.0]")
        try text.write(toFile: folder + "/e.toml", atomically: true, encoding: .utf8)
        let runner = ExperimentRunner(try Experiment.read(folder + "/e.toml"))
        let first = try runner.run()
        #expect(runner.cached.isEmpty && runner.computed.contains(.train(.lm)) && runner.computed.contains(.probe(property: "upos", layer: 1)))
        #expect(first.properties[0].layers.count == 2 && first.properties[0].dynamics.rows.count == 4)
        let again = ExperimentRunner(try Experiment.read(folder + "/e.toml"))
        _ = try again.run()
        #expect(again.computed.isEmpty, "\(again.computed)")
        text = text.replacingOccurrences(of: "k = 3", with: "k = 3\nlambda = 0.01")
        try text.write(toFile: folder + "/e.toml", atomically: true, encoding: .utf8)
        let changedRunner = ExperimentRunner(try Experiment.read(folder + "/e.toml"))
        let changed = try changedRunner.run()
        #expect(!changedRunner.computed.contains(.train(.lm)) && !changedRunner.computed.contains { $0.kind == .extract })
        #expect(changedRunner.computed.contains(.probe(property: "upos", layer: 0)) && changedRunner.computed.contains(.analysis(property: "upos")))
        // Shards: every cell in exactly one shard, for 1…7 shards; a level's dependencies lower.
        let plan = try changedRunner.plan()
        for n in 1...7 {
            let assigned = (0..<n).flatMap { plan.cells(shard: $0, of: n).map(\.id) }
            #expect(assigned.map(\.description).sorted() == plan.cells.map(\.id.description).sorted(), "\(n) shards")
        }
        for cell in plan.cells {
            #expect(cell.dependencies.allSatisfy { d in plan.cells.first { $0.id == d }!.level < cell.level })
        }
        // The report: self-contained, every chart present.
        let page = ExperimentReport.html(changed)
        #expect(page.components(separatedBy: "<svg").count - 1 >= 4 && !page.contains("http://www.w3.org/1999") == true)
        #expect(!page.contains("src=\"http") && !page.contains("href=\"http") && page.contains("<figcaption>"))
    }

    /// Every kind of cell in a planned study (a tagger, a fine-tuned copy, interactions) reads
    /// back from its string form, as `--plan` prints it and the logs name it.
    /// Found by benchmarks/fuzz.sh (experiment): a `[models]` folder that is not there came out
    /// as Foundation's uncategorised error; it is missing input that names the folder.
    @Test func aMissingModelFolderIsMissingInput() throws {
        var generator = TreebankGenerator(seed: 3)
        try ConlluWriter.write(generator.corpus(sentences: 5), to: folder + "/c.conllu")
        let text = "output = \"out\"\n[corpus]\npaths = [\"c.conllu\"]\n[models]\ncheckpoints = [\"nope\", \"nope2\"]\n"
        try text.write(toFile: folder + "/m.toml", atomically: true, encoding: .utf8)
        #expect {
            _ = try ExperimentRunner(try Experiment.read(folder + "/m.toml")).plan()
        } throws: { error in
            (error as? CategorizedError)?.category == .missingInput && "\(error)".contains(folder + "/nope")
        }
    }

    @Test func everyCellKindsIdRoundTripsThroughItsString() throws {
        let text =
            try tinyStudy(
                in: folder, seed: 3, sentences: 30, properties: ["upos", "feats.Number"],
                lstm: "tagger = \"upos\"\nreferences = [\"deprel\"]\nfinetune = \"genre\"\nfinetune_steps = 2") + """
                [analyses]
                ablation = [1.0]
                interactions = { max_distance = 3, sentences = 5 }
                sparsity = [1, 2, 4]
                rankers = ["path", "f-statistic", "iou"]
                erasure = true
                [[claims]]
                claim = "recurrent layers grow more similar to the dependency tagger"
                kind = "rises"
                quantities = ["similarity * layer1 to deprel"]
                """
        try text.write(toFile: folder + "/every.toml", atomically: true, encoding: .utf8)
        let plan = try ExperimentRunner(try Experiment.read(folder + "/every.toml")).plan()
        #expect(Set(plan.cells.map(\.kind)) == [.train, .extract, .probe, .analysis, .sparsity, .erasure, .dynamics, .fineTuning, .interactions])
        for cell in plan.cells {
            #expect(CellID(cell.id.description) == cell.id, "\(cell.id)")
        }
        #expect(plan.cells.contains { $0.id == CellID("dynamics feats.Number to tagger") })
        #expect(plan.cells.contains { $0.id == .train(.reference("deprel")) && $0.output.hasPrefix("reference-deprel-") })
        #expect(plan.cells.contains { $0.id == CellID("dynamics upos to reference-deprel") })
        // The whole study runs: the reference's dynamics in the results, the claim per measure.
        let results = try ExperimentRunner(try Experiment.read(folder + "/every.toml")).run()
        #expect(results.properties.allSatisfy { $0.dynamicsToReferences?["deprel"]?.rows.count == 4 } && results.references?["deprel"] != nil)
        #expect(
            results.claims?.map(\.quantities) == [
                ["similarity svcca layer1 to deprel"], ["similarity pwcca layer1 to deprel"], ["similarity cka layer1 to deprel"],
            ])
        #expect(ExperimentReport.html(results).contains("<h2>Claims</h2>"))
        // The sparsity curves of each property's best layer, each ranker at each k, and the report's chart.
        for p in results.properties {
            let sparse = try #require(p.sparsity)
            #expect(sparse.ks == [1, 2, 4] && sparse.curves.map(\.ranker) == [.path, .fStatistic, .iou] && sparse.agreement.count == 3)
            #expect(sparse.curves.allSatisfy { $0.points.map(\.k) == [1, 2, 4] })
        }
        #expect(ExperimentReport.html(results).contains("k-sparse probing (Gurnee et al. 2023)"))
        // LEACE at each best layer: the probe after it at most the majority baseline's level, the
        // model's loss measured with it and with random erasers of its rank.
        for p in results.properties {
            let erased = try #require(p.erasure)
            #expect(erased.rank >= 1 && erased.probeAfter <= erased.majority + 0.05, "\(p.property): \(erased)")
            #expect(erased.lossBefore != nil && erased.lossChange != nil && erased.controlLossChangeSD != nil)
        }
        #expect(ExperimentReport.html(results).contains("Concept erasure at"))
        #expect(CellID("probe upos layer+1") == nil && CellID("probe  layer1") == nil && CellID("probe upos layer٣") == nil)
        #expect(CellID("probe upos") == nil && CellID("train nothing") == nil && CellID("extract") == nil && CellID("probe upos layerx") == nil)
    }
}
