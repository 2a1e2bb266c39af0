import Foundation
import SondeBase
import SondeLinalg
import Testing

@testable import SondeProbe

/// Concept erasure: LEACE against its closed form computed separately in Double
/// (benchmarks/references/erasure_rankers_reference.py, checked there against EleutherAI's
/// `concept-erasure` 0.2.4 with shrinkage off), its guarantees (equal class means, a probe at
/// the majority baseline, the least change, basis independence), INLP's orthogonality, and the
/// eraser file.
struct ErasureTests {
    /// The reference's problem: x[i][j] = sin(0.7(i+1)(j+1)) + 0.3cos(1.3i + 0.5j²) + 0.8[i%3 == j%3]
    /// rounded to Float, n = 12, d = 4, labels i % 3.
    static func reference(duplicateColumn: Bool = false) -> ProbeDataset {
        var x = Matrix<Float>(rows: 12, columns: 4)
        for i in 0..<12 {
            for j in 0..<4 {
                let (a, b) = (Double(i), Double(j))
                x[i, j] = Float(sin(0.7 * (a + 1) * (b + 1)) + 0.3 * cos(1.3 * a + 0.5 * b * b) + (i % 3 == j % 3 ? 0.8 : 0))
            }
            if duplicateColumn { x[i, 3] = x[i, 0] }
        }
        return ProbeDataset(x: x, labels: (0..<12).map { $0 % 3 }, classes: ["a", "b", "c"])
    }

    // Printed by the reference script (numpy, Double).
    static let leaceEraser: [[Double]] = [[0.4779209804250298, 0.31780438100867253, 0.07094958975830108, 0.4683577185943924], [0.34593440895283567, 0.2695468748904683, -0.5385376858755916, 0.3258241932187017], [0.01656374940325253, -0.05293460524974369, 0.9572338205057066, 0.03757785045079099], [0.29549604814474545, 0.1793746683728591, 0.29950521947867415, 0.2952983241787973]]  // E = W+ P W, r(x) = x - E (x - mu)
    static let leaceBias: [Double] = [0.5023951965073744, 0.3102980454374726, 0.2298190842072169, 0.33717166632413864]
    static let leaceClassMeans: [[Double]] = [[0.5023951965073735, 0.31029804543747247, 0.22981908420721628, 0.3371716663241379], [0.5023951965073745, 0.3102980454374719, 0.2298190842072177, 0.3371716663241397], [0.5023951965073752, 0.31029804543747336, 0.22981908420721664, 0.33717166632413825]]
    static let leaceEraserDuplicateColumn: [[Double]] = [[0.38774813227494215, 0.30124835384554666, 0.1861217556950519, 0.38774813227494215], [0.2764748686212396, 0.25802928058344665, -0.45841542770033866, 0.2764748686212395], [0.020219587138879256, -0.05426294871051174, 0.9664744548666679, 0.02021958713887938], [0.38774813227494215, 0.3012483538455466, 0.18612175569505202, 0.38774813227494215]]
    static let leaceClassMeansDuplicateColumn: [[Double]] = [[0.5023951965073749, 0.3102980454374733, 0.22981908420721642, 0.5023951965073747], [0.5023951965073747, 0.3102980454374723, 0.22981908420721742, 0.502395196507375], [0.5023951965073736, 0.31029804543747197, 0.22981908420721675, 0.5023951965073735]]

    func worst(_ a: Matrix<Double>, _ b: [[Double]]) -> Double {
        zip(a.elements, b.flatMap { $0 }).map { abs($0 - $1) }.max() ?? .infinity
    }

    func classMeans(_ x: Matrix<Float>, _ labels: [Int], classes: Int) -> [[Double]] {
        (0..<classes).map { c in
            let rows = labels.indices.filter { labels[$0] == c }
            return (0..<x.columns).map { j in rows.reduce(0.0) { $0 + Double(x[$1, j]) } / Double(rows.count) }
        }
    }

