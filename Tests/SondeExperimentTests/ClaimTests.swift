import Foundation
import SondeStudy
import Testing

@testable import SondeExperiment

/// The claim evaluator on made-up results: each kind holds, does not hold and is undecided
/// where it should; the file's claims are checked against what the study computes.
struct ClaimTests {
    /// Results of a made-up study: properties "a" and "b" on layer1 over three checkpoints
    /// (steps 0, 10, 20), with the given probe accuracies and SVCCA values, and a final probe
    /// per property with its spread over seeds.
    func results(accuracy: [String: [Double]], svcca: [Double], cka: [Double], final: [String: (Double, Double)]) throws -> ExperimentResults {
        let steps = ["step-0", "step-10", "step-20"]
        func row(_ property: String, _ i: Int) -> [String: Any] {
            [
                "checkpoint": steps[i], "layer": "layer1", "property": property, "svccaDirections": [2, 2], "probeAccuracy": accuracy[property]![i],
                "controlAccuracy": 0.1, "selectivity": accuracy[property]![i] - 0.1, "jaccardAtK": 1, "rankCorrelation": 1, "alignment": 0.5,
                "alignmentChance": 0.5, "alignmentNullSD": 0, "alignmentDirections": 2, "probeCorrelation": 0.5, "probeCorrelationChance": 0.5,
                "probeEnergy": 0.5, "probeEnergyChance": 0.5, "probeEnergyInKept": 1, "probeEnergyInKeptChance": 1, "concentration": 0.3,
                "svcca": svcca[i], "cka": cka[i],
            ]
        }
        func property(_ name: String) -> [String: Any] {
            [
                "property": name, "bestLayer": "layer1", "topNeurons": [0], "topWeights": [1.0],
                "layers": [
                    [
                        "layer": "layer1", "accuracy": final[name]!.0, "accuracySD": final[name]!.1, "selectivity": 0.1, "selectivitySD": 0,
                        "majority": 0.2, "ranking": [0], "warnings": [String](),
                    ]
                ],
                "dynamics": ["rows": (0..<3).map { row(name, $0) }, "layers": ["layer1"], "layerCKA": [String: [[Double]]]()],
            ]
        }
        let experiment = try JSONEncoder().encode(try Experiment.parse("output = \"o\"\n[corpus]\npaths = [\"c.conllu\"]\n", path: "e.toml", folder: "/"))
        let json: [String: Any] = [
            "version": "test", "experiment": try JSONSerialization.jsonObject(with: experiment), "inputHashes": [String: String](),
            "checkpoints": [Any](), "checkpointNames": steps, "properties": [property("a"), property("b")], "warnings": [String](),
        ]
        return try JSONDecoder().decode(ExperimentResults.self, from: try JSONSerialization.data(withJSONObject: json))
    }

    func verdict(_ kind: Claim.Kind, _ quantities: [String], _ r: ExperimentResults, tolerance: Double = 0.01) throws -> [ClaimResult.Verdict] {
        try Claim(claim: "test", kind: kind, quantities: quantities, tolerance: tolerance).evaluate(r).map(\.verdict)
    }

