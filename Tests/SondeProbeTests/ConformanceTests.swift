import Foundation
import SondeLinalg
import Testing

@testable import SondeProbe

/// What every probe mode must do, whatever the data (scikit-learn's `check_estimator` idea):
/// the same fit twice, inputs untouched, sane on degenerate data, indifferent to row order.
/// Tolerances, not bit equality: parallel tests change OpenBLAS's thread count and so the order
/// of its Float sums.
struct ProbeConformanceTests {
    enum Mode: String, CaseIterable, CustomStringConvertible {
        case elasticNet, lasso, ridgeLike, unstandardized, neurox
        var description: String { rawValue }
        var settings: ProbeSettings {
            switch self {
            case .elasticNet: return ProbeSettings(penalty: .elasticNet(lambda: 0.01, alpha: 0.5), tolerance: 1e-5)
            case .lasso: return ProbeSettings(penalty: .elasticNet(lambda: 0.01, alpha: 1), tolerance: 1e-5)
            case .ridgeLike: return ProbeSettings(penalty: .elasticNet(lambda: 0.01, alpha: 0.05), tolerance: 1e-5)
            case .unstandardized: return ProbeSettings(penalty: .elasticNet(lambda: 0.01, alpha: 0.5), standardize: false, tolerance: 1e-5)
            case .neurox: return .neurox(l1: 1e-3, l2: 1e-3)
            }
        }
    }

    let data = PlantedData(samples: 600, neurons: 10, classes: 3, planted: 3, copies: 1, seed: 5).dataset

    /// Weights and intercepts equal to `tolerance` × the largest weight. Intercepts are compared
    /// after removing their mean: the softmax does not change when every class's intercept moves
    /// by the same amount, so only their differences are determined.
    func close(_ a: FittedProbe, _ b: FittedProbe, _ tolerance: Double) -> Bool {
        let scale = max(a.weights.elements.map(abs).max() ?? 0, 1)
        func centred(_ v: [Double]) -> [Double] { let m = v.reduce(0, +) / Double(v.count); return v.map { $0 - m } }
        return zip(a.weights.elements, b.weights.elements).allSatisfy { abs($0 - $1) <= tolerance * scale }
            && zip(centred(a.intercepts), centred(b.intercepts)).allSatisfy { abs($0 - $1) <= tolerance * scale }
    }

    @Test(arguments: Mode.allCases)
    func deterministicAndNonMutating(mode: Mode) {
        let before = (data.x, data.labels, data.classes)
        let a = FittedProbe.fit(data, settings: mode.settings)
        let b = FittedProbe.fit(data, settings: mode.settings)
        #expect(close(a, b, 1e-6) && a.diagnostics.converged == b.diagnostics.converged)
        #expect(data.x == before.0 && data.labels == before.1 && data.classes == before.2)
        // Converged to the default tolerance at least (1e-5 sits at the Float gradient's floor).
        #expect(a.weights.elements.allSatisfy(\.isFinite) && a.diagnostics.kktViolation < 1e-4, "\(a.diagnostics)")
    }

    /// Rows in another order: the same optimum (to what the KKT tolerance pins down).
    @Test(arguments: Mode.allCases)
    func rowOrderDoesNotMatter(mode: Mode) {
        let order = (0..<data.count).map { ($0 * 389) % data.count }  // a permutation (389 is coprime to 600)
        let shuffled = ProbeDataset(x: data.x.rows(order), labels: order.map { data.labels[$0] }, classes: data.classes)
        let a = FittedProbe.fit(data, settings: mode.settings), b = FittedProbe.fit(shuffled, settings: mode.settings)
        #expect(abs(a.diagnostics.objective - b.diagnostics.objective) <= 1e-6 * a.diagnostics.objective)
        #expect(close(a, b, 1e-3), "row order changed the weights")
        #expect(a.predict(data.x) == b.predict(data.x) || zip(a.predict(data.x), b.predict(data.x)).filter { $0 != $1 }.count <= 3)
    }

    @Test(arguments: Mode.allCases)
    func saneOnDegenerateData(mode: Mode) {
        // One class: the constant model, at once.
        let one = ProbeDataset(x: data.x, labels: Array(repeating: 0, count: data.count), classes: ["only"])
        let single = FittedProbe.fit(one, settings: mode.settings)
        #expect(single.diagnostics.converged && single.diagnostics.nonzeroNeurons == 0 && single.predict(data.x).allSatisfy { $0 == 0 })
        // Constant columns beside informative ones carry no weight.
        var x = data.x
        for r in 0..<x.rows { x[r, 2] = 4; x[r, 7] = -1 }
        let constant = FittedProbe.fit(ProbeDataset(x: x, labels: data.labels, classes: data.classes), settings: mode.settings)
        #expect((0..<3).allSatisfy { constant.weights[$0, 2] == 0 && constant.weights[$0, 7] == 0 } && constant.diagnostics.constantNeurons == 2)
        // More neurons than rows: finite and converged.
        let wide = ProbeDataset(x: data.x.rows(0..<8), labels: Array(data.labels[0..<8]), classes: data.classes)
        let w = FittedProbe.fit(wide, settings: mode.settings)
        #expect(w.weights.elements.allSatisfy(\.isFinite) && w.intercepts.allSatisfy(\.isFinite))
        // Unseen labels (-1) are left out of the fit: the same probe as without those rows.
        var labels = data.labels
        for r in stride(from: 0, to: labels.count, by: 10) { labels[r] = -1 }
        let kept = labels.indices.filter { labels[$0] >= 0 }
        let withUnseen = FittedProbe.fit(ProbeDataset(x: data.x, labels: labels, classes: data.classes), settings: mode.settings)
        let without = FittedProbe.fit(
            ProbeDataset(x: data.x.rows(kept), labels: kept.map { labels[$0] }, classes: data.classes), settings: mode.settings)
        #expect(close(withUnseen, without, 1e-6))
    }

    /// The regularisation path: deterministic, inputs untouched, row order irrelevant to the choice.
    @Test func pathConforms() {
        let train = ProbeDataset(x: data.x.rows(0..<400), labels: Array(data.labels[0..<400]), classes: data.classes)
        let dev = ProbeDataset(x: data.x.rows(400..<600), labels: Array(data.labels[400...]), classes: data.classes)
        let a = RegularizationPath.fit(train: train, dev: dev, alpha: 0.5, count: 8)
        let b = RegularizationPath.fit(train: train, dev: dev, alpha: 0.5, count: 8)
        #expect(a.selected == b.selected && zip(a.points, b.points).allSatisfy { abs($0.lambda - $1.lambda) <= 1e-12 * $0.lambda })
        let order = (0..<400).map { ($0 * 77) % 400 }
        let shuffled = ProbeDataset(x: train.x.rows(order), labels: order.map { train.labels[$0] }, classes: data.classes)
        let c = RegularizationPath.fit(train: shuffled, dev: dev, alpha: 0.5, count: 8)
        #expect(abs(a.points[a.selected].lambda - c.points[c.selected].lambda) <= 1e-9 * a.points[a.selected].lambda)
    }
}
