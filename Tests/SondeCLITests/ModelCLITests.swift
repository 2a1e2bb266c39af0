import Foundation
import SondeLinalg
import Testing

let zoo = URL(fileURLWithPath: repositoryRoot).deletingLastPathComponent().path + "/shared/zoo"
let zooAvailable = FileManager.default.fileExists(atPath: zoo + "/README.md")
let defaultCorpus = repositoryRoot + "/corpora/default.conllu"
let zooTokenizer = zoo + "/tokenizer/tokenizer.json"

/// `sonde extract`, `sonde score` and `sonde probe --train-corpus` on a zoo model and the embedded
/// default treebank.
@Suite(.enabled(if: zooAvailable, "../shared/zoo is absent beside the repository: the model commands are skipped"))
struct ModelCLITests {
    let corpus = defaultCorpus
    let tokenizer = zooTokenizer

    @Test func extractThenProbeFromTheTreebank() throws {
        try withTemporaryFolder { folder in
            let acts = folder + "/acts.safetensors"
            let run = try SondeRun(
                "extract", "--model", zoo + "/gpt-step1200", "--tokenizer", tokenizer, "--corpus", corpus,
                "--limit", "60", "--layers", "0,3", "--aggregate", "mean", "--out", acts, "--json")
            #expect(run.status == 0, "\(run.stderr)")
            let summary = try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as! [String: Any]
            #expect(summary["layers"] as? [String] == ["layer0", "layer3"])
            #expect(summary["sentences"] as? Int == 60)
            let inspect = try SondeRun("inspect", acts, "--json")
            #expect(inspect.stdout.contains("sonde-activations/1") && inspect.stdout.contains("\"aggregate\" : \"mean\""))

            // Labels straight from the treebank, rows checked against the file's alignment.
            let probe = try SondeRun(
                "probe", "--train", acts, "--layer", "layer3", "--train-corpus", corpus, "--property", "upos",
                "--lambda", "0.01", "--json")
            #expect(probe.status == 0, "\(probe.stderr)")
            let report = try JSONSerialization.jsonObject(with: Data(probe.stdout.utf8)) as! [String: Any]
            let train = (report["splits"] as! [String: Any])["train"] as! [String: Any]
            #expect((train["accuracy"] as! Double) > (train["majorityBaseline"] as! Double))
            #expect(train["selectivity"] != nil)

            // The same activations against a treebank they were not extracted from.
            let other = repositoryRoot + "/Tests/Fixtures/corpora"
            let wrong = try SondeRun(
                "probe", "--train", acts, "--layer", "layer3", "--train-corpus", zoo + "/../corpora/ud-english-ewt/en_ewt-ud-test.conllu",
                "--property", "upos", "--lambda", "0.01")
            #expect(wrong.status == 65)
            #expect(wrong.stderr.contains("was not extracted from"), "\(wrong.stderr) \(other)")
        }
    }

    @Test func scoreWithAblation() throws {
        let run = try SondeRun(
            "score", "--model", zoo + "/gpt-step1200", "--tokenizer", tokenizer, "--corpus", corpus, "--limit", "20",
            "--ablate", "4:0,1,2,3", "--ablate-with", "mean", "--json")
        #expect(run.status == 0, "\(run.stderr)")
        let report = try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as! [String: Any]
        #expect((report["unablated"] as! [String: Any])["task"] as? String == "next-token")
        #expect(report["lossChange"] as? Double != nil)
    }