    @Test func eachKindHoldsFailsAndIsUndecided() throws {
        // a is learned by step 10 (0.2 → 0.8 → 0.82), b only at step 20 (0.2 → 0.3 → 0.7); c
        // (as b's SVCCA) rises, CKA falls.
        let r = try results(
            accuracy: ["a": [0.2, 0.8, 0.82], "b": [0.2, 0.3, 0.7]], svcca: [0.5, 0.6, 0.9], cka: [0.9, 0.6, 0.5],
            final: ["a": (0.82, 0.01), "b": (0.70, 0.01)])
        #expect(try verdict(.earlier, ["accuracy a layer1", "accuracy b layer1"], r) == [.holds])
        #expect(try verdict(.earlier, ["accuracy b layer1", "accuracy a layer1"], r) == [.doesNotHold])
        #expect(try verdict(.earlier, ["accuracy a layer1", "accuracy a layer1"], r) == [.undecided])
        // A series that changes by no more than the tolerance was learned before the first
        // checkpoint or never: a comparison with it is undecided.
        #expect(try verdict(.earlier, ["accuracy a layer1", "accuracy b layer1"], r, tolerance: 0.55) == [.undecided])
        #expect(try verdict(.earlier, ["accuracy b layer1", "accuracy a layer1"], r, tolerance: 0.55) == [.undecided])
        #expect(try verdict(.earlier, ["accuracy a layer1", "accuracy b layer1"], r, tolerance: 0.9) == [.undecided])
        let learned = try Claim(claim: "t", kind: .earlier, quantities: ["accuracy a layer1", "accuracy b layer1"]).evaluate(r)[0]
        #expect(learned.measured == [10, 20])

        #expect(try verdict(.rises, ["similarity svcca layer1"], r) == [.holds])
        #expect(try verdict(.falls, ["similarity svcca layer1"], r) == [.doesNotHold])
        #expect(try verdict(.rises, ["similarity svcca layer1"], r, tolerance: 0.5) == [.undecided])
        // Every measure in the results, one verdict each (registry order).
        let each = try Claim(claim: "t", kind: .rises, quantities: ["similarity * layer1"]).evaluate(r)
        #expect(each.map(\.quantities) == [["similarity svcca layer1"], ["similarity cka layer1"]] && each.map(\.verdict) == [.holds, .doesNotHold])

        // Two numbers with the seeds' spread: 0.70 ± 0.01 against 0.82 ± 0.01 differ by 0.12.
        #expect(try verdict(.lowerThan, ["final-accuracy b layer1", "final-accuracy a layer1"], r) == [.holds])
        #expect(try verdict(.higherThan, ["final-accuracy b layer1", "final-accuracy a layer1"], r) == [.doesNotHold])
        #expect(try verdict(.lowerThan, ["final-accuracy b layer1", "final-accuracy a layer1"], r, tolerance: 0.2) == [.undecided])
        let close = try results(
            accuracy: ["a": [0.2, 0.8, 0.82], "b": [0.2, 0.3, 0.7]], svcca: [0.5, 0.6, 0.9], cka: [0.9, 0.6, 0.5],
            final: ["a": (0.75, 0.05), "b": (0.70, 0.05)])
        // 0.05 apart, spread √(0.05² + 0.05²) ≈ 0.071: undecided.
        #expect(try verdict(.lowerThan, ["final-accuracy b layer1", "final-accuracy a layer1"], close) == [.undecided])
        #expect(try verdict(.lowerThan, ["final-accuracy b layer1", "value 0.9"], r) == [.holds])
        #expect(try verdict(.higherThan, ["accuracy a layer1", "value 0.9"], r) == [.doesNotHold])
        // A series at one checkpoint: a at step-10 (0.8) above b (0.3); every measure at step-10.
        #expect(try verdict(.higherThan, ["accuracy a layer1 at step-10", "accuracy b layer1 at step-10"], r) == [.holds])
        let at = try Claim(claim: "t", kind: .higherThan, quantities: ["similarity * layer1 at step-10", "value 0.595"]).evaluate(r)
        #expect(at.map(\.measured) == [[0.6, 0.595], [0.6, 0.595]] && at.map(\.verdict) == [.undecided, .undecided])
        #expect(throws: StudyError.self) { try verdict(.lowerThan, ["accuracy a layer1 at step-5", "value 1"], r) }
        // A quantity the results do not hold is an error, not a verdict; among a study's claims
        // it is an undecided verdict that says why, beside the others' verdicts.
        #expect(throws: StudyError.self) { try verdict(.rises, ["accuracy a layer7"], r) }
        let all = Claim.verdicts(
            [Claim(claim: "x", kind: .rises, quantities: ["accuracy a layer7"]), Claim(claim: "y", kind: .rises, quantities: ["accuracy a layer1"])], on: r)
        #expect(all.map(\.verdict) == [.undecided, .holds] && all[0].measured.isEmpty && all[0].reason.contains("no layer 'layer7'"))
        // Results name the quantities as evaluated, one space apart, whatever the file's spacing.
        let spaced = try Claim(claim: "t", kind: .rises, quantities: ["similarity  *  layer1"]).evaluate(r)
        #expect(spaced.map(\.quantities) == [["similarity svcca layer1"], ["similarity cka layer1"]])
        #expect(try Claim(claim: "t", kind: .lowerThan, quantities: ["final-accuracy b layer1", "value 1"]).evaluate(r)[0].quantities == ["final-accuracy b layer1", "value 1"])
    }

    @Test func claimsAreCheckedWhenTheFileIsRead() {
        let good = "output = \"out\"\n[corpus]\npaths = [\"c.conllu\"]\n[probe]\nproperties = [\"upos\", \"genre\"]\n"
        let claim = "[[claims]]\nclaim = \"POS before topic\"\nkind = \"earlier\"\n"
        let parsed = try? Experiment.parse(good + claim + "quantities = [\"accuracy upos layer1\", \"accuracy genre layer1\"]\n", path: "x.toml", folder: "/")
        #expect(parsed?.claims?.first?.kind == .earlier && parsed?.claims?.first?.tolerance == 0.01)
        func expectError(_ text: String, _ message: String) {
            #expect { _ = try Experiment.parse(text, path: "x.toml", folder: "/") } throws: { "\($0)".contains(message) }
        }
        expectError(good + claim + "quantities = [\"accuracy deprel layer1\", \"accuracy genre layer1\"]\n", "x.toml:9: claims[0].quantities: property 'deprel' is not among")
        expectError(good + claim + "quantities = [\"accuracy upos layer5\", \"accuracy genre layer1\"]\n", "claims[0].quantities: the LSTM has states layer0…layer2, not layer5")
        expectError(good + claim + "quantities = [\"accuracy upos layer1\"]\n", "claims[0].quantities: 'earlier' takes a list of 2 quantities")
        expectError(good + claim + "quantities = [\"final-accuracy upos layer1\", \"accuracy genre layer1\"]\n", "is one number; 'earlier' compares series")
        expectError(good + claim + "quantities = [\"similarity rsa layer1\", \"accuracy genre layer1\"]\n", "does not compute 'rsa'")
        expectError(good + claim + "quantities = [\"salient-layer upos\", \"salient-layer upos fine-tuned\"]\n", "needs a fine-tuned copy")
        expectError(good + "[[claims]]\nclaim = \"x\"\nkind = \"sooner\"\n", "x.toml:8: claims[0].kind: expected one of earlier, rises")
        expectError(good + "[[claims]]\nclaim = \"x\"\nkind = \"rises\"\nquantities = [\"accuracy upos layer1\"]\ncolour = 1\n", "claims[0].colour: unknown key")
    }
}
