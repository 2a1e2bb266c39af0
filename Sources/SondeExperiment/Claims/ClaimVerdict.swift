import Foundation
import SondeStudy

/// A claim's verdict in results.json's `claims` and at the top of the report.
public struct ClaimResult: Codable, Sendable, Equatable {
    public enum Verdict: String, Codable, Sendable { case holds, doesNotHold = "does not hold", undecided }

    public var claim: String
    public var kind: Claim.Kind
    /// The quantities as evaluated (a `similarity *` claim gives one result per measure).
    public var quantities: [String]
    /// The numbers compared: the checkpoints' steps (or positions) where each series is learned
    /// (null: it never changes by more than the tolerance) for `earlier`; first and last value
    /// for `rises`/`falls`; the two values for `lower-than`/`higher-than`.
    public var measured: [Double?]
    public var verdict: Verdict
    /// The comparison in words.
    public var reason: String
}

extension Claim {
    /// The verdicts of every claim: a claim the results cannot evaluate (a layer or checkpoint
    /// a `[models]` study lacks, which the file could not check) is an undecided verdict saying
    /// why, so a finished study still writes its results.
    public static func verdicts(_ claims: [Claim], on results: ExperimentResults) -> [ClaimResult] {
        claims.flatMap { claim in
            do { return try claim.evaluate(results) } catch {
                return [
                    ClaimResult(
                        claim: claim.claim, kind: claim.kind, quantities: claim.quantities, measured: [], verdict: .undecided, reason: "\(error)")
                ]
            }
        }
    }

    /// The claim's verdicts on a study's results: one, or one per similarity measure for a
    /// `similarity *` quantity. A quantity the results do not hold is an error naming it.
    public func evaluate(_ results: ExperimentResults) throws -> [ClaimResult] {
        let parsed = try quantities.map(Quantity.init)
        func isWildcard(_ q: Quantity) -> Bool {
            switch q {
            case .similarity("*", _, _): true
            case .at(let inner, _): isWildcard(inner)
            default: false
            }
        }
        guard parsed.contains(where: isWildcard) else { return [try evaluate(parsed, names: parsed.map(\.description), results)] }
        let measures = results.properties.first?.dynamics.measures ?? []
        return try measures.map { measure in
            func expand(_ q: Quantity) -> Quantity {
                switch q {
                case .similarity("*", let l, let t): .similarity(measure: measure, layer: l, reference: t)
                case .at(let inner, let c): .at(expand(inner), checkpoint: c)
                default: q
                }
            }
            let expanded = parsed.map(expand)
            return try evaluate(expanded, names: expanded.map(\.description), results)
        }
    }

    private func evaluate(_ q: [Quantity], names: [String], _ r: ExperimentResults) throws -> ClaimResult {
        func result(_ measured: [Double?], _ verdict: ClaimResult.Verdict, _ reason: String) -> ClaimResult {
            ClaimResult(claim: claim, kind: kind, quantities: names, measured: measured, verdict: verdict, reason: reason)
        }
        let f = { (x: Double) in String(format: "%.4g", x) }
        switch kind {
        case .rises, .falls:
            let (steps, v) = try series(q[0], names[0], r)
            guard let first = v.first, let last = v.last else { throw StudyError("claim '\(claim)': \(names[0]) has no checkpoints") }
            let change = (last - first) * (kind == .rises ? 1 : -1)
            let words = "\(names[0]): \(f(first)) at \(steps.first!) → \(f(last)) at \(steps.last!) (tolerance \(f(tolerance)))"
            return result([first, last], change > tolerance ? .holds : change < -tolerance ? .doesNotHold : .undecided, words)
        case .earlier:
            let (stepsA, a) = try series(q[0], names[0], r), (stepsB, b) = try series(q[1], names[1], r)
            let (la, lb) = (learned(a), learned(b))
            // The two series may cover different checkpoints (task spaces at some of the LM's):
            // compared by step, or by position where the checkpoints are folders of one series.
            func at(_ i: Int?, _ steps: [String]) -> Double? { i.map { Self.step(steps[$0]) ?? Double($0) } }
            func said(_ i: Int?, _ steps: [String], _ name: String) -> String {
                i.map { "\(name) is learned at \(steps[$0])" }
                    ?? "\(name) changes by at most \(f(tolerance)) (learned before the first checkpoint, or never)"
            }
            let words =
                "\(said(la, stepsA, names[0])); \(said(lb, stepsB, names[1])) (learned: 90% of the change from the first checkpoint to the last)"
            // A flat series was learned before the first checkpoint or never: which, the
            // numbers cannot tell, so a comparison with it is undecided.
            let (ma, mb) = (at(la, stepsA), at(lb, stepsB))
            let verdict: ClaimResult.Verdict =
                switch (ma, mb) {
                case let (x?, y?): x < y ? .holds : x > y ? .doesNotHold : .undecided
                default: .undecided
                }
            return result([ma, mb], verdict, words)
        case .lowerThan, .higherThan:
            let (a, sa) = try scalar(q[0], names[0], r), (b, sb) = try scalar(q[1], names[1], r)
            let margin = max(tolerance, (sa * sa + sb * sb).squareRoot())
            let gap = (b - a) * (kind == .lowerThan ? 1 : -1)
            let words =
                "\(names[0]) = \(f(a))\(sa > 0 ? " ± \(f(sa))" : ""), \(names[1]) = \(f(b))\(sb > 0 ? " ± \(f(sb))" : "") (undecided within \(f(margin)))"
            return result([a, b], gap > margin ? .holds : gap < -margin ? .doesNotHold : .undecided, words)
        }
    }

