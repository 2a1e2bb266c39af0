import Foundation
import SondeLinalg

/// Canonical correlations between X [n × p] and Y [n × q], with the canonical weights that make
/// them: the variate Xc·aᵢ (Xc the centred X) has unit variance and correlates ρᵢ with Yc·bᵢ.
public struct CanonicalCorrelation: Sendable {
    /// ρ₁ ≥ ρ₂ ≥ …, min(rank X, rank Y) of them.
    public let coefficients: [Double]
    /// Neurons that entered (variance above ε × the largest); the others are reported as dropped.
    public let keptX: [Int]
    public let keptY: [Int]
    /// Dimensions of each side after removing exact collinearity (eigenvalues of the correlation
    /// matrix below 1e-12 × the largest).
    public let rankX: Int
    public let rankY: Int
    /// Canonical weights in neuron space, [k × p] and [k × q] (row i makes variate i; dropped
    /// neurons have weight 0).
    public let weightsX: Matrix<Double>
    public let weightsY: Matrix<Double>

    public var mean: Double { coefficients.isEmpty ? 0 : coefficients.reduce(0, +) / Double(coefficients.count) }
    public var meanSquared: Double { coefficients.isEmpty ? 0 : coefficients.reduce(0) { $0 + $1 * $1 } / Double(coefficients.count) }

    /// Row i of `weightsX` scaled to unit length: the SVCCA *directions* in neuron space.
    public func directionsX() -> Matrix<Double> { unitRows(weightsX) }
    public func directionsY() -> Matrix<Double> { unitRows(weightsY) }
}

func unitRows(_ m: Matrix<Double>) -> Matrix<Double> {
    Matrix(rows: m.rows, columns: m.columns) { out in
        m.withUnsafeBufferPointer { a in
            for i in 0..<m.rows {
                var norm = 0.0
                for j in 0..<m.columns { norm += a[i * m.columns + j] * a[i * m.columns + j] }
                let scale = norm > 0 ? 1 / norm.squareRoot() : 0
                for j in 0..<m.columns { out[i * m.columns + j] = a[i * m.columns + j] * scale }
            }
        }
    }
}

/// How many principal directions SVCCA keeps on each side.
public enum SVCCAKeep: Sendable, Equatable {
    /// A fixed number of directions (at most the side's rank).
    case dimensions(Int)
    /// The fewest leading directions whose singular values squared reach this share of Σs² (the
    /// variance after centring). Raghu et al. say 99%; some libraries count Σs instead — Sonde
    /// uses Σs² and records the rule.
    case variance(Double)
}

/// SVCCA: CCA between the top principal directions of each side.
public struct SVCCAResult: Sendable {
    public let keep: SVCCAKeep
    /// Directions kept on each side.
    public let kx: Int
    public let ky: Int
    /// The CCA of the kept principal components; its weights are in neuron space.
    public let cca: CanonicalCorrelation
}

public enum Similarity {
    /// Neurons whose variance is at most ε × the largest variance on their side are dropped.
    public static let defaultEpsilon = 1e-10

    /// The canonical variates of `data` [tokens × neurons] for canonical weights `weights`
    /// [k × neurons] (rows: the weight vectors, in the units the weights were fitted in) and the
    /// neurons' `means`: (X − means)·Wᵀ = X·Wᵀ − means·Wᵀ, one sgemm and a shift. [tokens × k].
    public static func canonicalVariates(_ data: Matrix<Float>, weights: Matrix<Double>, means: [Double]) -> Matrix<Float> {
        let w = Matrix<Float>(rows: weights.rows, columns: weights.columns, elements: weights.elements.map { Float($0) })
        var out = Matrix.product(data, w, transposeB: true)
        let shift = weights.times(means).map { Float($0) }
        let k = weights.rows
        out.withUnsafeMutableBufferPointer { p in for r in 0..<data.rows { for i in 0..<k { p[r * k + i] -= shift[i] } } }
        return out
    }

    /// CCA from the moments. Each side is scaled to unit variance per neuron and whitened through
    /// the eigendecomposition of its correlation matrix (directions with eigenvalue below 1e-12 ×
    /// the largest — exact collinearity — are left out and counted in the rank); the
    /// coefficients are the singular values of Wxᵀ·Kxy·Wy. Everything is in Double.
    /// Without `weights`, only the coefficients are computed (the SVD without singular vectors,
    /// several times cheaper); `weightsX`/`weightsY` are then empty.
    public static func cca(_ m: JointMoments, epsilon: Double = defaultEpsilon, weights: Bool = true) throws -> CanonicalCorrelation {
        try guardSize(m, "CCA")
        let keptX = kept(m.sxx, epsilon), keptY = kept(m.syy, epsilon)
        guard !keptX.isEmpty, !keptY.isEmpty else {
            throw SimilarityError("no neuron of \(keptX.isEmpty ? "X" : "Y") varies (all variances are at most ε = \(epsilon) × the largest)")
        }
        let wx = try whitening(m.sxx, keptX), wy = try whitening(m.syy, keptY)
        let kxy = m.sxy.rows(keptX).columns(keptY)
        return try canonical(m, keptX: keptX, keptY: keptY, whiteX: wx, whiteY: wy, cross: kxy, weights: weights)
    }

