import ArgumentParser
import Foundation
import SondeLinalg
import SondeSimilarity

extension MomentPrecision: ExpressibleByArgument {}

struct SimilarityCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "similarity",
        abstract: "Compare two sets of activations over the same tokens: CCA, SVCCA, PWCCA, CKA, Procrustes.",
        discussion: """
            X and Y are [tokens, neurons] tensors (.npy, .npz, safetensors; choose a layer of a \
            multi-layer file with --layer-x/--layer-y, or --layer for both). Every measure comes \
            from one pass over the rows (means and the joint covariance in Double). CCA drops \
            neurons whose variance is at most ε × the largest (reported) and collinear directions; \
            SVCCA keeps the top principal directions of each side (--keep: a share of Σs², or \
            --dims); PWCCA follows Morcos et al. (true canonical variates). --google-compat \
            reproduces google/svcca's get_cca_similarity and pwcca.py instead. --baseline N \
            repeats each measure on N row-shuffled pairings: CCA of unrelated data is far from 0 \
            with few tokens. CCA-family measures refuse when neurons ≥ tokens.
            """)

    @Argument(help: "The first activations (X).") var x: String
    @Argument(help: "The second activations (Y), same tokens in the same order.") var y: String
    @Option(help: "The tensor of both files to use.") var layer: String?
    @Option(help: "The tensor of X.") var layerX: String?
    @Option(help: "The tensor of Y.") var layerY: String?
    @Option(help: "Measures, comma-separated: \(Measure.allCases.map(\.rawValue).joined(separator: ", ")).") var measures =
        "cca,svcca,pwcca,cka,procrustes"
    @Option(help: "SVCCA: keep the fewest directions whose Σs² share reaches this.") var keep: Double?
    @Option(help: "SVCCA: keep this many directions per side instead.") var dims: Int?
    @Option(help: "Drop neurons whose variance is at most ε × the largest (google's ε).") var epsilon = Similarity.defaultEpsilon
    @Flag(help: "CCA and PWCCA exactly as google/svcca computes them.") var googleCompat = false
    @Option(
        help:
            "How the covariance of Float activations is summed: double, mixed (Float blocks, Double total; ~1e-6 on the coefficients, twice as fast) or automatic (mixed for large inputs)."
    ) var precision: MomentPrecision = .automatic
    @Option(help: "Row-shuffled pairings for the null baseline (0 = none).") var baseline = 3
    @Option(help: "RBF CKA bandwidth: this fraction of the median distance.") var rbfFraction = 0.5
    @Option(help: "Write SVCCA's directions (unit vectors in neuron space), canonical variates (unit variance) and correlations here (safetensors).")
    var directions: String?
    @OptionGroup var output: OutputOptions

    func validate() throws {
        if case .failure(let unknown) = Measure.list(measures) { throw ValidationError(unknown.description) }
        if keep != nil && dims != nil { throw ValidationError("--keep and --dims exclude each other") }
        try requireNumber("keep", keep, "in (0, 1]") { $0 > 0 && $0 <= 1 }
        try requireNumber("epsilon", epsilon, "≥ 0") { $0 >= 0 }
        try requireNumber("rbf-fraction", rbfFraction, "positive") { $0 > 0 }
        if let dims, dims < 1 { throw ValidationError("--dims must be at least 1") }
        if baseline < 0 || epsilon < 0 { throw ValidationError("--baseline and --epsilon must be ≥ 0") }
    }

    struct Score: Encodable {
        var value: Double
        var baseline: Double?
        var baselineSD: Double?
        var details: [String: Details] = [:]
    }

    enum Details: Encodable {
        case number(Double), numbers([Double]), integer(Int), integers([Int]), text(String)
        func encode(to encoder: Encoder) throws {
            var c = encoder.singleValueContainer()
            switch self {
            case .number(let v): try c.encode(v)
            case .numbers(let v): try c.encode(v)
            case .integer(let v): try c.encode(v)
            case .integers(let v): try c.encode(v)
            case .text(let v): try c.encode(v)
            }
        }
    }

    struct Report: Encodable {
        let x: String
        let y: String
        let tokens: Int
        let neuronsX: Int
        let neuronsY: Int
        let baselineSeeds: Int
        let precision: MomentPrecision
        let measures: [String: Score]
    }

    func run() throws {
        let a = try loadActivations(x, layer: layerX ?? layer)
        let b = try loadActivations(y, layer: layerY ?? layer)
        guard a.rows == b.rows else {
            throw failure("X has \(a.rows) tokens and Y \(b.rows): similarity compares the same tokens")
        }
        let chosen = try Measure.list(measures).get()
        let rule: SVCCAKeep = dims.map { .dimensions($0) } ?? .variance(keep ?? 0.99)
        var scores: [String: Score] = [:]
        var usedPrecision: MomentPrecision?
        try withStudyErrors {
            let m = try JointMoments(x: a, y: b, precision: precision)
            usedPrecision = m.precision
            func null(_ measure: (JointMoments) throws -> Double) throws -> (Double?, Double?) {
                guard baseline > 0 else { return (nil, nil) }
                let r = try Similarity.nullBaseline(x: a, y: b, seeds: baseline, precision: precision, measure: measure)
                return (r.mean, r.standardDeviation)
            }
            for measure in chosen {
                switch measure {
                case .cca:
                    if googleCompat {
                        let g = try GoogleCCA.compute(m, epsilon: epsilon)
                        let (mean, sd) = try null { try GoogleCCA.compute($0, epsilon: epsilon).mean }
                        scores["cca"] = Score(
                            value: g.mean, baseline: mean, baselineSD: sd,
                            details: [
                                "definition": .text("google/svcca get_cca_similarity"), "thresholdedMean": .number(g.thresholdedMean),
                                "coefficients": .numbers(g.coefficients),
                                "droppedX": .integers(g.keptX.indices.filter { !g.keptX[$0] }),
                                "droppedY": .integers(g.keptY.indices.filter { !g.keptY[$0] }),
                            ])
                    } else {
                        let c = try Similarity.cca(m, epsilon: epsilon, weights: false)
                        let (mean, sd) = try null { try Similarity.cca($0, epsilon: epsilon, weights: false).mean }
                        scores["cca"] = Score(
                            value: c.mean, baseline: mean, baselineSD: sd,
                            details: [
                                "meanSquared": .number(c.meanSquared), "coefficients": .numbers(c.coefficients),
                                "droppedX": .integers(Array(Set(0..<a.columns).subtracting(c.keptX)).sorted()),
                                "droppedY": .integers(Array(Set(0..<b.columns).subtracting(c.keptY)).sorted()),
                                "rankX": .integer(c.rankX), "rankY": .integer(c.rankY),
                            ])
                    }
                case .svcca:
                    let s = try Similarity.svcca(m, keep: rule, weights: directions != nil)
                    let (mean, sd) = try null { try Similarity.svcca($0, keep: rule, weights: false).cca.mean }
                    let ruleText: String
                    switch rule {
                    case .dimensions(let k): ruleText = "top \(k) directions per side"
                    case .variance(let share): ruleText = "fewest directions reaching \(share) of Σs² (after centring)"
                    }
                    scores["svcca"] = Score(
                        value: s.cca.mean, baseline: mean, baselineSD: sd,
                        details: [
                            "rule": .text(ruleText), "kx": .integer(s.kx), "ky": .integer(s.ky), "coefficients": .numbers(s.cca.coefficients),
                        ])
                    if let directions {
                        let variates = Similarity.canonicalVariates
                        let k = s.cca.coefficients.count
                        try withInputErrors {
                            try Safetensors.write(
                                [
                                    TensorPayload(
                                        name: "variates_x", shape: [a.rows, k], dtype: .float32,
                                        values: .float(variates(a, s.cca.weightsX, m.meansX).elements)),
                                    TensorPayload(
                                        name: "variates_y", shape: [b.rows, k], dtype: .float32,
                                        values: .float(variates(b, s.cca.weightsY, m.meansY).elements)),
                                    TensorPayload(
                                        name: "directions_x", shape: [s.cca.coefficients.count, a.columns], dtype: .float64,
                                        values: .double(s.cca.directionsX().elements)),
                                    TensorPayload(
                                        name: "directions_y", shape: [s.cca.coefficients.count, b.columns], dtype: .float64,
                                        values: .double(s.cca.directionsY().elements)),
                                    TensorPayload(
                                        name: "correlations", shape: [s.cca.coefficients.count], dtype: .float64, values: .double(s.cca.coefficients)),
                                ], metadata: ["format": "sonde-svcca-directions/1", "rule": ruleText, "x": x, "y": y], to: directions)
                        }
                    }
                case .pwcca:
                    if googleCompat {
                        let g = try Similarity.googlePWCCA(x: a, y: b, moments: m, epsilon: epsilon)
                        scores["pwcca"] = Score(
                            value: g.value, details: ["definition": .text("google/svcca pwcca.py"), "weights": .numbers(g.weights)])
                    } else {
                        let p = try Similarity.pwcca(m, epsilon: epsilon)
                        let (mean, sd) = try null { try Similarity.pwcca($0, epsilon: epsilon).value }
                        scores["pwcca"] = Score(
                            value: p.value, baseline: mean, baselineSD: sd,
                            details: [
                                "definition": .text("Morcos et al. 2018, canonical variates"), "weights": .numbers(p.weights),
                            ])
                    }
                case .cka:
                    let (mean, sd) = try null { Similarity.linearCKA($0) }
                    let (dmean, dsd) = try null { Similarity.debiasedLinearCKA($0) }
                    scores["cka"] = Score(value: Similarity.linearCKA(m), baseline: mean, baselineSD: sd)
                    scores["cka-debiased"] = Score(value: Similarity.debiasedLinearCKA(m), baseline: dmean, baselineSD: dsd)
                case .rbfCKA:
                    scores["rbf-cka"] = Score(
                        value: try Similarity.rbfCKA(x: a, y: b, fraction: rbfFraction), details: ["fraction": .number(rbfFraction)])
                case .procrustes:
                    let p = try Similarity.procrustes(m)
                    let (mean, sd) = try null { try Similarity.procrustes($0).nuclearNorm }
                    scores["procrustes"] = Score(
                        value: p.nuclearNorm, baseline: mean, baselineSD: sd,
                        details: [
                            "distance": .number(p.distance), "angularDistance": .number(p.angular),
                        ])
                }
            }
        }
        let report = Report(
            x: x, y: y, tokens: a.rows, neuronsX: a.columns, neuronsY: b.columns, baselineSeeds: baseline,
            precision: usedPrecision ?? .double, measures: scores)
        if output.json { return try printJSON(report) }
        print("\(a.rows) tokens; X \(a.columns) neurons, Y \(b.columns) neurons")
        var rows = [["measure", "value", baseline > 0 ? "baseline (shuffled)" : "", ""]]
        for name in scores.keys.sorted() {
            let s = scores[name]!
            var extra = ""
            if case .integer(let kx)? = s.details["kx"], case .integer(let ky)? = s.details["ky"] { extra = "k = \(kx), \(ky)" }
            if case .integers(let d)? = s.details["droppedX"], case .integers(let e)? = s.details["droppedY"], !(d.isEmpty && e.isEmpty) {
                extra = "dropped \(d.count) + \(e.count) neurons"
            }
            rows.append([name, String(format: "%.6f", s.value), s.baseline.map { String(format: "%.4f ± %.4f", $0, s.baselineSD ?? 0) } ?? "", extra])
        }
        formatTable(rows).forEach { print($0) }
    }
}
