import Foundation
import Testing

/// Native LSTMs from the command line on the embedded treebank: byte-identical checkpoints for
/// one seed, exact resume, and the checkpoints in `extract` (outputs and cells), `probe`, `score` and `dynamics`.
@Suite struct LSTMCLITests {
    let small = ["--corpus", defaultCorpus, "--limit", "150", "--hidden", "16", "--batch-size", "8"]

    func data(_ path: String) throws -> Data { try Data(contentsOf: URL(fileURLWithPath: path)) }

    @Test func sameSeedSameBytesAndExactResume() throws {
        try withTemporaryFolder { folder in
            let steps = ["--steps", "12", "--checkpoints", "6,12"]
            let a = try SondeRun(["lm", "train"] + small + steps + ["--out", folder + "/a", "--json"])
            #expect(a.status == 0, "\(a.stderr)")
            let written = try JSONSerialization.jsonObject(with: Data(a.stdout.utf8)) as! [[String: Any]]
            #expect(written.map { $0["step"] as! Int } == [6, 12] && (written[1]["devPerplexity"] as! Double) > 1)
            _ = try SondeRun(["lm", "train"] + small + steps + ["--out", folder + "/b"])
            _ = try SondeRun(["lm", "train"] + small + steps + ["--out", folder + "/c", "--resume", folder + "/a/step-6"])
            let reference = try data(folder + "/a/step-12/model.safetensors")
            #expect(try data(folder + "/b/step-12/model.safetensors") == reference)
            #expect(try data(folder + "/c/step-12/model.safetensors") == reference)
            #expect(try data(folder + "/c/step-12/optimizer.safetensors") == (try data(folder + "/a/step-12/optimizer.safetensors")))
            // Another seed, other weights.
            _ = try SondeRun(["lm", "train"] + small + steps + ["--out", folder + "/d", "--seed", "2"])
            #expect(try data(folder + "/d/step-12/model.safetensors") != reference)
            // Resuming under other settings is refused, not silently mixed.
            let other = try SondeRun(
                ["lm", "train"] + small + steps + ["--out", folder + "/e", "--resume", folder + "/a/step-6", "--dropout", "0.5"])
            #expect(other.status == 65 && other.stderr.contains("settings"))
        }
    }

    @Test func checkpointsInTheOtherCommands() throws {
        try withTemporaryFolder { folder in
            let lm = try SondeRun(["lm", "train"] + small + ["--steps", "8", "--checkpoints", "0,8", "--out", folder + "/lm"])
            #expect(lm.status == 0, "\(lm.stderr)")
            let tagger = try SondeRun(
                ["tagger", "train"] + small + ["--property", "upos", "--steps", "8", "--checkpoints", "8", "--out", folder + "/tagger", "--json"])
            #expect(tagger.status == 0 && tagger.stdout.contains("devAccuracy"), "\(tagger.stderr)")
            let fine = try SondeRun(
                ["finetune", "--from", folder + "/lm/step-8"] + small + [
                    "--property", "genre", "--steps", "4", "--checkpoints", "4", "--out", folder + "/ft",
                ])
            #expect(fine.status == 0, "\(fine.stderr)")
            #expect(try String(contentsOfFile: folder + "/ft/step-4/config.json", encoding: .utf8).contains("\"label_level\" : \"sentence\""))

            let acts = folder + "/acts.safetensors"
            let extract = try SondeRun(
                "extract", "--model", folder + "/lm/step-8", "--corpus", defaultCorpus, "--limit", "60", "--out", acts, "--json")
            #expect(extract.status == 0, "\(extract.stderr)")
            let probe = try SondeRun(
                "probe", "--train", acts, "--layer", "2", "--train-corpus", defaultCorpus, "--property", "upos", "--lambda", "0.001", "--mdl",
                "--gap", "1e-4", "--json")
            #expect(probe.status == 0 && probe.stdout.contains("\"neurons\" : 16"), "\(probe.stderr)")
            // MDL: the probe's labels and the control task's, each with its compression.
            let report = try JSONSerialization.jsonObject(with: Data(probe.stdout.utf8)) as! [String: Any]
            let certificate = report["certificate"] as! [String: Any]
            #expect((certificate["gap"] as! Double) <= 1e-4 && (certificate["gap"] as! Double) > -1e-9)
            let mdl = report["mdl"] as! [String: Any]
            let (code, control) = (mdl["probe"] as! [String: Any], mdl["control"] as! [String: Any])
            #expect((code["compression"] as! Double) > (control["compression"] as! Double) && (code["blocks"] as! [Any]).count >= 8)
            // Memory cells: another file, recorded as such, probed the same way.
            let cells = try SondeRun(
                "extract", "--model", folder + "/lm/step-8", "--corpus", defaultCorpus, "--limit", "60", "--cells", "--out",
                folder + "/cells.safetensors")
            #expect(cells.status == 0, "\(cells.stderr)")
            #expect(try data(folder + "/cells.safetensors") != (try data(acts)))
            #expect(String(decoding: try data(folder + "/cells.safetensors").prefix(4096), as: UTF8.self).contains("memory cells"))
            let score = try SondeRun(
                "score", "--model", folder + "/lm/step-8", "--corpus", defaultCorpus, "--limit", "30", "--ablate", "1:0,1", "--json")
            #expect(score.status == 0 && score.stdout.contains("lossChange"), "\(score.stderr)")
            // The tagger's own accuracy, with and without neurons ablated; without labels, said.
            let tagging = try SondeRun(
                "score", "--model", folder + "/tagger/step-8", "--corpus", defaultCorpus, "--limit", "30", "--property", "upos", "--ablate",
                "1:0,1,2",
                "--json")
            #expect(tagging.status == 0 && tagging.stdout.contains("\"tagging\"") && tagging.stdout.contains("accuracyChange"), "\(tagging.stderr)")
            let unlabelled = try SondeRun("score", "--model", folder + "/tagger/step-8", "--corpus", defaultCorpus, "--limit", "30")
            #expect(unlabelled.status != 0 && unlabelled.stderr.contains("--property upos"))
            let dynamics = try SondeRun(
                "dynamics", folder + "/lm/step-0", folder + "/lm/step-8", "--reference", folder + "/tagger/step-8", "--corpus", defaultCorpus,
                "--limit", "40", "--layers", "2", "--property", "upos", "--k", "4", "--json")
            #expect(dynamics.status == 0, "\(dynamics.stderr)")
            let rows = (try JSONSerialization.jsonObject(with: Data(dynamics.stdout.utf8)) as! [String: Any])["rows"] as! [[String: Any]]
            #expect(rows.count == 2 && rows.allSatisfy { $0["layer"] as? String == "layer2" })
            // A tokenizer does not apply to a word-level model: said, not ignored.
            let tokenizer = try SondeRun("score", "--model", folder + "/lm/step-8", "--tokenizer", "x.json", "--corpus", defaultCorpus)
            #expect(tokenizer.status != 0 && tokenizer.stderr.contains("vocab.txt"))
        }
    }
}