    /// The first position where a series covers 90% of its change from first to last; nil when
    /// the change is within the tolerance.
    private func learned(_ v: [Double]) -> Int? {
        guard let first = v.first, let last = v.last, abs(last - first) > tolerance else { return nil }
        return v.firstIndex { ($0 - first) / (last - first) >= 0.9 }
    }

    /// "step-50" → 50.
    static func step(_ name: String) -> Double? { name.hasPrefix("step-") ? Double(name.dropFirst(5)) : nil }

    private func property(_ name: String, _ r: ExperimentResults, _ quantity: String) throws -> ExperimentResults.PropertyResult {
        guard let p = r.properties.first(where: { $0.property == name }) else {
            throw StudyError("claim '\(claim)': \(quantity): no results for property '\(name)'")
        }
        return p
    }

    /// A series over the checkpoints: their names and values.
    private func series(_ q: Quantity, _ name: String, _ r: ExperimentResults) throws -> ([String], [Double]) {
        guard q.isSeries else { throw StudyError("claim '\(claim)': \(name) is one number, and '\(kind.rawValue)' compares series over training") }
        if q.isTaskSpace {
            let t = try taskSpaces(r, name)
            if case .taskSpaceStability(let space) = q {
                guard let s = t.stability[Quantity.taskSpaceAgreements[space]!] else {
                    throw StudyError("claim '\(claim)': \(name): the results have no \(space) space")
                }
                return (t.checkpoints, s.toLast)
            }
            return (t.checkpoints, try t.spaces.map { try taskSpaceNumber(q, $0, name) })
        }
        let dynamics: Dynamics?
        switch q {
        case .similarity(_, _, "tagger"?): dynamics = r.properties.first?.dynamicsToTagger
        case .similarity(_, _, let reference?): dynamics = r.properties.first?.dynamicsToReferences?[reference]
        case .accuracy(let p, _), .selectivity(let p, _): dynamics = try property(p, r, name).dynamics
        default: dynamics = r.properties.first?.dynamics
        }
        guard let dynamics else { throw StudyError("claim '\(claim)': \(name): the study has no such comparison") }
        let rows = dynamics.rows.filter { $0.layer == q.layer }
        guard !rows.isEmpty else {
            throw StudyError("claim '\(claim)': \(name): no layer '\(q.layer ?? "")' in the results (\(dynamics.layers.joined(separator: ", ")))")
        }
        let values: [Double] = try rows.map { row in
            switch q {
            case .accuracy: return row.probeAccuracy
            case .selectivity: return row.selectivity
            case .concentration: return row.concentration
            case .similarity(let m, _, _):
                guard let v = row.similarity[m] else { throw StudyError("claim '\(claim)': \(name): measure '\(m)' is not in the results") }
                return v
            default: return .nan
            }
        }
        return (rows.map(\.checkpoint), values)
    }

    private func taskSpaces(_ r: ExperimentResults, _ name: String) throws -> ExperimentResults.TaskSpaceResults {
        guard let t = r.taskSpaces else { throw StudyError("claim '\(claim)': \(name): the results have no task spaces") }
        return t
    }

    /// Parameter sharing, or a space's Pearson correlation with the same-group hypothesis.
    private func taskSpaceNumber(_ q: Quantity, _ space: TaskSpace.Result, _ name: String) throws -> Double {
        switch q {
        case .taskSpaceSharing:
            guard let g = space.gradient else { throw StudyError("claim '\(claim)': \(name): the results have no gradient space") }
            return g.parameterSharing
        case .taskSpaceGrouping(let s, _):
            guard let a = space.agreement[Quantity.taskSpaceAgreements[s]!] else {
                throw StudyError(
                    "claim '\(claim)': \(name): the results have no \(s) space (a self-transfer of 0 leaves the normalised one undefined)")
            }
            return a.pearson
        default: return .nan
        }
    }

    /// A number and its spread over the seeds (0 without seeds); a series gives its last value.
    private func scalar(_ q: Quantity, _ name: String, _ r: ExperimentResults) throws -> (Double, Double) {
        switch q {
        case .finalAccuracy(let p, let l):
            guard let layer = try property(p, r, name).layers.first(where: { $0.layer == l }) else {
                throw StudyError("claim '\(claim)': \(name): no layer '\(l)' in the results")
            }
            return (layer.accuracy, layer.accuracySD)
        case .minimalShare(let p):
            guard let minimal = try property(p, r, name).ablation?.minimal else {
                throw StudyError("claim '\(claim)': \(name): no minimal neuron set in the results")
            }
            return (minimal.share, 0)
        case .salientLayer(let p, let fineTuned):
            guard let c = try property(p, r, name).fineTuning else {
                throw StudyError("claim '\(claim)': \(name): no fine-tuning comparison in the results")
            }
            return (fineTuned ? c.otherMeanLayer : c.baseMeanLayer, 0)
        case .taskSpaceSharing(let h?), .taskSpaceGrouping(_, let h?):
            let t = try taskSpaces(r, name)
            let space = h == r.experiment.lstm.hidden ? t.spaces.last : t.sizes.first { $0.hidden == h }?.space
            guard let space else { throw StudyError("claim '\(claim)': \(name): no task space of hidden size \(h) in the results") }
            return (try taskSpaceNumber(q, space, name), 0)
        case .value(let v):
            return (v, 0)
        case .at(let inner, let checkpoint):
            let (names, values) = try series(inner, name, r)
            guard let i = names.firstIndex(of: checkpoint) else {
                throw StudyError("claim '\(claim)': \(name): no checkpoint '\(checkpoint)' (\(names.joined(separator: ", ")))")
            }
            return (values[i], 0)
        default:
            return (try series(q, name, r).1.last ?? .nan, 0)
        }
    }
}
