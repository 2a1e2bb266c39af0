import Foundation
import SondeBase
import SondeLinalg
import SondeSimilarity

/// Which canonical directions between X and Y a comparison uses.
public enum CanonicalDirections: Sendable, Equatable {
    /// SVCCA's: the principal directions of each side kept by the rule (Raghu et al.: 99% of
    /// the variance), then every canonical pair between them.
    case svcca(SVCCAKeep)
    /// The `count` leading canonical pairs (largest ρ) of SVCCA's: a fixed number, so
    /// checkpoints that keep 2 or 200 principal directions are compared on the same footing.
    case leading(Int, SVCCAKeep)
    /// Plain CCA, every direction: invariant to rescaling a neuron (SVCCA's variance rule is not,
    /// by design: a neuron multiplied by 1,000 dominates the principal directions) as long as
    /// every neuron's variance stays above CCA's ε = 1e-10 × the largest (below, it counts as
    /// constant and is left out).
    case all
}

/// How a neuron's part in a canonical direction is measured.
public enum NeuronLoading: String, Codable, Sendable, CaseIterable {
    /// The canonical loading ℓᵢⱼ = corr(xⱼ, uᵢ), uᵢ the canonical variate: how much of neuron j
    /// the direction explains — the usual meaning of "the neurons a direction rests on". It does
    /// not change when a neuron is rescaled.
    case loadings
    /// The canonical weight aᵢⱼ (uᵢ = Σⱼ aᵢⱼ xⱼ): it scales with 1/σⱼ and carries suppressor
    /// effects (a neuron can get a large weight for cancelling noise in others).
    case weights
}

/// How a neuron ranking and a probe relate to the canonical directions between two
/// representations X and Y of the same tokens (a layer of two checkpoints, a model and a tagger,
/// pre-trained and fine-tuned). Every figure comes with its null.
///
/// - **Alignment** of a set S of k neurons: with mᵢ = Σ_{j∈S} ℓᵢⱼ² / Σⱼ ℓᵢⱼ² (S's share of
///   direction i's squared loadings, or of its squared unit weights with `.weights`),
///   A = Σᵢ ρᵢ mᵢ / Σᵢ ρᵢ, in [0, 1]. Its null for random sets of k neurons is exact
///   (`Comparator.alignment`): mean k/D, SD from the per-neuron shares; z = (A − k/D) / SD. A second
///   null keeps S and recomputes the directions on row-shuffled pairings of X and Y.
/// - **The probe's subspace**, in X's whitened coordinates (z = Λ^{-1/2}Vᵀ(x − μ) over X's
///   principal directions with variance above 1e-12 × the largest: r of them), where the canonical
///   weights become orthonormal vectors ãᵢ and a weight vector w reads the logit wᵀx with
///   variance ‖w̃‖²: W̃ is the probe's weights centred over classes (softmax ignores a common
///   shift) in those coordinates. `energy` = ‖W̃·Ã‖²/‖W̃‖², the share of the probe's logit variance
///   in the span of the canonical variates (chance m/r); `correlation` = Σᵢ ρᵢ‖W̃ãᵢ‖² / Σᵢ‖W̃ãᵢ‖²
///   (chance: mean ρ); `cosines` of the principal angles between W̃'s row space and the
///   canonical span; `inKeptComponents`, the share of the logit variance that comes from the
///   principal directions SVCCA kept (chance kx/r): low when the probe reads directions of
///   little variance, which SVCCA's variance rule discards. All of these are unchanged when X's
///   neurons are rescaled or mixed by any invertible map, with plain CCA (`.all`).
/// - **X against itself** (or any invertible map of it): every ρ is 1 and the directions are any
///   basis of X's span, so which neurons they rest on is arbitrary: `degenerate` says so, z is nil.
public struct CanonicalAlignment: Codable, Sendable {
    public struct ProbeSubspace: Codable, Sendable, Equatable {
        public var energy: Double
        public var energyChance: Double
        public var correlation: Double
        public var correlationChance: Double
        public var cosines: [Double]
        public var inKeptComponents: Double?
        public var inKeptComponentsChance: Double?
        /// `energy` on the shuffled pairings' canonical directions: mean and SD.
        public var shuffledEnergy: Double?
        public var shuffledEnergySD: Double?
    }