    /// Amnesic probing: part of speech erased (LEACE, fitted on layer 2's activations of EWT)
    /// inside the zoo GPT-2 costs the model far more than random erasures of the same rank.
    @Test func scoreWithAnErasureAndItsControls() throws {
        try withTemporaryFolder { folder in
            let ewt = zoo + "/../corpora/ud-english-ewt/en_ewt-ud-dev.conllu"
            let acts = folder + "/acts.safetensors", labels = folder + "/upos.txt", eraser = folder + "/upos.eraser"
            let extract = try SondeRun(
                "extract", "--model", zoo + "/gpt-step1200", "--tokenizer", tokenizer, "--corpus", ewt, "--limit", "200", "--layers", "2",
                "--out", acts)
            #expect(extract.status == 0, "\(extract.stderr)")
            let sentences = try String(contentsOfFile: ewt, encoding: .utf8).components(separatedBy: "\n\n").prefix(200).joined(separator: "\n\n")
            try (sentences + "\n\n").write(toFile: folder + "/c.conllu", atomically: true, encoding: .utf8)
            _ = try SondeRun("corpus", "labels", folder + "/c.conllu", "--property", "upos", "--labels", labels, "--tokens", folder + "/t.txt")
            let fit = try SondeRun("erase", "fit", "--train", acts, "--train-labels", labels, "--out", eraser)
            #expect(fit.status == 0, "\(fit.stderr)")
            let run = try SondeRun(
                "score", "--model", zoo + "/gpt-step1200", "--tokenizer", tokenizer, "--corpus", ewt, "--limit", "40", "--erase", eraser,
                "--erase-layer", "2", "--erase-controls", "2", "--json")
            #expect(run.status == 0, "\(run.stderr)")
            let erasure = try #require((try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as! [String: Any])["erasure"] as? [String: Any])
            #expect((erasure["controls"] as! [Any]).count == 2 && erasure["beyondControls"] as? Bool == true)
            #expect((erasure["lossChange"] as! Double) > 3 * (erasure["controlLossChange"] as! Double))
            // The same eraser on minimal pairs: with and without it, and random erasers of its rank.
            let pairs = try SondeRun(
                "pairs", "score", "--model", zoo + "/gpt-step1200", "--tokenizer", tokenizer, "--pairs",
                zoo + "/../corpora/blimp/data/determiner_noun_agreement_1.jsonl", "--limit", "30", "--erase", eraser, "--erase-layer", "2",
                "--erase-controls", "2", "--json")
            #expect(pairs.status == 0, "\(pairs.stderr)")
            let pairsErasure = try #require((try JSONSerialization.jsonObject(with: Data(pairs.stdout.utf8)) as! [String: Any])["erasure"] as? [String: Any])
            #expect((pairsErasure["controlAccuracies"] as! [Double]).count == 2 && (pairsErasure["tasks"] as! [Any]).count == 1)
            let wrongLayer = try SondeRun(
                "score", "--model", zoo + "/gpt-step1200", "--tokenizer", tokenizer, "--corpus", ewt, "--limit", "2", "--erase", eraser, "--erase-layer", "9")
            #expect(wrongLayer.status == 64 && wrongLayer.stderr.contains("the model has layers 0…4"))
        }
    }

    /// Rankings tested inside the model: every point's selectivity is its two loss changes'
    /// difference, zeroing every neuron of the layer moves the loss more than zeroing four (and
    /// zeroing none, by definition, not at all), and the random control carries its spread.
    @Test func interveneBracketsTheEffect() throws {
        let ewt = zoo + "/../corpora/ud-english-ewt/en_ewt-ud-dev.conllu"
        let run = try SondeRun(
            "intervene", "--model", zoo + "/gpt-step1200", "--tokenizer", tokenizer, "--corpus", ewt, "--limit", "25", "--property", "upos=NOUN",
            "--layer", "2", "--k", "4,128", "--rankers", "lca,probeless", "--fill", "zero", "--seeds", "2", "--json")
        #expect(run.status == 0, "\(run.stderr)")
        let report = try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as! [String: Any]
        let points = (report["result"] as! [String: Any])["points"] as! [[String: Any]]
        #expect(points.count == 6 && (report["wordsWith"] as! Int) > 0 && (report["wordsWithout"] as! Int) > 0)
        for p in points {
            let (with, without, selectivity) = (p["lossChangeWith"] as! Double, p["lossChangeWithout"] as! Double, p["selectivity"] as! Double)
            #expect(abs(selectivity - (with - without)) < 1e-12)
            #expect((p["selectivitySD"] != nil) == (p["ranker"] as? String == "random"))
        }
        for ranker in ["lca", "probeless", "random"] {
            let change = { (k: Int) in points.first { $0["ranker"] as? String == ranker && $0["k"] as? Int == k }!["lossChangeWith"] as! Double }
            #expect(change(128) > change(4) && change(128) > 0, "\(ranker)")
        }
        let bad = try SondeRun("intervene", "--model", zoo + "/gpt-step1200", "--tokenizer", tokenizer, "--corpus", ewt, "--property", "upos", "--layer", "2")
        #expect(bad.status == 64 && bad.stderr.contains("a property value such as upos=NOUN"))
    }

