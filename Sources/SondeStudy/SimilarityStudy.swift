import Foundation
import SondeBase
import SondeLinalg
import SondeSimilarity

/// Two sets of activations over the same tokens compared by the chosen measures, each from one
/// moments pass, each with its null baseline on row-shuffled pairings (CCA of unrelated data is
/// far from 0 with few tokens), and — on request — SVCCA's directions and canonical variates
/// written to a safetensors file.
public enum SimilarityStudy {
    public struct Settings: Sendable {
        public var measures: [Measure]
        public var keep: SVCCAKeep
        /// Drop neurons whose variance is at most ε × the largest (google's ε).
        public var epsilon: Double
        /// CCA and PWCCA exactly as google/svcca computes them.
        public var googleCompatible: Bool
        public var precision: MomentPrecision
        /// Row-shuffled pairings for the null baseline (0 = none).
        public var baseline: Int
        /// RBF CKA's bandwidth as a fraction of the median distance.
        public var rbfFraction: Double

        public init(
            measures: [Measure] = Measure.allCases.filter { $0 != .mutualKNN && $0 != .cknna }, keep: SVCCAKeep = .variance(0.99), epsilon: Double = Similarity.defaultEpsilon,
            googleCompatible: Bool = false, precision: MomentPrecision = .automatic, baseline: Int = 3, rbfFraction: Double = 0.5
        ) {
            self.measures = measures
            self.keep = keep
            self.epsilon = epsilon
            self.googleCompatible = googleCompatible
            self.precision = precision
            self.baseline = baseline
            self.rbfFraction = rbfFraction
        }
    }

    /// One measure's value, its shuffled-pairing baseline (mean ± SD) and what else it found.
    public struct Score: Encodable, Sendable {
        public var value: Double
        public var baseline: Double?
        public var baselineSD: Double?
        public var details: [String: Detail] = [:]
    }

    public enum Detail: Encodable, Sendable {
        case number(Double), numbers([Double]), integer(Int), integers([Int]), text(String)