    public var by: NeuronLoading
    /// Canonical pairs used, and the principal directions SVCCA kept on each side (nil: CCA).
    public var directions: Int
    public var principalDirections: [Int]?
    public var correlations: [Double]
    public var neurons: [Int]
    public var alignment: Double
    public var chance: Double
    public var nullSD: Double
    public var z: Double?
    /// The alignment of the same neurons with the directions of row-shuffled pairings: mean, SD.
    public var shuffled: Double?
    public var shuffledSD: Double?
    public var probe: ProbeSubspace?
    /// Every ρ is 1 (a representation against itself, or an invertible map of it).
    public var degenerate: Bool
    public var warnings: [String]

    /// - Parameters:
    ///   - neurons: the ranking's top k (indices into X's neurons).
    ///   - probeWeights: a probe's weights on X's raw neurons [classes × D] (`FittedProbe.weights`).
    ///   - shuffles: row-shuffled pairings for the directions' null (0: none).
    ///   - moments: X's and Y's, when the caller has them already.
    public static func measure(
        x: Matrix<Float>, y: Matrix<Float>, neurons: [Int], probeWeights: Matrix<Double>?, directions: CanonicalDirections,
        by: NeuronLoading = .loadings, shuffles: Int = 0, moments given: JointMoments? = nil
    ) throws -> CanonicalAlignment {
        precondition(neurons.allSatisfy { (0..<x.columns).contains($0) }, "neurons outside X")
        let moments = try given ?? JointMoments(x: x, y: y)
        let whitening: Whitening
        switch directions {
        case .all: whitening = try Whitening(cca: moments)
        case .svcca(let keep), .leading(_, let keep): whitening = try Whitening(svcca: moments, keep: keep)
        }
        let whitenedX = try WhitenedSide(covariance: moments.sxx)
        func directionsOf(_ m: JointMoments) throws -> (weights: Matrix<Double>, rho: [Double], kept: [Int]?) {
            if directions == .all {
                let cca = try Similarity.canonicalCorrelation(m, whitening: whitening)
                return (cca.weightsX, cca.coefficients, nil)
            }
            let result = try Similarity.svcca(m, whitening: whitening)
            var (a, rho) = (result.cca.weightsX, result.cca.coefficients)
            if case .leading(let count, _) = directions, count < rho.count {
                (a, rho) = (a.rows(0..<count), Array(rho.prefix(count)))
            }
            return (a, rho, [result.kx, result.ky])
        }
        let (a, rho, kept) = try directionsOf(moments)
        let rows = by == .loadings ? whitenedX.loadings(a) : a
        let aligned = Comparator.alignment(salient: neurons, directions: rows, correlations: rho)
        let degenerate = !rho.isEmpty && rho.allSatisfy { $0 > 1 - 1e-6 }
        var warnings: [String] = []
        if degenerate {
            warnings.append(
                "every canonical correlation is 1 (X against itself, or an invertible map of it): the directions are any basis of X's span, so the alignment says nothing about the neurons")
        }
        if case .leading(let count, _) = directions, count > rho.count {
            warnings.append("\(count) directions asked for, \(rho.count) kept by the variance rule: all of them used")
        }
        var result = CanonicalAlignment(
            by: by, directions: rho.count, principalDirections: kept, correlations: rho, neurons: neurons, alignment: aligned.value,
            chance: aligned.chance, nullSD: aligned.nullSD, z: degenerate ? nil : aligned.z, shuffled: nil, shuffledSD: nil, probe: nil,
            degenerate: degenerate, warnings: warnings)
        let probe = try probeWeights.map { try whitenedX.probeSubspace($0, directions: a, correlations: rho, kept: kept?[0]) }
        if shuffles > 0 {
            let nulls = try Similarity.shuffledPairings(x: x, y: y, moments: moments, seeds: shuffles).map { m -> (Double, Double?) in
                let (a, rho, _) = try directionsOf(m)
                let value = Comparator.alignment(salient: neurons, directions: by == .loadings ? whitenedX.loadings(a) : a, correlations: rho).value
                return (value, try probeWeights.map { try whitenedX.probeSubspace($0, directions: a, correlations: rho, kept: nil).energy })
            }
            (result.shuffled, result.shuffledSD) = meanAndSpread(nulls.map(\.0))
            if var p = probe {
                (p.shuffledEnergy, p.shuffledEnergySD) = meanAndSpread(nulls.compactMap(\.1))
                result.probe = p
            }
        }
        if result.probe == nil { result.probe = probe }
        return result
    }
}

/// X's covariance in its principal coordinates: what turns canonical weights into loadings and a
/// probe's weights into whitened coordinates.
struct WhitenedSide {
    let covariance: Matrix<Double>
    /// Principal variances above 1e-12 × the largest, largest first, and their directions
    /// (columns of `axes`, [D × r]).
    let variances: [Double]
    let axes: Matrix<Double>

