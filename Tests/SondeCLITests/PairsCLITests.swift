import Foundation
import Testing

/// Minimal pairs and task spaces from the command line, on a tiny LSTM trained on the embedded
/// treebank: documented JSON, the same bytes for the same seed, located errors.
@Suite struct PairsCLITests {
    @Test func pairsAndTaskSpace() throws {
        try withTemporaryFolder { folder in
            let train = try SondeRun(
                "lm", "train", "--corpus", defaultCorpus, "--limit", "300", "--hidden", "16", "--batch-size", "8", "--steps", "8", "--checkpoints",
                "4,8", "--min-count", "1", "--out", folder + "/lm", "--quiet")
            #expect(train.status == 0, "\(train.stderr)")
            let made = try SondeRun(
                "pairs", "make", "--grammar", "--tasks", "sv-adjacent,det-noun-adjacent,missing-object", "--n", "24", "--seed", "3", "--out",
                folder + "/pairs", "--json")
            #expect(made.status == 0, "\(made.stderr)")
            let list = try JSONSerialization.jsonObject(with: Data(made.stdout.utf8)) as! [String: Any]
            #expect((list["tasks"] as! [[String: Any]]).map { $0["pairs"] as! Int } == [24, 24, 24])

            let scored = try SondeRun("pairs", "score", "--model", folder + "/lm/step-8", "--pairs", folder + "/pairs", "--json")
            #expect(scored.status == 0, "\(scored.stderr)")
            let result = try JSONSerialization.jsonObject(with: Data(scored.stdout.utf8)) as! [String: Any]
            let tasks = result["tasks"] as! [[String: Any]]
            #expect(tasks.map { $0["task"] as! String } == ["sv-adjacent", "det-noun-adjacent", "missing-object"])
            for t in tasks {
                let (pairs, total, unknown) = (t["pairs"] as! Int, t["total"] as! Int, t["outOfVocabulary"] as! Int)
                #expect(total == 24 && pairs + unknown == 24 && (t["margins"] as! [Double]).count == pairs)
                #expect((t["marginLow"] as! Double) <= (t["meanMargin"] as! Double) && (t["meanMargin"] as! Double) <= (t["marginHigh"] as! Double))
            }
            #expect((result["groups"] as! [[String: Any]]).count == 3)

            let space = [
                "taskspace", "--model", folder + "/lm/step-8", "--pairs", folder + "/pairs", "--seeds", "2", "--lr", "0.01", "--mask", "0.05",
            ]
            let a = try SondeRun(space + ["--out", folder + "/a", "--json"])
            #expect(a.status == 0, "\(a.stderr)")
            let r = try JSONSerialization.jsonObject(with: Data(a.stdout.utf8)) as! [String: Any]
            let transfer = r["transfer"] as! [String: Any]
            #expect((transfer["margin"] as! [[Any]]).map(\.count) == [3, 3, 3])
            #expect(Set((r["agreement"] as! [String: Any]).keys).isSuperset(of: ["gradientCosine", "maskOverlap", "transferMargin"]))
            #expect((r["comparisons"] as! [Any]).count == 15)
            _ = try SondeRun(space + ["--out", folder + "/b", "--quiet"])
            let bytes = { (name: String) in try Data(contentsOf: URL(fileURLWithPath: folder + "/\(name)/taskspace.json")) }
            #expect(try bytes("a") == (try bytes("b")))
            let report = try String(contentsOfFile: folder + "/a/report.html", encoding: .utf8)
            #expect(report.components(separatedBy: "<svg").count == 4 && !report.contains("src=") && !report.contains("<link"))

            // Over two checkpoints: the gradient spaces' stability, the last with itself r = 1.
            let dynamics = try SondeRun(
                "taskspace", "dynamics", "--checkpoints", folder + "/lm/step-4", folder + "/lm/step-8", "--pairs", folder + "/pairs", "--method",
                "gradient", "--no-nulls", "--mask", "0.05", "--out", folder + "/d", "--json")
            #expect(dynamics.status == 0, "\(dynamics.stderr)")
            let d = try JSONSerialization.jsonObject(with: Data(dynamics.stdout.utf8)) as! [String: Any]
            let stability = d["stability"] as! [String: [String: [Double]]]
            #expect(Set(stability.keys) == ["gradientCosine", "maskOverlap"])
            #expect(stability["gradientCosine"]!["successive"]!.count == 1 && abs(stability["gradientCosine"]!["toLast"]![1] - 1) < 1e-12)
            #expect((d["accuracy"] as! [[Double]]).map(\.count) == [3, 3])

            // A hypothesis of the user's own; a malformed one is located.
            try "# task\ttask\tvalue\nsv-adjacent\tdet-noun-adjacent\t1\n".write(toFile: folder + "/h.tsv", atomically: true, encoding: .utf8)
            let own = try SondeRun(
                space + ["--hypothesis", folder + "/h.tsv", "--method", "gradient", "--no-nulls", "--out", folder + "/h", "--json"])
            #expect(own.status == 0, "\(own.stderr)")
            let agreement = (try JSONSerialization.jsonObject(with: Data(own.stdout.utf8)) as! [String: Any])["agreement"] as! [String: Any]
            #expect(Set(agreement.keys) == ["gradientCosine", "maskOverlap"])
            try "sv-adjacent\tnope\t1\n".write(toFile: folder + "/bad-h.tsv", atomically: true, encoding: .utf8)
            let badHypothesis = try SondeRun(space + ["--hypothesis", folder + "/bad-h.tsv", "--out", folder + "/bh"])
            #expect(badHypothesis.status == 65 && badHypothesis.stderr.contains("bad-h.tsv:1:"), "\(badHypothesis.stderr)")

            // A malformed pairs file: its line, exit 65.
            try "sv\tgroup\tonly three\n".write(toFile: folder + "/bad.tsv", atomically: true, encoding: .utf8)
            let bad = try SondeRun("pairs", "score", "--model", folder + "/lm/step-8", "--pairs", folder + "/bad.tsv")
            #expect(bad.status == 65 && bad.stderr.contains("bad.tsv:1: expected 4 or 5 tab-separated columns"), "\(bad.stderr)")
            // A transformer cannot be tuned by FTGD here: said, not crashed.
            let notLSTM = try SondeRun(space + ["--model", repositoryRoot + "/Tests/Fixtures/models/gpt2-inverse-scale", "--out", folder + "/c"])
            #expect(notLSTM.status != 0)
        }
    }
}

