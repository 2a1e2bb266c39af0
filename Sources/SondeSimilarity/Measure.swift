import SondeBase
import SondeLinalg
import Synchronization

/// The similarity measures by name, as the command line, the comparator and experiment files
/// name them. A value, not a string: a new case must be handled wherever measures are computed
/// (a switch over names once ended in a `default:` that computed Procrustes for any unknown one).
public enum Measure: String, CaseIterable, Codable, Sendable {
    /// Mean canonical correlation (CCA on all neurons that vary).
    case cca
    /// CCA on the top principal directions of each side (Raghu et al. 2017).
    case svcca
    /// Projection-weighted CCA (Morcos et al. 2018).
    case pwcca
    /// Linear CKA, with its debiased variant (Kornblith et al. 2019).
    case cka
    /// CKA with a Gaussian kernel (bandwidth a fraction of the median distance).
    case rbfCKA = "rbf-cka"
    /// Orthogonal Procrustes: the nuclear norm of XᵀY after centring and normalising.
    case procrustes
    /// Mutual k-nearest-neighbour alignment (Huh et al. 2024).
    case mutualKNN = "mutual-knn"
    /// Centered kernel nearest-neighbour alignment (Huh et al. 2024).
    case cknna

    /// Parses a comma-separated list ("cca,svcca"); nil names the first unknown entry.
    public static func list(_ text: String) -> Result<[Measure], UnknownMeasure> {
        var result: [Measure] = []
        for name in text.split(separator: ",") {
            guard let measure = Measure(rawValue: String(name)) else { return .failure(UnknownMeasure(name: String(name))) }
            if !result.contains(measure) { result.append(measure) }
        }
        return .success(result)
    }

    public struct UnknownMeasure: CategorizedError {
        public let name: String
        public var category: ErrorCategory { .usage }
        public var description: String {
            "unknown measure '\(name)'; measures: \(Measure.allCases.map(\.rawValue).joined(separator: ", "))"
        }
    }
}

/// A similarity of two representations of the same tokens, from their joint moments. The
/// comparator (`sonde dynamics`, `sonde compare`, a study's dynamics and fine-tuning cells) and
/// the report compute and show every measure asked for, by name: a new measure is its math in a
/// type conforming to this, plus `SimilarityMeasures.register`.
public protocol SimilarityMeasure: Sendable {
    /// Its key in results (a row's field) and its name on the command line.
    var name: String { get }
    /// How charts and tables label it.
    var title: String { get }
    func value(_ moments: JointMoments) throws -> Double
    /// The value from the rows themselves, for measures that need more than the moments
    /// (neighbourhoods); by default the moments' value.
    func value(_ moments: JointMoments, x: Matrix<Float>, y: Matrix<Float>) throws -> Double
}

extension SimilarityMeasure {
    public func value(_ moments: JointMoments, x: Matrix<Float>, y: Matrix<Float>) throws -> Double { try value(moments) }
}

/// The measures by name: the built-in ones, and those registered (by a test, or code built on
/// SondeSimilarity).
public enum SimilarityMeasures {
    /// SVCCA's mean canonical correlation of the kept principal directions (Raghu et al. 2017).
    public struct SVCCA: SimilarityMeasure {
        public var keep: SVCCAKeep
        public let name: String
        public let title: String
        public init(keep: SVCCAKeep = .variance(0.99), name: String = "svcca", title: String = "SVCCA") {
            (self.keep, self.name, self.title) = (keep, name, title)
        }
        public func value(_ moments: JointMoments) throws -> Double { try Similarity.svcca(moments, keep: keep, weights: false).cca.mean }
    }

    /// Projection-weighted CCA (Morcos et al. 2018).
    public struct PWCCA: SimilarityMeasure {
        public init() {}
        public var name: String { "pwcca" }
        public var title: String { "PWCCA" }
        public func value(_ moments: JointMoments) throws -> Double { try Similarity.pwcca(moments).value }
    }

    /// Linear CKA (Kornblith et al. 2019).
    public struct CKA: SimilarityMeasure {
        public init() {}
        public var name: String { "cka" }
        public var title: String { "linear CKA" }
        public func value(_ moments: JointMoments) throws -> Double { Similarity.linearCKA(moments) }
    }