    /// SVCCA from the moments: per side the principal directions of the centred data (the
    /// eigenvectors of the covariance, = the right singular vectors of the centred data, with
    /// s² = (n − 1)·λ), the leading ones kept by `keep`, then CCA between the kept components.
    public static func svcca(_ m: JointMoments, keep: SVCCAKeep, weights: Bool = true) throws -> SVCCAResult {
        func principal(_ s: Matrix<Double>) throws -> (vectors: Matrix<Double>, values: [Double]) {
            let eigen = try s.symmetricEigen()
            let order = Array(eigen.values.indices.reversed())
            return (eigen.vectors.columns(order), order.map { max(eigen.values[$0], 0) })
        }
        let (vx, lx) = try principal(m.sxx), (vy, ly) = try principal(m.syy)
        func count(_ values: [Double]) throws -> Int {
            let positive = values.prefix { $0 > values[0] * 1e-12 }.count
            switch keep {
            case .dimensions(let k):
                guard k >= 1 else { throw SimilarityError("SVCCA needs at least one direction") }
                return min(k, positive)
            case .variance(let share):
                guard share > 0 && share <= 1 else { throw SimilarityError("the variance share must be in (0, 1]") }
                let total = values.reduce(0, +)
                var sum = 0.0
                for (i, v) in values.enumerated() { sum += v; if sum >= share * total { return min(i + 1, positive) } }
                return positive
            }
        }
        let kx = try count(lx), ky = try count(ly)
        guard kx >= 1, ky >= 1 else { throw SimilarityError("a side has no variance: SVCCA needs activations that vary") }
        if kx >= m.n || ky >= m.n {
            throw SimilarityError("SVCCA keeps \(max(kx, ky)) directions for only \(m.n) datapoints; keep fewer (--dims) or use more tokens")
        }
        // Whitening of the kept components: v_i / √λ_i; the cross-covariance of the raw data.
        func white(_ v: Matrix<Double>, _ values: [Double], _ k: Int) -> Matrix<Double> {
            Matrix(rows: v.rows, columns: k) { out in
                for i in 0..<v.rows { for j in 0..<k { out[i * k + j] = v[i, j] / values[j].squareRoot() } }
            }
        }
        let cca = try canonical(
            m, keptX: Array(0..<m.p), keptY: Array(0..<m.q), whiteX: white(vx, lx, kx), whiteY: white(vy, ly, ky), cross: m.sxy,
            weights: weights)
        return SVCCAResult(keep: keep, kx: kx, ky: ky, cca: cca)
    }

    /// PWCCA by Morcos et al.'s definition: on the side with fewer kept neurons, each canonical
    /// variate hᵢ (unit length) is weighted by αᵢ = Σⱼ |⟨hᵢ, xⱼ⟩| over that side's centred
    /// neurons xⱼ; the weights are normalised and the coefficients averaged with them.
    public static func pwcca(
        _ m: JointMoments, epsilon: Double = defaultEpsilon
    ) throws -> (value: Double, weights: [Double], cca: CanonicalCorrelation) {
        let c = try cca(m, epsilon: epsilon)
        let useX = c.keptX.count <= c.keptY.count
        let s = useX ? m.sxx : m.syy
        let a = useX ? c.weightsX : c.weightsY
        let k = c.coefficients.count
        // ⟨hᵢ, xⱼ⟩ = (n−1)(Σ aᵢ)ⱼ / √((n−1) aᵢᵀΣaᵢ); the variates have unit variance, so aᵢᵀΣaᵢ = 1.
        let sa = Matrix.product(a, s)  // [k × d]: row i = (Σ aᵢ)ᵀ
        let kept = Set(useX ? c.keptX : c.keptY)
        var weights = (0..<k).map { i in
            (0..<sa.columns).reduce(0.0) { kept.contains($1) ? $0 + abs(sa[i, $1]) : $0 } * Double(m.n - 1).squareRoot()
        }
        let total = weights.reduce(0, +)
        weights = weights.map { $0 / total }
        return (zip(weights, c.coefficients).reduce(0) { $0 + $1.0 * $1.1 }, weights, c)
    }

    // MARK: - Shared steps

    static func guardSize(_ m: JointMoments, _ what: String) throws {
        if m.p >= m.n || m.q >= m.n {
            throw SimilarityError(
                "\(what) of \(m.p) and \(m.q) neurons over only \(m.n) datapoints is meaningless (with as many neurons as datapoints everything correlates perfectly); use SVCCA with fewer directions (--dims), debiased CKA, or more tokens"
            )
        }
    }