    @Test func badModelInput() throws {
        let missing = try SondeRun("extract", "--model", "/nonexistent", "--corpus", corpus, "--out", "/tmp/never.safetensors")
        #expect(missing.status == 66)
        #expect(missing.stderr.contains("/nonexistent/config.json: cannot read the model's config.json"))
        #expect(!FileManager.default.fileExists(atPath: "/tmp/never.safetensors"))
        let noTokenizer = try SondeRun("extract", "--model", zoo + "/gpt-step0", "--corpus", corpus, "--out", "/tmp/never.safetensors")
        #expect(noTokenizer.status == 66)
        #expect(noTokenizer.stderr.contains("pass --tokenizer"))
        let badLayer = try SondeRun("score", "--model", zoo + "/gpt-step0", "--tokenizer", tokenizer, "--corpus", corpus, "--ablate", "9:1")
        #expect(badLayer.status == 64)
        let classifier = try SondeRun("score", "--model", zoo + "/bert-genre", "--tokenizer", tokenizer, "--corpus", corpus, "--limit", "3")
        #expect(classifier.status == 65)
        #expect(classifier.stderr.contains("--property genre"))
    }

    /// A study of existing checkpoints (`[models]`): a series of two, a fine-tuned copy, one
    /// tokenizer for all; no training, the report names the models.
    @Test func aStudyOfAHuggingFaceSeries() throws {
        try withTemporaryFolder { folder in
            let text = """
                output = "out"
                [corpus]
                paths = ["\(repositoryRoot)/corpora/default.conllu"]
                limit = 80
                [models]
                checkpoints = ["\(zoo)/gpt-step60", "\(zoo)/gpt-step1200"]
                finetuned = "\(zoo)/gpt-genre"
                tokenizer = "\(zooTokenizer)"
                [probe]
                properties = ["upos"]
                lambda = 0.05
                seeds = [1]
                k = 3
                [analyses]
                ablation = [0.5]

                """
            try text.write(toFile: folder + "/s.toml", atomically: true, encoding: .utf8)
            let plan = try SondeRun("run", folder + "/s.toml", "--plan")
            #expect(plan.status == 0 && plan.stdout.contains("extract gpt-step60") && !plan.stdout.contains("train"), "\(plan.stderr)")
            let run = try SondeRun("run", folder + "/s.toml", "--json")
            #expect(run.status == 0, "\(run.stderr)")
            let results =
                try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: folder + "/out/results.json"))) as! [String: Any]
            #expect(results["checkpointNames"] as? [String] == ["gpt-step60", "gpt-step1200"])
            let property = (results["properties"] as! [[String: Any]])[0]
            #expect((property["layers"] as! [Any]).count == 5 && property["fineTuning"] != nil)
            #expect(try String(contentsOfFile: folder + "/out/report.html", encoding: .utf8).contains("Models: 2 checkpoints"))
        }
    }
}

/// The comparator on the zoo's real checkpoints (small data: this runs in debug builds).
@Suite(.enabled(if: zooAvailable, "../shared/zoo is absent beside the repository: the comparator runs are skipped"))
struct ComparatorCLITests {
    let ewtDev = zoo + "/../corpora/ud-english-ewt/en_ewt-ud-dev.conllu"
    let tokenizer = zooTokenizer

    @Test func dynamicsOverTheSixBERTCheckpoints() throws {
        let checkpoints = [0, 20, 60, 200, 600, 1200].map { zoo + "/bert-step\($0)" }
        let arguments =
            ["dynamics"] + checkpoints + [
                "--tokenizer", tokenizer, "--corpus", ewtDev, "--limit", "60",
                "--property", "feats.Number", "--layers", "2,4", "--lambda", "0.01", "--json",
            ]
        let run = try SondeRun(arguments)
        #expect(run.status == 0, "\(run.stderr)")
        let dynamics = try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as! [String: Any]
        let rows = dynamics["rows"] as! [[String: Any]]
        #expect(rows.count == 12)
        let layerCKA = (dynamics["layerCKA"] as! [String: [[Double]]])["bert-step1200"]!
        #expect(layerCKA.count == 2 && layerCKA[0][0] == 1 && layerCKA[0][1] == layerCKA[1][0] && layerCKA[0][1] < 1)
        // The last checkpoint is the reference: identical to itself.
        for row in rows.suffix(2) {
            #expect(abs((row["svcca"] as! Double) - 1) < 1e-6 && abs((row["cka"] as! Double) - 1) < 1e-9)
            #expect(row["jaccardAtK"] as! Double == 1 && row["rankCorrelation"] as! Double == 1)
        }
        // Early checkpoints differ from it; chance levels are k/D.
        #expect((rows[0]["cka"] as! Double) < 0.9)
        #expect(rows.allSatisfy { abs(($0["alignmentChance"] as! Double) - 20.0 / 128.0) < 1e-12 })
        #expect(rows.allSatisfy { (0...1).contains($0["alignment"] as! Double) && (0...1).contains($0["probeEnergy"] as! Double) })
    }