@Suite(.enabled(if: zooAvailable, "../shared/zoo is absent beside the repository: the zoo's curves are skipped"))
struct ZooPairsCLITests {
    /// GPT-2 checkpoints get scoring curves and the unembedding-only gradient space (no
    /// transfer spaces: FTGD needs a native LSTM), on BLiMP.
    @Test func curvesOverTheGPTCheckpoints() throws {
        try withTemporaryFolder { folder in
            let blimp = URL(fileURLWithPath: zoo).deletingLastPathComponent().path + "/corpora/blimp/data"
            let run = try SondeRun(
                "taskspace", "dynamics", "--checkpoints", zoo + "/gpt-step0", zoo + "/gpt-step1200", "--tokenizer", zooTokenizer, "--pairs", blimp,
                "--tasks", "anaphor_number_agreement,determiner_noun_agreement_1,wh_vs_that_no_gap", "--limit", "40", "--out", folder, "--json")
            #expect(run.status == 0, "\(run.stderr)")
            let d = try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as! [String: Any]
            let accuracy = d["accuracy"] as! [[Double]]
            #expect(accuracy.map(\.count) == [3, 3] && d["spaces"] == nil)
            // The gradient space restricted to the output matrix, followed over the two checkpoints.
            #expect((d["unembedding"] as! [[String: Any]]).count == 2)
            let stability = d["stability"] as! [String: [String: [Double]]]
            #expect(Set(stability.keys) == ["unembeddingCosine", "unembeddingMaskOverlap"])
            #expect(abs(stability["unembeddingCosine"]!["toLast"]![1] - 1) < 1e-12)
            // Trained, the model prefers the grammatical wh-clause on 19 of the 20 test pairs; at
            // step 0 on 11 (found in this run; the model is small, so the others stay at chance).
            #expect(abs(accuracy[1][2] - 0.95) < 1e-12 && abs(accuracy[0][2] - 0.55) < 1e-12)
            #expect(FileManager.default.fileExists(atPath: folder + "/report.html"))
        }
    }
}