    init(covariance: Matrix<Double>) throws {
        self.covariance = covariance
        let eigen = try covariance.symmetricEigen()  // ascending
        let largest = eigen.values.last ?? 0
        let order = eigen.values.indices.reversed().filter { eigen.values[$0] > 1e-12 * largest && eigen.values[$0] > 0 }
        variances = order.map { eigen.values[$0] }
        axes = eigen.vectors.columns(order)
    }

    /// ℓᵢⱼ = corr(xⱼ, uᵢ) = (Σaᵢ)ⱼ / (σⱼ·sd(uᵢ)) for canonical weights `a` [m × D]; 0 for a
    /// neuron that does not vary.
    func loadings(_ a: Matrix<Double>) -> Matrix<Double> {
        var l = Matrix.product(a, covariance)
        for i in 0..<a.rows {
            let variance = zip(a.row(i), l.row(i)).reduce(0.0) { $0 + $1.0 * $1.1 }
            for j in 0..<a.columns {
                let s = (covariance[j, j] * variance).squareRoot()
                l[i, j] = s > 0 ? l[i, j] / s : 0
            }
        }
        return l
    }

    /// Weight vectors (rows, on raw neurons) in whitened coordinates: w̃ = Λ^{1/2}Vᵀw, so that
    /// ‖w̃‖² is the variance of wᵀx.
    func whitened(_ w: Matrix<Double>) -> Matrix<Double> {
        var out = Matrix.product(w, axes)
        for i in 0..<out.rows { for k in 0..<out.columns { out[i, k] *= variances[k].squareRoot() } }
        return out
    }

    /// `CanonicalAlignment`'s probe figures for raw weights `weights` [classes × D] against
    /// canonical weights `directions` [m × D] with correlations ρ; `kept`: SVCCA's principal
    /// directions on X's side.
    func probeSubspace(_ weights: Matrix<Double>, directions: Matrix<Double>, correlations: [Double], kept: Int?) throws
        -> CanonicalAlignment.ProbeSubspace
    {
        let r = variances.count
        // CCA judges rank on the correlation matrix, this whitening on the covariance: where X
        // has near-duplicate neurons of tiny variance the two can differ, and at most r
        // directions are independent here — the r leading ones (largest ρ) are used.
        let m = min(directions.rows, r)
        let directions = directions.rows(0..<m), correlations = Array(correlations.prefix(m))
        var centred = weights
        for j in 0..<weights.columns {
            let mean = (0..<weights.rows).reduce(0.0) { $0 + weights[$1, j] } / Double(weights.rows)
            for c in 0..<weights.rows { centred[c, j] -= mean }
        }
        let w = whitened(centred)  // classes × r
        let total = w.elements.reduce(0) { $0 + $1 * $1 }
        let meanRho = m > 0 ? correlations.reduce(0, +) / Double(m) : 0
        var result = CanonicalAlignment.ProbeSubspace(
            energy: 0, energyChance: Double(m) / Double(max(r, 1)), correlation: meanRho, correlationChance: meanRho, cosines: [],
            inKeptComponents: nil, inKeptComponentsChance: nil)
        if let kept {
            let k = min(kept, r)
            let inKept = (0..<w.rows).reduce(0.0) { sum, c in sum + (0..<k).reduce(0.0) { $0 + w[c, $1] * w[c, $1] } }
            result.inKeptComponents = total > 0 ? inKept / total : 0
            result.inKeptComponentsChance = Double(k) / Double(max(r, 1))
        }
        guard m > 0, total > 0 else { return result }
        // The canonical weights in whitened coordinates are orthonormal; QR keeps them so to rounding.
        let basis = try whitened(directions).transposed().qr().q  // r × m, column i from direction i
        let projected = Matrix.product(w, basis)  // classes × m
        var energy = [Double](repeating: 0, count: m)
        for c in 0..<projected.rows { for i in 0..<m { energy[i] += projected[c, i] * projected[c, i] } }
        let inSpan = energy.reduce(0, +)
        result.energy = inSpan / total
        if inSpan > 0 { result.correlation = zip(energy, correlations).reduce(0.0) { $0 + $1.0 * $1.1 } / inSpan }
        // Principal angles: the singular values of Qwᵀ·Q, Qw an orthonormal basis of W̃'s rows.
        let svd = try w.svd()
        let largest = svd.values.first ?? 0
        let rank = svd.values.filter { $0 > 1e-10 * largest }.count
        let cross = Matrix.product(svd.vt.rows(0..<rank), basis)  // rank × m
        result.cosines = try cross.singularValues().map { min(1, $0) }
        return result
    }
}
