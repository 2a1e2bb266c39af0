import Foundation
import SondeBase
import SondeLinalg
import SondeProbe
import SondeSimilarity
import Testing

@testable import SondeReport
@testable import SondeStudy

/// The studies the commands present, on small synthetic data: similarity, neuron selections,
/// probe inputs from files, ablation.
struct StudyTypesTests {
    let folder: String = {
        let path = NSTemporaryDirectory() + "sonde-study-types-\(UUID().uuidString)"
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }()

    /// X (n × 4) Gaussian; Y = X rotated in its first two neurons plus one unrelated neuron.
    func pair(n: Int = 400) -> (Matrix<Float>, Matrix<Float>) {
        var g = SplitMix64(seed: 5)
        func normal() -> Float { Float(g.normal()) }
        let x = Matrix(rows: n, columns: 4, elements: (0..<(n * 4)).map { _ in normal() })
        var y = Matrix<Float>(rows: n, columns: 3, elements: Array(repeating: 0, count: n * 3))
        for i in 0..<n {
            y[i, 0] = 0.6 * x[i, 0] - 0.8 * x[i, 1]
            y[i, 1] = 0.8 * x[i, 0] + 0.6 * x[i, 1]
            y[i, 2] = normal()
        }
        return (x, y)
    }

    @Test func similarityAgainstClosedForms() throws {
        let (x, y) = pair()
        let result = try SimilarityStudy.run(
            x: x, y: y, names: ("x", "y"), settings: .init(measures: [.cca, .cka], baseline: 2), directions: folder + "/d.safetensors")
        // CCA: two directions shared exactly (ρ = 1), the rest unrelated; mean over min(4, 3) = 3 pairs.
        let cca = try #require(result.measures["cca"])
        guard case .numbers(let rho)? = cca.details["coefficients"] else { Issue.record("no coefficients"); return }
        #expect(rho.count == 3 && abs(rho[0] - 1) < 1e-6 && abs(rho[1] - 1) < 1e-6 && rho[2] < 0.3)
        // Linear CKA brute force: ‖YcᵀXc‖²_F / (‖XcᵀXc‖_F ‖YcᵀYc‖_F), centred, in Double.
        func centred(_ m: Matrix<Float>) -> [[Double]] {
            (0..<m.columns).map { c in
                let col = (0..<m.rows).map { Double(m[$0, c]) }
                let mean = col.reduce(0, +) / Double(m.rows)
                return col.map { $0 - mean }
            }
        }
        func gramNorm(_ a: [[Double]], _ b: [[Double]]) -> Double {
            a.reduce(0) { s, u in
                b.reduce(s) { t, v in
                    let d = zip(u, v).reduce(0) { $0 + $1.0 * $1.1 }; return t + d * d
                }
            }
        }
        let (cx, cy) = (centred(x), centred(y))
        let cka = gramNorm(cx, cy) / (gramNorm(cx, cx).squareRoot() * gramNorm(cy, cy).squareRoot())
        #expect(abs(result.measures["cka"]!.value - cka) < 1e-9)
        // Shuffled pairings destroy the relation: their CKA is far below the real one.
        #expect(result.measures["cka"]!.baseline! < 0.1 && result.measures["cka-debiased"] != nil && result.baselineSeeds == 2)
        #expect(result.measures["svcca"] == nil)
        let noBaseline = try SimilarityStudy.run(x: x, y: y, names: ("x", "y"), settings: .init(measures: [.procrustes], baseline: 0))
        #expect(noBaseline.measures["procrustes"]!.baseline == nil)
        #expect(throws: StudyError.self) { try SimilarityStudy.run(x: x, y: y.rows(0..<10), names: ("x", "y"), settings: .init()) }
    }

    @Test func svccaDirectionsFile() throws {
        let (x, y) = pair()
        let path = folder + "/directions.safetensors"
        let result = try SimilarityStudy.run(
            x: x, y: y, names: ("x", "y"), settings: .init(measures: [.svcca], keep: .dimensions(2), baseline: 0), directions: path)
        let file = try TensorCollection.read(path)
        #expect(file["directions_x"]!.shape == [2, 4] && file["variates_y"]!.shape == [400, 2] && file.metadata["x"] == "x")
        // Canonical variates have unit variance and pair up with the correlations.
        let vx = try file["variates_x"]!.matrix(), vy = try file["variates_y"]!.matrix()
        let rho = file["correlations"]!.doubles()
        for k in 0..<2 {
            let a = vx.column(k).map(Double.init), b = vy.column(k).map(Double.init)
            let r = zip(a, b).reduce(0) { $0 + $1.0 * $1.1 } / Double(a.count - 1)
            #expect(abs(r - rho[k]) < 1e-3)
        }
        #expect(abs(result.measures["svcca"]!.value - rho.reduce(0, +) / 2) < 1e-9)
    }

