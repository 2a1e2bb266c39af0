import SondeBase

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