    @Test func leaceMatchesTheClosedForm() throws {
        let data = Self.reference()
        let eraser = try ConceptEraser.leace(data)
        #expect(eraser.rank == 2)
        #expect(worst(eraser.map, Self.leaceEraser) < 1e-9, "E differs by \(worst(eraser.map, Self.leaceEraser))")
        #expect(zip(eraser.mean, Self.leaceBias).allSatisfy { abs($0 - $1) < 1e-12 })
        // Applied in Float: every class mean is the overall mean (to Float rounding).
        let means = classMeans(eraser.apply(data.x), data.labels, classes: 3)
        #expect(zip(means.flatMap { $0 }, Self.leaceClassMeans.flatMap { $0 }).allSatisfy { abs($0 - $1) < 1e-6 })
    }

    /// A covariance of rank 3 (a column repeated): the null direction is left alone.
    @Test func leaceOnASingularCovariance() throws {
        let data = Self.reference(duplicateColumn: true)
        let eraser = try ConceptEraser.leace(data)
        #expect(worst(eraser.map, Self.leaceEraserDuplicateColumn) < 1e-8, "E differs by \(worst(eraser.map, Self.leaceEraserDuplicateColumn))")
        let means = classMeans(eraser.apply(data.x), data.labels, classes: 3)
        #expect(zip(means.flatMap { $0 }, Self.leaceClassMeansDuplicateColumn.flatMap { $0 }).allSatisfy { abs($0 - $1) < 1e-6 })
    }

    /// Fitting on XQ for an orthogonal Q erases (XQ) as the eraser fitted on X erases X, then Q.
    @Test func leaceCommutesWithAnOrthogonalChangeOfBasis() throws {
        let planted = PlantedData(samples: 600, neurons: 12, classes: 3, planted: 2, seed: 4)
        var random = SplitMix64(seed: 9)
        let gaussian = Matrix<Double>(rows: 12, columns: 12, elements: (0..<144).map { _ in random.normal() })
        let q = try gaussian.qr().q.converted(to: Float.self)
        let rotated = ProbeDataset(x: .product(planted.dataset.x, q), labels: planted.dataset.labels, classes: planted.dataset.classes)
        let direct = Matrix<Float>.product(try ConceptEraser.leace(planted.dataset).apply(planted.dataset.x), q)
        let viaRotation = try ConceptEraser.leace(rotated).apply(rotated.x)
        let gap = zip(direct.elements, viaRotation.elements).map { abs($0 - $1) }.max()!
        #expect(gap < 1e-3, "erasing in the rotated basis differs by \(gap)")
    }

    /// The guarantee that matters: a probe trained on erased rows does no better than the
    /// majority class on held-out erased rows, where it did well before.
    @Test func aProbeAfterLEACEIsAtTheMajorityBaseline() throws {
        let all = PlantedData(samples: 3000, neurons: 20, classes: 3, planted: 3, seed: 2).dataset
        let (train, test) = (0..<2000, 2000..<3000)
        let trainData = ProbeDataset(x: all.x.rows(train), labels: Array(all.labels[train]), classes: all.classes)
        let testLabels = Array(all.labels[test])
        let eraser = try ConceptEraser.leace(trainData)
        let settings = ProbeSettings(penalty: .elasticNet(lambda: 1e-4, alpha: 0.5))
        let before = FittedProbe.fit(trainData, settings: settings).evaluate(ProbeDataset(x: all.x.rows(test), labels: testLabels, classes: all.classes))
        let erasedTrain = ProbeDataset(x: eraser.apply(trainData.x), labels: trainData.labels, classes: all.classes)
        let after = FittedProbe.fit(erasedTrain, settings: settings)
            .evaluate(ProbeDataset(x: eraser.apply(all.x.rows(test)), labels: testLabels, classes: all.classes))
        let majorityClass = trainData.classCounts.indices.max { trainData.classCounts[$0] < trainData.classCounts[$1] }!
        let baseline = Double(testLabels.filter { $0 == majorityClass }.count) / Double(testLabels.count)
        #expect(before.accuracy > baseline + 0.3)
        #expect(abs(after.accuracy - baseline) <= 0.02, "after LEACE \(after.accuracy), majority \(baseline)")
    }