    /// Indices whose variance exceeds ε × the largest (and is positive).
    static func kept(_ s: Matrix<Double>, _ epsilon: Double) -> [Int] {
        let variances = (0..<s.rows).map { s[$0, $0] }
        let top = variances.max() ?? 0
        return variances.indices.filter { variances[$0] > 0 && variances[$0] >= epsilon * top }
    }

    /// W with Wᵀ·K·W = I on K's range, for K the correlation matrix of the kept neurons of
    /// covariance `s`; returned in the units of the covariance (W already divided by the standard
    /// deviations), [kept × rank]. K = L·Lᵀ by Cholesky gives W = L⁻ᵀ (a 1,024-neuron side in
    /// milliseconds); when K is singular or nearly so (Cholesky fails, or its diagonal spans more
    /// than 1e-6 — a condition number beyond 1e12), the eigendecomposition instead, leaving out
    /// directions with eigenvalue below 1e-12 × the largest (exact collinearity).
    static func whitening(_ s: Matrix<Double>, _ kept: [Int]) throws -> Matrix<Double> {
        let sd = kept.map { s[$0, $0].squareRoot() }
        let k = kept.count
        let correlation = Matrix<Double>(rows: k, columns: k) { out in
            for i in 0..<k { for j in 0..<k { out[i * k + j] = s[kept[i], kept[j]] / (sd[i] * sd[j]) } }
        }
        if let l = try? correlation.cholesky() {
            let diagonal = (0..<k).map { l[$0, $0] }
            if let low = diagonal.min(), let high = diagonal.max(), low > high * 1e-6 {
                // W = D⁻¹·L⁻ᵀ: solve Lᵀ·W = I (trsm), then divide row i by sd[i].
                var w = Matrix<Double>.identity(k)
                l.withUnsafeBufferPointer { pl in
                    w.withUnsafeMutableBufferPointer { pw in
                        Double._trsm(
                            left: true, upper: false, transA: true, m: k, n: k, alpha: 1, a: pl.baseAddress!, lda: k, b: pw.baseAddress!, ldb: k)
                    }
                }
                w.withUnsafeMutableBufferPointer { p in for i in 0..<k { for j in 0..<k { p[i * k + j] /= sd[i] } } }
                return w
            }
        }
        let eigen = try correlation.symmetricEigen()
        let top = eigen.values.last ?? 0
        let directions = eigen.values.indices.filter { eigen.values[$0] > top * 1e-12 }.reversed()
        let r = directions.count
        return Matrix(rows: k, columns: r) { out in
            for (c, e) in directions.enumerated() {
                let scale = 1 / eigen.values[e].squareRoot()
                for i in 0..<k { out[i * r + c] = eigen.vectors[i, e] * scale / sd[i] }
            }
        }
    }

    /// The SVD of Wxᵀ·Σxy·Wy and the canonical weights mapped back to all neurons.
    static func canonical(
        _ m: JointMoments, keptX: [Int], keptY: [Int], whiteX: Matrix<Double>, whiteY: Matrix<Double>, cross: Matrix<Double>,
        weights: Bool
    ) throws -> CanonicalCorrelation {
        let t = Matrix.product(Matrix.product(whiteX, cross, transposeA: true), whiteY)
        let k = min(whiteX.columns, whiteY.columns)
        guard weights else {
            // ρ² are the eigenvalues of the smaller of T·Tᵀ and Tᵀ·T (values only: a tenth of an
            // SVD's time); a ρ near 0 is then good to about 1e-8 absolute, ample for a mean.
            let gram = t.rows <= t.columns ? Matrix.product(t, t, transposeB: true) : Matrix.product(t, t, transposeA: true)
            let squares = try gram.symmetricEigenvalues().reversed().prefix(k)
            return CanonicalCorrelation(
                coefficients: squares.map { min(max($0, 0).squareRoot(), 1) }, keptX: keptX, keptY: keptY,
                rankX: whiteX.columns, rankY: whiteY.columns, weightsX: Matrix(rows: 0, columns: m.p), weightsY: Matrix(rows: 0, columns: m.q))
        }
        let svd = try t.svd()
        let ax = Matrix.product(whiteX, svd.u.columns(Array(0..<k)))  // [kept x × k]
        let ay = Matrix.product(whiteY, svd.vt.rows(0..<k), transposeB: true)  // [kept y × k]
        func spread(_ a: Matrix<Double>, _ kept: [Int], _ d: Int) -> Matrix<Double> {
            var w = Matrix<Double>(rows: k, columns: d)
            w.withUnsafeMutableBufferPointer { out in
                for (r, neuron) in kept.enumerated() { for i in 0..<k { out[i * d + neuron] = a[r, i] } }
            }
            return w
        }
        return CanonicalCorrelation(
            coefficients: Array(svd.values.prefix(k)).map { min($0, 1) }, keptX: keptX, keptY: keptY,
            rankX: whiteX.columns, rankY: whiteY.columns,
            weightsX: spread(ax, keptX, m.p), weightsY: spread(ay, keptY, m.q))
    }
}
