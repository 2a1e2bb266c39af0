import Foundation
import Testing

/// Word interdependence from the command line and as a cell of a study.
@Suite struct InteractionsCLITests {
    @Test func aStudyFollowsInterdependenceOverTraining() throws {
        try withTemporaryFolder { folder in
            let file = folder + "/study.toml"
            let study = try ReliabilityCLITests.smallDemo().replacingOccurrences(
                of: "minimal_delta = 0", with: "minimal_delta = 0\ninteractions = { max_distance = 3, sentences = 8 }")
            try study.write(toFile: file, atomically: true, encoding: .utf8)
            let plan = try SondeRun("run", file, "--plan")
            #expect(plan.stdout.contains("interactions step-0") && plan.stdout.contains("interactions step-40"), "\(plan.stdout)")
            let run = try SondeRun("run", file)
            #expect(run.status == 0, "\(run.stderr)")
            let results = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: folder + "/results.json"))) as! [String: Any]
            let interactions = try #require(results["interactions"] as? [[String: Any]])
            #expect(interactions.map { $0["model"] as! String } == ["step-0", "step-40"])
            let curve = interactions[1]["byLinearDistance"] as! [[String: Any]]
            #expect(curve.count == 3 && curve.allSatisfy { ($0["mean"] as! Double) > 0 }, "\(curve)")
            #expect(interactions[1]["byPhraseFrequency"] is [[String: Any]] && interactions[1]["familiarCount"] as? Int == 10)
            let report = try String(contentsOfFile: folder + "/report.html", encoding: .utf8)
            #expect(report.contains("Word interdependence") && !report.lowercased().contains("nan"))

            let bad = study.replacingOccurrences(of: "max_distance = 3", with: "max_distance = 0")
            try bad.write(toFile: file, atomically: true, encoding: .utf8)
            let check = try SondeRun("run", file, "--check")
            #expect(check.status == 65 && check.stderr.contains("analyses.interactions: max_distance"), "\(check.stderr)")
        }
    }

    @Test func theCommandOnACheckpointSeries() throws {
        try withTemporaryFolder { folder in
            let lm = try SondeRun(
                "lm", "train", "--corpus", defaultCorpus, "--limit", "60", "--out", folder + "/lm", "--hidden", "8", "--steps", "10", "--checkpoints",
                "0,10", "--quiet")
            #expect(lm.status == 0, "\(lm.stderr)")
            let run = try SondeRun(
                "interactions", folder + "/lm/step-0", folder + "/lm/step-10", "--corpus", defaultCorpus, "--limit", "5", "--max-distance", "2",
                "--layer", "1", "--pairs", "--json")
            #expect(run.status == 0, "\(run.stderr)")
            let object = try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as! [String: Any]
            let series = object["checkpoints"] as! [[String: Any]]
            #expect(series.count == 2 && series[1]["model"] as? String == "step-10")
            let pairs = series[1]["interdependence"] as! [[String: Any]]
            #expect(!pairs.isEmpty && pairs.allSatisfy { ($0["linearDistance"] as! Int) <= 2 && $0["syntacticDistance"] is Int })
            let phrases = try SondeRun(
                "interactions", folder + "/lm/step-10", "--corpus", defaultCorpus, "--limit", "20", "--max-distance", "3", "--train-corpus", defaultCorpus,
                "--familiar", "3")
            #expect(phrases.status == 0 && phrases.stdout.contains("familiar: ≥ 3"), "\(phrases.stdout)\(phrases.stderr)")
            let span = try SondeRun(
                "interactions", folder + "/lm/step-10", "--corpus", defaultCorpus, "--sentence", "1", "--between", "0", "--and", "1,2", "--json")
            let spanRows = (try JSONSerialization.jsonObject(with: Data(span.stdout.utf8)) as! [String: Any])["checkpoints"] as! [[String: Any]]
            #expect(span.status == 0 && (spanRows[0]["interactions"] as! [[String: Any]]).count == 2, "\(span.stdout)\(span.stderr)")
            let overlap = try SondeRun("interactions", folder + "/lm/step-10", "--corpus", defaultCorpus, "--between", "0,1", "--and", "1")
            #expect(overlap.status == 64 && overlap.stderr.contains("share a word"))
            let html = try SondeRun("interactions", folder + "/lm/step-10", "--corpus", defaultCorpus, "--limit", "3", "--html", folder + "/s.html")
            let page = try String(contentsOfFile: folder + "/s.html", encoding: .utf8)
            #expect(html.status == 0 && page.contains("<svg") && page.contains("<table"))
            let transformer = try SondeRun("interactions", repositoryRoot + "/Tests/Fixtures/models/gpt2-inverse-scale", "--corpus", defaultCorpus)
            #expect(transformer.status != 0, "\(transformer.stdout)")
        }
    }

    /// The bottom-up study's pieces: data, a language model trained on it, scores per checkpoint.
    @Test func theSyntheticLanguageEndToEnd() throws {
        try withTemporaryFolder { folder in
            let make = try SondeRun(
                "synthetic", "make", "--out", folder + "/data", "--fillers", "30", "--rules", "3", "--conduits", "4", "--sequences", "60", "--probes", "3")
            #expect(make.status == 0, "\(make.stderr)")
            let lm = try SondeRun(
                "lm", "train", "--corpus", folder + "/data/train.txt", "--out", folder + "/lm", "--hidden", "8", "--steps", "5", "--checkpoints", "0,5",
                "--quiet")
            #expect(lm.status == 0, "\(lm.stderr)")
            let score = try SondeRun("synthetic", "score", folder + "/lm/step-0", folder + "/lm/step-5", "--data", folder + "/data", "--json")
            #expect(score.status == 0, "\(score.stderr)")
            let rows = (try JSONSerialization.jsonObject(with: Data(score.stdout.utf8)) as! [String: Any])["checkpoints"] as! [[String: Any]]
            #expect(rows.count == 2 && rows.allSatisfy { (0...1).contains($0["familiarAccuracy"] as! Double) && abs(($0["chance"] as! Double) - 1.0 / 3) < 1e-12 })
            try "a\tb\n".write(toFile: folder + "/data/probes.tsv", atomically: true, encoding: .utf8)
            let bad = try SondeRun("synthetic", "score", folder + "/lm/step-5", "--data", folder + "/data")
            #expect(bad.status == 65 && bad.stderr.contains("probes.tsv:1"), "\(bad.stderr)")
        }
    }
}
