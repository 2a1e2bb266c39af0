import Foundation
import Testing

/// The commands that test a ranking: `rank --method iou|gaussian`, `sparse-probe` and `erase`,
/// from activation files and labels, their JSON and their errors.
struct RankingCLITests {
    /// 300 rows × 8 neurons: neurons 2 and 5 carry the class (three classes), the rest are noise.
    func write(_ folder: String, rows: Int = 300, name: String = "x") throws -> (x: String, labels: String) {
        var state: UInt64 = 7
        func noise() -> Float {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Float(Double(state >> 11) / Double(1 << 53) - 0.5)
        }
        let x = folder + "/\(name).npy", labels = folder + "/\(name).txt"
        var values: [[Float]] = []
        for i in 0..<rows {
            values.append((0..<8).map { j in noise() + (j == 2 ? Float(i % 3) : j == 5 ? Float(i % 3 == 1 ? 2 : 0) : 0) })
        }
        try writeNPY(x, rows: rows, columns: 8) { values[$0][$1] }
        try (0..<rows).map { "c\($0 % 3)" }.joined(separator: "\n").appending("\n").write(toFile: labels, atomically: true, encoding: .utf8)
        return (x, labels)
    }

    func json(_ run: SondeRun) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any], "\(run.stdout)\(run.stderr)")
    }

    @Test func rankFromActivations() throws {
        try withTemporaryFolder { folder in
            let (x, labels) = try write(folder)
            for method in ["iou", "gaussian", "probeless"] {
                let run = try SondeRun("rank", "--method", method, "--train", x, "--train-labels", labels, "--count", "2", "--json")
                #expect(run.status == 0, "\(run.stderr)")
                let selected = try json(run)["selected"] as! [Int]
                #expect(Set(selected.prefix(2)) == [2, 5], "\(method): \(selected)")
            }
            let gaussian = try json(try SondeRun("rank", "--method", "gaussian", "--train", x, "--train-labels", labels, "--count", "3", "--json"))
            #expect((gaussian["heldOutScores"] as! [Double]).count == 3)
            let missing = try SondeRun("rank", "--method", "iou", "--train", x)
            #expect(missing.status == 64 && missing.stderr.contains("iou needs --train and --train-labels"))
            let percentile = try SondeRun("rank", "--method", "iou", "--train", x, "--train-labels", labels, "--percentile", "101")
            #expect(percentile.status == 64 && percentile.stderr.contains("--percentile must be in 0…100"))
        }
    }

    @Test func sparseProbeCurveAndAgreement() throws {
        try withTemporaryFolder { folder in
            let (x, labels) = try write(folder)
            let (dev, devLabels) = try write(folder, rows: 150, name: "dev")
            let run = try SondeRun("sparse-probe", "--train", x, "--train-labels", labels, "--dev", dev, "--dev-labels", devLabels, "--json")
            #expect(run.status == 0, "\(run.stderr)")
            let result = try json(run)["result"] as! [String: Any]
            #expect(result["ks"] as? [Int] == [1, 2, 4, 8])
            let curves = result["curves"] as! [[String: Any]]
            #expect(curves.map { $0["ranker"] as! String } == ["path", "mean-difference", "f-statistic", "lca"])
            for curve in curves {
                let points = curve["points"] as! [[String: Any]]
                let atTwo = points.first { $0["k"] as! Int == 2 }!
                #expect(Set(atTwo["neurons"] as! [Int]) == [2, 5], "\(curve["ranker"]!)")
                #expect((atTwo["accuracy"] as! Double) > 0.95)
            }
            #expect((result["agreement"] as! [[String: Any]]).count == 6)
            let text = try SondeRun("sparse-probe", "--train", x, "--train-labels", labels, "--dev", dev, "--dev-labels", devLabels, "--k", "1,2")
            #expect(text.status == 0 && text.stdout.contains("held-out accuracy by k") && text.stdout.contains("agreement"))
            let bigK = try SondeRun("sparse-probe", "--train", x, "--train-labels", labels, "--dev", dev, "--dev-labels", devLabels, "--k", "9")
            #expect(bigK.status == 64 && bigK.stderr.contains("--k 9: the activations have 8 neurons"))
            let badRanker = try SondeRun("sparse-probe", "--train", x, "--train-labels", labels, "--dev", dev, "--dev-labels", devLabels, "--rankers", "vibes")
            #expect(badRanker.status == 64 && badRanker.stderr.contains("unknown ranker 'vibes'"))
        }
    }

    @Test func eraseFitApplyAndCheck() throws {
        try withTemporaryFolder { folder in
            let (x, labels) = try write(folder)
            let (test, testLabels) = try write(folder, rows: 150, name: "test")
            let eraser = folder + "/e.safetensors"
            let fit = try SondeRun(
                "erase", "fit", "--train", x, "--train-labels", labels, "--test", test, "--test-labels", testLabels, "--out", eraser, "--json")
            #expect(fit.status == 0, "\(fit.stderr)")
            let report = try json(fit)
            #expect(report["rank"] as? Int == 2 && report["method"] as? String == "leace")
            #expect((report["classMeanSpreadAfter"] as! Double) < 1e-4 && (report["classMeanSpreadBefore"] as! Double) > 0.5)
            let check = report["check"] as! [String: Any]
            #expect((check["accuracyBefore"] as! Double) > 0.95 && check["atBaseline"] as? Bool == true)
            let erased = folder + "/erased.npy"
            let apply = try SondeRun("erase", "apply", "--eraser", eraser, x, "--out", erased, "--json")
            let applied = try json(apply)
            #expect(apply.status == 0 && applied["rows"] as? Int == 300)
            // The erased file: a probe on it is at chance (its own fit says so too).
            let again = try json(try SondeRun("erase", "fit", "--train", erased, "--train-labels", labels, "--out", folder + "/e2.safetensors", "--json"))
            #expect((again["classMeanSpreadBefore"] as! Double) < 1e-4)
            let inlp = try json(
                try SondeRun("erase", "fit", "--method", "inlp", "--train", x, "--train-labels", labels, "--out", folder + "/i.safetensors", "--json"))
            #expect((inlp["rounds"] as! [Double]).first! > 0.95 && (inlp["rank"] as! Int) >= 2)
            let wrong = try SondeRun("erase", "apply", "--eraser", x, x, "--out", folder + "/no.npy")
            #expect(wrong.status == 65 && wrong.stderr.contains("not a saved Sonde eraser"))
            #expect(!FileManager.default.fileExists(atPath: folder + "/no.npy"))
        }
    }
}