    @Test func neuronSelections() throws {
        let planted = PlantedData(samples: 600, neurons: 10, classes: 3, planted: 2, copies: 0, seed: 3)
        let probe = FittedProbe.fit(planted.dataset, settings: ProbeSettings(penalty: .elasticNet(lambda: 0.02, alpha: 0.9)))
        let ordering = try NeuronSelection.select(.ordering, probe: probe)
        #expect(Set(ordering.selected.prefix(2)) == Set(planted.planted))
        #expect(Set(ordering.selected + ordering.unranked!).count == 10 && ordering.selected.count + ordering.unranked!.count == 10)
        let random = try NeuronSelection.select(.random, probe: probe, count: 50, seed: 4)
        #expect(random.selected.count == 10 && Set(random.selected).count == 10)
        let top = try NeuronSelection.select(.top, probe: probe, className: probe.classes[1])
        #expect(top.perClass?.keys.sorted() == [probe.classes[1]])
        #expect(throws: StudyError.self) { try NeuronSelection.select(.top, probe: probe, className: "no such class") }
        #expect(try NeuronSelection.rank(.probeless, data: planted.dataset).selected.count == 10)
    }

    /// Activations and labels from files, as a user gives them: split assembly and its checks.
    @Test func probeInputsFromFiles() throws {
        let planted = PlantedData(samples: 300, neurons: 6, classes: 3, planted: 2, copies: 0, seed: 8)
        let d = planted.dataset
        func write(_ name: String, _ rows: Range<Int>, columns: Int = 6) throws -> ProbeInputs.Source {
            let x = d.x.rows(rows)
            try Safetensors.write(
                [
                    TensorPayload(
                        name: "layer1", shape: [rows.count, columns], dtype: .float32, values: .float(Array(x.elements.prefix(rows.count * columns))))
                ],
                metadata: [:], to: folder + "/\(name).safetensors")
            try rows.map { d.classes[d.labels[$0]] }.joined(separator: "\n").write(
                toFile: folder + "/\(name).label", atomically: true, encoding: .utf8)
            return .init(activations: folder + "/\(name).safetensors", labels: folder + "/\(name).label")
        }
        let inputs = ProbeInputs(
            train: try write("train", 0..<200), dev: try write("dev", 200..<250), test: try write("test", 250..<300), layer: "1", property: nil,
            mapping: nil)
        let splits = try inputs.load()
        #expect(splits.map(\.name) == ["train", "dev", "test"] && splits.allSatisfy { $0.data.classes == splits[0].data.classes })
        #expect(splits[2].data.x.elements == d.x.rows(250..<300).elements)
        let narrow = ProbeInputs(
            train: try write("train", 0..<200), dev: try write("narrow", 200..<250, columns: 5), test: nil, layer: "1", property: nil, mapping: nil)
        #expect(throws: StudyError.self) { try narrow.load() }
        try Array(repeating: "A", count: 200).joined(separator: "\n").write(toFile: folder + "/one.label", atomically: true, encoding: .utf8)
        let oneClass = ProbeInputs(
            train: .init(activations: folder + "/train.safetensors", labels: folder + "/one.label"), dev: nil, test: nil, layer: "1", property: nil,
            mapping: nil)
        #expect(throws: StudyError.self) { try oneClass.load() }
    }

    @Test func ablationKeepsThePlantedNeurons() throws {
        let planted = PlantedData(samples: 900, neurons: 12, classes: 3, planted: 2, copies: 0, seed: 6)
        let d = planted.dataset
        let splits = [("train", 0..<600), ("dev", 600..<750), ("test", 750..<900)].map { name, rows in
            ProbeStudy.Split(name: name, data: ProbeDataset(x: d.x.rows(rows), labels: Array(d.labels[rows]), classes: d.classes), words: nil)
        }
        let settings = ProbeSettings(penalty: .elasticNet(lambda: 0.01, alpha: 0.5))
        let result = try AblationStudy.run(
            splits, probe: nil, probeSettings: settings, settings: .init(counts: [2], fills: [.zero], seeds: 3, minimalDelta: 0.02))
        #expect(result.evaluatedOn == "test" && result.neurons == 12)
        func point(_ kind: Ablation.Kind, _ s: Ablation.Selection) -> Double {
            result.points.first { $0.kind == kind && $0.selection == s }!.accuracy
        }
        // Keeping the two planted neurons keeps most of the accuracy; removing them loses it.
        #expect(point(.keep, .top) > point(.keep, .bottom) + 0.2 && point(.remove, .top) < point(.remove, .bottom) - 0.2)
        let minimal = try #require(result.minimal)
        #expect(minimal.reached && minimal.neurons <= 4)
        #expect(throws: StudyError.self) {
            try AblationStudy.run(Array(splits.prefix(1)), probe: nil, probeSettings: settings, settings: .init(counts: [2], minimalDelta: 0.01))
        }
    }
}

/// A degenerate value (NaN, infinity) leaves a gap in a chart, never a NaN coordinate.
@Suite struct DegenerateChartTests {
    @Test func nonFiniteValuesAreLeftOut() {
        let line = Chart.lineChart(
            x: ["0", "1", "2"], series: [("a", [0.5, .nan, 0.7]), ("b", [.infinity, 0.2, 0.3])], spread: [[0.1, 0.1, .nan]], yLabel: "y", xLabel: "x")
        let bars = Chart.barChart(labels: ["a", "b"], values: [.nan, 1], yLabel: "y", xLabel: "x")
        for svg in [line, bars] {
            #expect(!svg.lowercased().contains("nan") && !svg.contains("inf"), "\(svg)")
        }
        #expect(line.contains("<circle") && bars.contains("<rect"))
    }
}
