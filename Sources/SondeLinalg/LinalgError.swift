import SondeBase

/// A numerical routine that could not finish: raised from LAPACK's `info` codes.
public enum LinalgError: CategorizedError, Equatable {
    /// LAPACK rejected argument `argument` (info < 0): a bug in Sonde, never bad data.
    case illegalArgument(routine: String, argument: Int)
    /// An iterative decomposition did not converge (`info` > 0 of gesdd/syevd).
    case didNotConverge(routine: String, info: Int)
    /// Cholesky found the leading minor of this order not positive definite.
    case notPositiveDefinite(order: Int)
    /// The input held NaN or infinity, which LAPACK cannot decompose.
    case nonFinite(routine: String)

    public var description: String {
        switch self {
        case .illegalArgument(let routine, let argument):
            return "\(routine): LAPACK rejected argument \(argument) (an internal error; please report it)"
        case .didNotConverge(let routine, let info):
            return "\(routine): did not converge (info \(info)); the input may be badly scaled or degenerate"
        case .notPositiveDefinite(let order):
            return "Cholesky: the leading minor of order \(order) is not positive definite; add a ridge or drop dependent columns"
        case .nonFinite(let routine):
            return "\(routine): the matrix holds NaN or infinite values"
        }
    }

    /// Data a decomposition cannot use; the message says so (and asks for a report when the bug is Sonde's).
    public var category: ErrorCategory { .malformedInput }

    static func check(_ info: Int32, _ routine: String) throws {
        if info < 0 { throw LinalgError.illegalArgument(routine: routine, argument: Int(-info)) }
        if info > 0 { throw LinalgError.didNotConverge(routine: routine, info: Int(info)) }
    }
}