    @Test func compareBaseWithFineTuned() throws {
        let run = try SondeRun([
            "compare", "--base", zoo + "/bert-step1200", "--other", zoo + "/bert-genre", "--tokenizer", tokenizer,
            "--corpus", ewtDev, "--limit", "60", "--property", "feats.Number", "--lambda", "0.01", "--json",
        ])
        #expect(run.status == 0, "\(run.stderr)")
        let report = try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as! [String: Any]
        let layers = report["layers"] as! [[String: Any]]
        #expect(layers.count == 5)
        // Fine-tuning changes the upper layers more than the embeddings.
        #expect((layers[0]["cka"] as! Double) > (layers[4]["cka"] as! Double))
        #expect((report["baseHistogram"] as! [Int]).reduce(0, +) == 20 && (report["otherHistogram"] as! [Int]).reduce(0, +) == 20)
    }
}

/// `sonde similarity` on google's tutorial activations (../shared/reference/svcca).
@Suite(.enabled(if: zooAvailable, "../shared is absent beside the repository: skipped"))
struct SimilarityCLITests {
    let reference = zoo + "/../reference/svcca"

    @Test func googleNumbersAndDirections() throws {
        try withTemporaryFolder { folder in
            let x = reference + "/mnist_model0_lay04.npy", y = reference + "/mnist_model1_lay04.npy"
            let google = try SondeRun(["similarity", x, y, "--google-compat", "--measures", "cca,pwcca", "--baseline", "0", "--json"])
            #expect(google.status == 0, "\(google.stderr)")
            let measures =
                (try JSONSerialization.jsonObject(with: Data(google.stdout.utf8)) as! [String: Any])["measures"] as! [String: [String: Any]]
            #expect(abs((measures["cca"]!["value"] as! Double) - 0.7057263129591107) < 1e-6)
            #expect(abs((measures["pwcca"]!["value"] as! Double) - 0.7372007259221036) < 1e-6)

            let directions = folder + "/directions.safetensors"
            let run = try SondeRun(["similarity", x, y, "--dims", "5", "--directions", directions, "--baseline", "2", "--json"])
            #expect(run.status == 0, "\(run.stderr)")
            let report = try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as! [String: Any]
            let svcca = (report["measures"] as! [String: [String: Any]])["svcca"]!
            #expect((svcca["baseline"] as! Double) < 0.1 && (svcca["value"] as! Double) > 0.7)
            let inspect = try SondeRun(["inspect", directions])
            #expect(inspect.stdout.contains("directions_x") && inspect.stdout.contains("variates_y") && inspect.stdout.contains("[10000, 5]"))
            // The variates as written: unit variance, and the first pair correlates as the first
            // coefficient says (computed here from the file, Float data: 1e-4).
            let file = try TensorCollection.read(directions)
            let vx = try file["variates_x"]!.matrix(), vy = try file["variates_y"]!.matrix()
            let rho = file["correlations"]!.doubles()
            func column(_ m: Matrix<Float>, _ j: Int) -> [Double] { (0..<m.rows).map { Double(m[$0, j]) } }
            let (a, b) = (column(vx, 0), column(vy, 0))
            let (ma, mb) = (a.reduce(0, +) / Double(a.count), b.reduce(0, +) / Double(b.count))
            let va = a.reduce(0) { $0 + ($1 - ma) * ($1 - ma) } / Double(a.count - 1)
            let vb = b.reduce(0) { $0 + ($1 - mb) * ($1 - mb) } / Double(b.count - 1)
            let cov = zip(a, b).reduce(0) { $0 + ($1.0 - ma) * ($1.1 - mb) } / Double(a.count - 1)
            #expect(abs(va - 1) < 1e-4 && abs(vb - 1) < 1e-4 && abs(ma) < 1e-4)
            #expect(abs(cov / (va * vb).squareRoot() - rho[0]) < 1e-4)

            // Too few tokens for the neurons: refused with advice.
            let small = try SondeRun(["similarity", fixtures + "/f32_c.npy", fixtures + "/f32_c.npy", "--measures", "cca"])
            #expect(small.status == 65 && small.stderr.contains("meaningless"), "\(small.stderr)")
        }
    }
}

/// `sonde ablate` (probe level and inside the model) and `sonde redundancy` on a zoo model and
/// the embedded treebank (small: debug builds).
@Suite(.enabled(if: zooAvailable, "../shared/zoo is absent beside the repository: skipped"))
struct RedundancyCLITests {
    let corpus = defaultCorpus
    let tokenizer = zooTokenizer

