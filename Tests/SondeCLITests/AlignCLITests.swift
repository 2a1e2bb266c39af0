import Foundation
import Testing

/// `sonde align` from files: a saved probe's ranking or --neurons, every option, its JSON.
@Suite struct AlignCLITests {
    @Test func aSavedProbeAgainstTwoFiles() throws {
        try withTemporaryFolder { folder in
            // Neurons 0 and 1 carry a signal that Y shares and the labels follow; 2–5 are noise.
            func noise(_ i: Int, _ j: Int) -> Float { Float(sin(Double(i * 13 + j * 7) * 0.731) + cos(Double(i * j + 3) * 0.277)) }
            func signal(_ i: Int) -> Float { Float(sin(Double(i) * 0.05)) * 3 }
            try writeNPY(folder + "/x.npy", rows: 400, columns: 6) { i, j in j < 2 ? signal(i) + 0.3 * noise(i, j) : noise(i, j) }
            try writeNPY(folder + "/y.npy", rows: 400, columns: 4) { i, j in j == 0 ? signal(i) + 0.3 * noise(i, 9) : noise(i, j + 10) }
            try (0..<400).map { signal($0) > 0 ? "up" : "down" }.joined(separator: "\n").write(
                toFile: folder + "/labels.txt", atomically: true, encoding: .utf8)
            let probe = try SondeRun(
                "probe", "--train", folder + "/x.npy", "--train-labels", folder + "/labels.txt", "--lambda", "0.01", "--save", folder + "/p.safetensors",
                "--quiet")
            #expect(probe.status == 0, "\(probe.stderr)")

            let run = try SondeRun("align", folder + "/x.npy", folder + "/y.npy", "--probe", folder + "/p.safetensors", "--top", "2", "--json")
            #expect(run.status == 0, "\(run.stderr)")
            let object = try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as! [String: Any]
            #expect(Set(object["neurons"] as! [Int]) == [0, 1])
            #expect((object["z"] as! Double) > 2 && object["by"] as? String == "loadings" && object["shuffled"] is Double, "\(object)")
            let p = object["probe"] as! [String: Any]
            #expect((p["energy"] as! Double) > (p["energyChance"] as! Double) && p["inKeptComponents"] is Double)

            let text = try SondeRun("align", folder + "/x.npy", folder + "/y.npy", "--neurons", "2,3", "--directions", "all", "--by", "weights")
            #expect(text.status == 0 && text.stdout.contains("alignment by weights") && text.stdout.contains("plain CCA"), "\(text.stdout)")
            let itself = try SondeRun("align", folder + "/x.npy", folder + "/x.npy", "--neurons", "0", "--directions", "all", "--json")
            let same = try JSONSerialization.jsonObject(with: Data(itself.stdout.utf8)) as! [String: Any]
            #expect(same["degenerate"] as? Bool == true && same["z"] == nil)

            let bad = try SondeRun("align", folder + "/x.npy", folder + "/y.npy", "--neurons", "9")
            #expect(bad.status == 64 && bad.stderr.contains("not a neuron of X"), "\(bad.stderr)")
            let wrongProbe = try SondeRun("align", folder + "/y.npy", folder + "/x.npy", "--probe", folder + "/p.safetensors")
            #expect(wrongProbe.status == 65 && wrongProbe.stderr.contains("fitted on 6 neurons"), "\(wrongProbe.stderr)")
        }
    }
}