        public func encode(to encoder: Encoder) throws {
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

    public struct Result: Encodable, Sendable {
        /// What X and Y are (their file names).
        public let x: String
        public let y: String
        public let tokens: Int
        public let neuronsX: Int
        public let neuronsY: Int
        public let baselineSeeds: Int
        public let precision: MomentPrecision
        /// Keyed by measure name; linear CKA also gives `cka-debiased`.
        public let measures: [String: Score]
    }

    /// Refuses, before anything is read, a comparison of the activation files' tensors that
    /// would not fit in memory. Measured (benchmarks/memory.sh): 200,000 × 4,096 against the same
    /// peaked at 9.2 GB — the two Float matrices (6.6 GB) and the Double moments and
    /// decompositions of the (p + q)² joint covariance.
    public static func requireMemory(x: String, y: String, layers: (String?, String?)) throws {
        let a = try ActivationSource.tensor(path: x, layer: layers.0).1.shape, b = try ActivationSource.tensor(path: y, layer: layers.1).1.shape
        guard a.count == 2, b.count == 2 else { return }  // reading them says what is wrong
        let width = Double(a[1] + b[1])
        try MemoryBudget.require(
            1.05 * 4 * Double(a[0] * a[1] + b[0] * b[1]) + 5 * 8 * width * width,
            for: "a similarity of \(a[0]) × \(a[1]) and \(b[0]) × \(b[1]) activations")
    }

    /// - Parameters:
    ///   - names: what X and Y are, for the result and the directions file.
    ///   - directions: write SVCCA's directions (unit rows in neuron space), canonical variates
    ///     (unit variance) and correlations here (needs `.svcca` among the measures).
    public static func run(
        x: Matrix<Float>, y: Matrix<Float>, names: (x: String, y: String), settings: Settings, directions: String? = nil
    ) throws -> Result {
        guard x.rows == y.rows else {
            throw StudyError("X has \(x.rows) tokens and Y \(y.rows): similarity compares the same tokens")
        }
        let m = try JointMoments(x: x, y: y, precision: settings.precision)
        let epsilon = settings.epsilon
        let measures = Set(settings.measures), google = settings.googleCompatible
        // Each side's whitening once: the shuffles change only the cross-covariance. CCA and
        // PWCCA share theirs and, on each shuffle, one decomposition (PWCCA's coefficients are CCA's).
        let ccaWhitening = !google && (measures.contains(.cca) || measures.contains(.pwcca)) ? try Whitening(cca: m, epsilon: epsilon) : nil
        let svccaWhitening = measures.contains(.svcca) ? try Whitening(svcca: m, keep: settings.keep) : nil
        // The baseline: every measure on the same shuffled pairings, all measure–pairing tasks
        // at once among the cores (the costly first). Each task gives one or two numbers.
        var tasks: [(name: String, compute: @Sendable (JointMoments) throws -> [Double])] = []
        if settings.baseline > 0 {
            if let w = ccaWhitening, measures.contains(.pwcca) {
                // PWCCA's value and the mean of its coefficients, which is CCA's.
                let pwcca: @Sendable (JointMoments) throws -> [Double] = { pairing in
                    let p = try Similarity.pwcca(pairing, whitening: w)
                    return [p.value, meanAndSpread(p.coefficients).mean]
                }
                tasks.append(("pwcca", pwcca))
            } else if let w = ccaWhitening {
                tasks.append(("cca", { [try Similarity.canonicalCorrelation($0, whitening: w, weights: false).mean] }))
            }
            if let w = svccaWhitening { tasks.append(("svcca", { [try Similarity.canonicalCorrelation($0, whitening: w, weights: false).mean] })) }
            if measures.contains(.procrustes) { tasks.append(("procrustes", { [try Similarity.procrustes($0, baseline: true).nuclearNorm] })) }
            if measures.contains(.cka) { tasks.append(("cka", { [Similarity.linearCKA($0), Similarity.debiasedLinearCKA($0)] })) }
            if google && measures.contains(.cca) { tasks.append(("cca", { [try GoogleCCA.compute($0, epsilon: epsilon).mean] })) }
        }
        let pairings = Similarity.shuffledPairings(x: x, y: y, moments: m, seeds: tasks.isEmpty ? 0 : settings.baseline)
        let values = try Similarity.onPairings(pairings, tasks.map(\.compute))
        /// Mean and SD over the shuffles of number `index` of task `name` (nil without a baseline).
        func null(_ name: String, _ index: Int = 0) -> (Double?, Double?) {
            guard let task = tasks.firstIndex(where: { $0.name == name }) else { return (nil, nil) }
            let r = meanAndSpread(values[task].map { $0[index] })
            return (r.mean, r.standardDeviation ?? 0)
        }
        // CCA and PWCCA asked for together share T and its decomposition.
        let shared = !google && measures.contains(.cca) && measures.contains(.pwcca) ? try Similarity.pwccaAndCCA(m, whitening: ccaWhitening!) : nil
        var scores: [String: Score] = [:]
        for measure in settings.measures {
            switch measure {
            case .cca where settings.googleCompatible:
                let g = try GoogleCCA.compute(m, epsilon: epsilon)
                let (mean, sd) = null("cca")
                scores["cca"] = Score(
                    value: g.mean, baseline: mean, baselineSD: sd,
                    details: [
                        "definition": .text("google/svcca get_cca_similarity"), "thresholdedMean": .number(g.thresholdedMean),
                        "coefficients": .numbers(g.coefficients), "droppedX": .integers(g.keptX.indices.filter { !g.keptX[$0] }),
                        "droppedY": .integers(g.keptY.indices.filter { !g.keptY[$0] }),
                    ])
            case .cca:
                let c = try shared?.cca ?? Similarity.canonicalCorrelation(m, whitening: ccaWhitening!, weights: false)
                let (mean, sd) = measures.contains(.pwcca) ? null("pwcca", 1) : null("cca")
                scores["cca"] = Score(
                    value: c.mean, baseline: mean, baselineSD: sd,
                    details: [
                        "meanSquared": .number(c.meanSquared), "coefficients": .numbers(c.coefficients),
                        "droppedX": .integers(Array(Set(0..<x.columns).subtracting(c.keptX)).sorted()),
                        "droppedY": .integers(Array(Set(0..<y.columns).subtracting(c.keptY)).sorted()), "rankX": .integer(c.rankX),
                        "rankY": .integer(c.rankY),
                    ])
            case .svcca:
                let s = try Similarity.svcca(m, whitening: svccaWhitening!, weights: directions != nil)
                let (mean, sd) = null("svcca")
                scores["svcca"] = Score(
                    value: s.cca.mean, baseline: mean, baselineSD: sd,
                    details: [
                        "rule": .text(ruleText(settings.keep)), "kx": .integer(s.kx), "ky": .integer(s.ky),
                        "coefficients": .numbers(s.cca.coefficients),
                    ])
                if let directions { try writeDirections(s, moments: m, x: x, y: y, names: names, to: directions) }
            case .pwcca where settings.googleCompatible:
                let g = try Similarity.googlePWCCA(x: x, y: y, moments: m, epsilon: epsilon)
                scores["pwcca"] = Score(value: g.value, details: ["definition": .text("google/svcca pwcca.py"), "weights": .numbers(g.weights)])
            case .pwcca:
                let p = try shared?.pwcca ?? Similarity.pwcca(m, whitening: ccaWhitening!)
                let (mean, sd) = null("pwcca")
                scores["pwcca"] = Score(
                    value: p.value, baseline: mean, baselineSD: sd,
                    details: ["definition": .text("Morcos et al. 2018, canonical variates"), "weights": .numbers(p.weights)])
            case .cka:
                let (mean, sd) = null("cka"), (debiasedMean, debiasedSD) = null("cka", 1)
                scores["cka"] = Score(value: Similarity.linearCKA(m), baseline: mean, baselineSD: sd)
                scores["cka-debiased"] = Score(value: Similarity.debiasedLinearCKA(m), baseline: debiasedMean, baselineSD: debiasedSD)
            case .rbfCKA:
                scores["rbf-cka"] = Score(
                    value: try Similarity.rbfCKA(x: x, y: y, fraction: settings.rbfFraction), details: ["fraction": .number(settings.rbfFraction)])
            case .mutualKNN, .cknna:
                let sample = NeighbourAlignment.sampleRows(count: x.rows)
                let (a, b) = (x.rows(sample), y.rows(sample))
                let k = NeighbourAlignment.defaultK
                guard a.rows > Swift.max(k, 3) else { throw StudyError("\(measure.rawValue) needs more than \(Swift.max(k, 3)) tokens (has \(a.rows))") }
                let compute: (Matrix<Float>, Matrix<Float>) -> Double = {
                    measure == .cknna ? NeighbourAlignment.cknna(x: $0, y: $1, k: k) : NeighbourAlignment.mutualKNN(x: $0, y: $1, k: k)
                }
                let null = meanAndSpread(NeighbourAlignment.shuffled(x: a, y: b, seeds: settings.baseline, compute))
                scores[measure.rawValue] = Score(
                    value: compute(a, b), baseline: settings.baseline > 0 ? null.mean : nil, baselineSD: settings.baseline > 0 ? null.standardDeviation ?? 0 : nil,
                    details: ["k": .integer(k), "rows": .integer(a.rows), "definition": .text("Huh et al. 2024, cosine neighbours")])
            case .procrustes:
                let p = try Similarity.procrustes(m)
                let (mean, sd) = null("procrustes")
                scores["procrustes"] = Score(
                    value: p.nuclearNorm, baseline: mean, baselineSD: sd,
                    details: ["distance": .number(p.distance), "angularDistance": .number(p.angular)])
            }
        }
        return Result(
            x: names.x, y: names.y, tokens: x.rows, neuronsX: x.columns, neuronsY: y.columns, baselineSeeds: settings.baseline,
            precision: m.precision, measures: scores)
    }

    static func ruleText(_ keep: SVCCAKeep) -> String {
        switch keep {
        case .dimensions(let k): return "top \(k) directions per side"
        case .variance(let share): return "fewest directions reaching \(share) of Σs² (after centring)"
        }
    }

    /// SVCCA's directions, canonical variates and correlations as a safetensors file
    /// (`sonde-svcca-directions/1`), written atomically.
    static func writeDirections(
        _ s: SVCCAResult, moments m: JointMoments, x: Matrix<Float>, y: Matrix<Float>, names: (x: String, y: String), to path: String
    ) throws {
        let k = s.cca.coefficients.count
        let variatesX = Similarity.canonicalVariates(x, weights: s.cca.weightsX, means: m.meansX)
        let variatesY = Similarity.canonicalVariates(y, weights: s.cca.weightsY, means: m.meansY)
        try Safetensors.write(
            [
                TensorPayload(name: "variates_x", shape: [x.rows, k], dtype: .float32, values: .float(variatesX.elements)),
                TensorPayload(name: "variates_y", shape: [y.rows, k], dtype: .float32, values: .float(variatesY.elements)),
                TensorPayload(name: "directions_x", shape: [k, x.columns], dtype: .float64, values: .double(s.cca.directionsX().elements)),
                TensorPayload(name: "directions_y", shape: [k, y.columns], dtype: .float64, values: .double(s.cca.directionsY().elements)),
                TensorPayload(name: "correlations", shape: [k], dtype: .float64, values: .double(s.cca.coefficients)),
            ], metadata: ["format": "sonde-svcca-directions/1", "rule": ruleText(s.keep), "x": names.x, "y": names.y], to: path)
    }
}