    /// Mean canonical correlation over every neuron that varies.
    public struct CCA: SimilarityMeasure {
        public init() {}
        public var name: String { "cca" }
        public var title: String { "mean CCA" }
        public func value(_ moments: JointMoments) throws -> Double { try Similarity.cca(moments, weights: false).mean }
    }

    /// Orthogonal Procrustes similarity: the nuclear norm of XᵀY after centring and normalising.
    public struct Procrustes: SimilarityMeasure {
        public init() {}
        public var name: String { "procrustes" }
        public var title: String { "Procrustes" }
        public func value(_ moments: JointMoments) throws -> Double { try Similarity.procrustes(moments).nuclearNorm }
    }

    /// Mutual k-NN alignment or CKNNA on at most `rows` rows (a seeded sample).
    public struct Neighbourhood: SimilarityMeasure {
        public let measure: Measure
        public let k: Int
        public let rows: Int
        public init(_ measure: Measure, k: Int = NeighbourAlignment.defaultK, rows: Int = NeighbourAlignment.defaultRows) {
            precondition(measure == .mutualKNN || measure == .cknna, "a neighbourhood measure is mutual-knn or cknna")
            (self.measure, self.k, self.rows) = (measure, k, rows)
        }
        public var name: String { measure.rawValue }
        public var title: String { measure == .cknna ? "CKNNA" : "mutual k-NN" }
        public func value(_ moments: JointMoments) throws -> Double {
            throw SimilarityError("\(name) compares neighbourhoods of rows; it needs the activations, not their moments")
        }
        public func value(_ moments: JointMoments, x: Matrix<Float>, y: Matrix<Float>) throws -> Double {
            let sample = NeighbourAlignment.sampleRows(count: x.rows, limit: rows)
            guard sample.count > Swift.max(k, 3) else { throw SimilarityError("\(name) needs more than \(Swift.max(k, 3)) rows (has \(x.rows))") }
            let (a, b) = (x.rows(sample), y.rows(sample))
            return measure == .cknna ? NeighbourAlignment.cknna(x: a, y: b, k: k) : NeighbourAlignment.mutualKNN(x: a, y: b, k: k)
        }
    }

    /// SVCCA on a fixed number of directions: a series whose 99%-variance rule keeps very
    /// different numbers of directions over training compares unlike subspaces; this does not.
    public static let svcca20 = SVCCA(keep: .dimensions(20), name: "svcca-20", title: "SVCCA (20 directions)")

    private static let registry = Mutex<[any SimilarityMeasure]>([
        SVCCA(), svcca20, PWCCA(), CKA(), CCA(), Procrustes(), Neighbourhood(.mutualKNN), Neighbourhood(.cknna),
    ])

    /// What a study follows over training unless told otherwise.
    public static var dynamicsDefault: [any SimilarityMeasure] { [SVCCA(), PWCCA(), CKA()] }
    /// What a before/after comparison shows unless told otherwise.
    public static var comparisonDefault: [any SimilarityMeasure] { [SVCCA(), CKA()] }

    /// Adds a measure (replacing one of the same name).
    public static func register(_ measure: any SimilarityMeasure) {
        registry.withLock { list in
            list.removeAll { $0.name == measure.name }
            list.append(measure)
        }
    }

    public static var all: [any SimilarityMeasure] { registry.withLock { $0 } }

    public static func named(_ name: String) -> (any SimilarityMeasure)? { all.first { $0.name == name } }

    /// Parses a comma-separated list of names; the error names the first unknown one.
    public static func list(_ text: String) throws -> [any SimilarityMeasure] {
        var result: [any SimilarityMeasure] = []
        for name in text.split(separator: ",").map(String.init) where !result.contains(where: { $0.name == name }) {
            guard let measure = named(name) else {
                throw SimilarityError("unknown measure '\(name)'; measures: \(all.map(\.name).joined(separator: ", "))")
            }
            result.append(measure)
        }
        return result
    }

    /// Names in registry order, then any not registered (from a file written elsewhere), sorted.
    public static func ordered(_ names: some Collection<String>) -> [String] {
        let known = all.map(\.name)
        return known.filter(names.contains) + names.filter { !known.contains($0) }.sorted()
    }

    /// The title of a name (the name itself when not registered).
    public static func title(_ name: String) -> String { named(name)?.title ?? name }
}
