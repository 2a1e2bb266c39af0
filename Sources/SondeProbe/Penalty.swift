/// The penalty a probe is trained with. Intercepts are never penalised.
public enum Penalty: Sendable, Equatable, Codable, CustomStringConvertible {
    /// glmnet's elastic net: λ·(α‖W‖₁ + (1−α)/2·‖W‖²_F), α in [0, 1] (1 = lasso, 0 = ridge).
    case elasticNet(lambda: Double, alpha: Double)
    /// NeuroX 1.0.9's objective: λ₁‖W‖₁ + λ₂‖W‖_F (the Frobenius norm, not squared).
    case neurox(l1: Double, l2: Double)

    public var description: String {
        switch self {
        case .elasticNet(let lambda, let alpha): return "elastic net λ=\(lambda) α=\(alpha)"
        case .neurox(let l1, let l2): return "NeuroX λ1=\(l1) λ2=\(l2)"
        }
    }

    /// The penalty's value at W (C × D, row-major).
    public func value(_ w: [Double]) -> Double {
        let l1 = w.reduce(0) { $0 + abs($1) }
        let squares = w.reduce(0) { $0 + $1 * $1 }
        switch self {
        case .elasticNet(let lambda, let alpha): return lambda * (alpha * l1 + (1 - alpha) / 2 * squares)
        case .neurox(let a, let b): return a * l1 + b * squares.squareRoot()
        }
    }
}

extension Penalty {
    /// κ₁ and κ₂ of the penalty written as κ₁‖W‖₁ + κ₂/2‖W‖² around W: the elastic net's own
    /// (λα, λ(1 − α)); for NeuroX's λ₂‖W‖_F the ridge of its tangent majoriser at W, λ₂/‖W‖
    /// (0 at W = 0, where the norm has no gradient). The one place λ and α become coefficients.
    func coefficients(at w: [Double]) -> (k1: Double, k2: Double) {
        switch self {
        case .elasticNet(let lambda, let alpha): return (lambda * alpha, lambda * (1 - alpha))
        case .neurox(let l1, let l2):
            let norm = w.reduce(0) { $0 + $1 * $1 }.squareRoot()
            return (l1, norm > 0 ? l2 / norm : 0)
        }
    }
}

/// How a probe is trained.
public struct ProbeSettings: Sendable, Equatable, Codable {
    public var penalty: Penalty
    /// Scale every neuron to unit variance before fitting (glmnet's default). Weights are
    /// reported on the original scale either way; rankings use the standardised ones.
    public var standardize: Bool
    /// Stop when the largest violation of the optimality (KKT) conditions is at most this
    /// times the largest gradient entry at W = 0 (so it is free of the data's scale).
    public var tolerance: Double
    public var maxIterations: Int
    /// Stop as soon as the objective is at most this (before the KKT tolerance is met): "as
    /// good as that other trainer's result", e.g. NeuroX's final objective. Nil: converge.
    public var targetObjective: Double?
    /// Also stop only once the duality gap (`DualityGap`) is at most this: the KKT tolerance is
    /// tightened tenfold, from where the solver stopped, until it is. Nil: the tolerance alone.
    public var gap: Double?

    public init(
        penalty: Penalty = .elasticNet(lambda: 1e-3, alpha: 0.5), standardize: Bool = true, tolerance: Double = 1e-4, maxIterations: Int = 500,
        targetObjective: Double? = nil, gap: Double? = nil
    ) {
        self.penalty = penalty
        self.standardize = standardize
        self.tolerance = tolerance
        self.maxIterations = maxIterations
        self.targetObjective = targetObjective
        self.gap = gap
    }

    /// NeuroX's trainer as users know it: its objective, no standardisation.
    public static func neurox(l1: Double = 1e-5, l2: Double = 1e-5) -> ProbeSettings {
        ProbeSettings(penalty: .neurox(l1: l1, l2: l2), standardize: false)
    }
}
