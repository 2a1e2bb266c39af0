import Foundation
import Testing

/// Minimal pairs and task spaces from the command line, on a tiny LSTM trained on the embedded
/// treebank: documented JSON, the same bytes for the same seed, located errors.
@Suite struct PairsCLITests {
    @Test func pairsAndTaskSpace() throws {
        try withTemporaryFolder { folder in
            let train = try SondeRun(
                "lm", "train", "--corpus", defaultCorpus, "--limit", "300", "--hidden", "16", "--batch-size", "8", "--steps", "8", "--checkpoints",
                "8", "--min-count", "1", "--out", folder + "/lm", "--quiet")
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