    /// LEACE changes the data least: the orthogonal projection that removes the span of the
    /// class-mean differences also equalises the class means, and moves the rows at least as far
    /// (mean squared Euclidean change).
    @Test func leaceIsTheLeastChange() throws {
        let data = PlantedData(samples: 800, neurons: 10, classes: 3, planted: 2, seed: 7).dataset
        let leace = try ConceptEraser.leace(data)
        let means = classMeans(data.x, data.labels, classes: 3)
        let overall = data.x.columnStatistics().means
        var directions: [[Double]] = []
        for m in means { ConceptEraser.addDirection(zip(m, overall).map { $0 - $1 }, to: &directions) }
        let projection = ConceptEraser(method: .random, mean: overall, map: ConceptEraser.projection(onto: directions, 10), rank: directions.count)
        func change(_ e: ConceptEraser) -> Double {
            let erased = e.apply(data.x)
            return zip(erased.elements, data.x.elements).reduce(0.0) { $0 + Double($1.0 - $1.1) * Double($1.0 - $1.1) } / Double(data.count)
        }
        let projected = classMeans(projection.apply(data.x), data.labels, classes: 3)
        #expect(zip(projected.flatMap { $0 }, (0..<3).flatMap { _ in overall }).allSatisfy { abs($0 - $1) < 1e-4 })
        #expect(change(leace) <= change(projection) * (1 + 1e-6), "LEACE \(change(leace)), projection \(change(projection))")
    }

    @Test func inlpRemovesOrthogonalDirectionsUntilTheProbeIsAtBaseline() throws {
        let data = PlantedData(samples: 1500, neurons: 16, classes: 3, planted: 2, seed: 3).dataset
        let settings = ProbeSettings(penalty: .elasticNet(lambda: 1e-3, alpha: 0.5))
        let (eraser, rounds) = try ConceptEraser.inlp(data, iterations: 12, settings: settings)
        #expect(rounds.first! > 0.8 && eraser.rank >= 2)
        // E = QQᵀ with orthonormal Q: symmetric and idempotent to 1e-6.
        let squared = Matrix<Double>.product(eraser.map, eraser.map)
        #expect(zip(squared.elements, eraser.map.elements).allSatisfy { abs($0 - $1) < 1e-6 })
        #expect(zip(eraser.map.elements, eraser.map.transposed().elements).allSatisfy { abs($0 - $1) < 1e-12 })
        let trace = (0..<16).reduce(0.0) { $0 + eraser.map[$1, $1] }
        #expect(abs(trace - Double(eraser.rank)) < 1e-6)
        let majority = Double(data.classCounts.max()!) / Double(data.count)
        let after = FittedProbe.fit(ProbeDataset(x: eraser.apply(data.x), labels: data.labels, classes: data.classes), settings: settings)
        #expect(after.evaluate(ProbeDataset(x: eraser.apply(data.x), labels: data.labels, classes: data.classes)).accuracy < majority + 0.05)
    }

    @Test func randomErasersAreOrthogonalProjectionsOfTheirRank() {
        let eraser = ConceptEraser.random(neurons: 9, rank: 4, seed: 5)
        let squared = Matrix<Double>.product(eraser.map, eraser.map)
        #expect(zip(squared.elements, eraser.map.elements).allSatisfy { abs($0 - $1) < 1e-12 })
        #expect(abs((0..<9).reduce(0.0) { $0 + eraser.map[$1, $1] } - 4) < 1e-12)
    }

    @Test func eraserFilesRoundTripAndRefuseOthers() throws {
        let folder = NSTemporaryDirectory() + "sonde-eraser-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let eraser = try ConceptEraser.leace(Self.reference())
        try eraser.write(to: folder + "/e.safetensors")
        let read = try ConceptEraser.read(folder + "/e.safetensors")
        #expect(read.map.elements == eraser.map.elements && read.mean == eraser.mean && read.rank == 2 && read.method == .leace)
        try Safetensors.write([TensorPayload(name: "map", shape: [2], dtype: .float64, values: .double([1, 2]))], to: folder + "/other.safetensors")
        #expect { try ConceptEraser.read(folder + "/other.safetensors") } throws: { "\($0)".contains("not a saved Sonde eraser") }
    }
}
