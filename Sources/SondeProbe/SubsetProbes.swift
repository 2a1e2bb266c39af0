import SondeLinalg

/// Probes refitted on subsets of one dataset's neurons, as k-sparse probing asks for dozens of
/// them: the activations are standardised once and each subset's columns copied from them; a
/// subset already fitted is not fitted again; a subset that contains one fitted before starts
/// from that fit's weights (the others at 0), which the nested top-k sets of a ranking always do.
/// The fits are the same problems `FittedProbe.fit` solves, to the same tolerance.
public final class SubsetProbes {
    private let problem: ProbeProblem
    private let classes: [String]
    private let settings: ProbeSettings
    /// Fitted subsets (sorted neurons) with their solutions in standardised units.
    private var fitted: [[Int]: (probe: FittedProbe, w: [Double], b: [Double])] = [:]

    public init(_ data: ProbeDataset, settings: ProbeSettings) {
        problem = ProbeProblem(data, standardize: settings.standardize)
        classes = data.classes
        self.settings = settings
    }

    /// The probe on `neurons` (its weights in their order).
    public func fit(_ neurons: [Int]) -> FittedProbe {
        precondition(neurons.allSatisfy { (0..<problem.d).contains($0) } && Set(neurons).count == neurons.count, "neurons out of range or repeated")
        let key = neurons.sorted()
        let entry = fitted[key] ?? solve(key)
        fitted[key] = entry
        guard key != neurons else { return entry.probe }
        let position = Dictionary(uniqueKeysWithValues: key.enumerated().map { ($1, $0) })
        let order = neurons.map { position[$0]! }
        let p = entry.probe
        return FittedProbe(
            classes: p.classes, weights: p.weights.columns(order), intercepts: p.intercepts, scales: order.map { p.scales[$0] },
            means: order.map { p.means[$0] }, settings: p.settings, diagnostics: p.diagnostics)
    }

    private func solve(_ key: [Int]) -> (probe: FittedProbe, w: [Double], b: [Double]) {
        let sub = ProbeProblem(columns: key, of: problem)
        let (c, k) = (problem.c, key.count)
        // The largest fitted subset inside this one.
        let members = Set(key)
        let base = fitted.keys.filter { $0.count < k && $0.allSatisfy(members.contains) }.max { $0.count < $1.count }
        var start: (w: [Double], b: [Double])?
        if let base, let previous = fitted[base] {
            let position = Dictionary(uniqueKeysWithValues: key.enumerated().map { ($1, $0) })
            var w = [Double](repeating: 0, count: c * k)
            for (j, neuron) in base.enumerated() {
                for row in 0..<c { w[row * k + position[neuron]!] = previous.w[row * base.count + j] }
            }
            start = (w, previous.b)
        }
        let result = sub.solve(penalty: settings.penalty, tolerance: settings.tolerance, maxIterations: settings.maxIterations, start: start)
        return (FittedProbe(problem: sub, classes: classes, result: result, settings: settings), result.w, result.b)
    }
}