    @Test func ablateAndRedundancy() throws {
        try withTemporaryFolder { folder in
            let acts = folder + "/acts.safetensors"
            let extract = try SondeRun([
                "extract", "--model", zoo + "/gpt-step1200", "--tokenizer", tokenizer, "--corpus", corpus,
                "--limit", "80", "--out", acts,
            ])
            #expect(extract.status == 0, "\(extract.stderr)")
            let ablate = try SondeRun([
                "ablate", "--train", acts, "--layer", "layer2", "--train-corpus", corpus, "--property", "upos",
                "--lambda", "0.01", "--k", "10%,50%", "--seeds", "2", "--model", zoo + "/gpt-step1200",
                "--tokenizer", tokenizer, "--model-corpus", corpus, "--model-layer", "2", "--model-limit", "10", "--json",
            ])
            #expect(ablate.status == 0, "\(ablate.stderr)")
            let report = try JSONSerialization.jsonObject(with: Data(ablate.stdout.utf8)) as! [String: Any]
            let points = report["points"] as! [[String: Any]]
            #expect(points.count == 2 * 2 * 3 * 2)  // fills × kinds × selections × counts
            let full = report["unablatedAccuracy"] as! Double
            let top50 = points.first {
                $0["selection"] as? String == "top" && $0["kind"] as? String == "keep" && $0["neurons"] as? Int == 64
                    && $0["fill"] as? String == "zero"
            }!
            #expect((top50["accuracy"] as! Double) <= full + 1e-12)
            let model = report["model"] as! [[String: Any]]
            #expect(model.count == 4 && model.allSatisfy { ($0["lossChange"] as! Double).isFinite })
            // Removing the top neurons inside the model at the probe's layer is, for that probe, the
            // same as removing them from its input: the re-extracted accuracy equals the probe-level one.
            let removeTop10 = points.first {
                $0["selection"] as? String == "top" && $0["kind"] as? String == "remove" && $0["neurons"] as? Int == 13
                    && $0["fill"] as? String == "zero"
            }!
            #expect(abs((model[0]["accuracy"] as! Double) - (removeTop10["accuracy"] as! Double)) < 1e-9)

            let redundancy = try SondeRun([
                "redundancy", acts, "--corpus", corpus, "--limit", "80", "--property", "upos", "--layers", "0,2",
                "--lambda", "0.01", "--json",
            ])
            #expect(redundancy.status == 0, "\(redundancy.stderr)")
            let r = try JSONSerialization.jsonObject(with: Data(redundancy.stdout.utf8)) as! [String: Any]
            let layers = r["layers"] as! [[String: Any]]
            #expect(layers.count == 2 && layers.allSatisfy { ($0["clusters"] as! Int) >= 1 && ($0["clusters"] as! Int) <= 128 })
            let minimal = r["minimal"] as! [String: Any]
            #expect((minimal["neurons"] as! Int) >= 1 && (minimal["neurons"] as! Int) <= 256)
        }
    }
}

/// A NeuroX user's files work unchanged: its JSON and HDF5 activations with its label and word
/// files (../shared/reference/neurox, written by NeuroX 1.0.9) give the same probe.
@Suite(.enabled(if: zooAvailable, "../shared is absent beside the repository: the NeuroX file test is skipped"))
struct NeuroXFilesCLITests {
    @Test func probeOnNeuroXsJSONAndHDF5() throws {
        let folder = URL(fileURLWithPath: zoo).deletingLastPathComponent().path + "/reference/neurox"
        var accuracies: [Double] = []
        for file in ["test.json", "test.hdf5"] {
            let run = try SondeRun(
                "probe", "--train", folder + "/" + file, "--layer", "all_layers", "--train-labels", folder + "/test.label", "--train-words",
                folder + "/test.word", "--lambda", "0.01", "--json")
            #expect(run.status == 0, "\(run.stderr)")
            let report = try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as! [String: Any]
            #expect(report["neurons"] as? Int == 24)
            let train = (report["splits"] as! [String: Any])["train"] as! [String: Any]
            #expect(train["tokens"] as? Int == 60 && train["controlAccuracy"] != nil)
            accuracies.append(train["accuracy"] as! Double)
        }
        // The two files hold the same numbers to 8 decimals: the same fit.
        #expect(accuracies.count == 2 && abs(accuracies[0] - accuracies[1]) < 0.02)
    }
}
