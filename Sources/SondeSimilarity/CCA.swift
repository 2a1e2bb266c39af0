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
        try canonicalCorrelation(m, whitening: try Whitening(cca: m, epsilon: epsilon), weights: weights)
    }

    /// SVCCA from the moments: per side the principal directions of the centred data (the
    /// eigenvectors of the covariance, = the right singular vectors of the centred data, with
    /// s² = (n − 1)·λ), the leading ones kept by `keep`, then CCA between the kept components.
    public static func svcca(_ m: JointMoments, keep: SVCCAKeep, weights: Bool = true) throws -> SVCCAResult {
        try svcca(m, whitening: try Whitening(svcca: m, keep: keep), weights: weights)
    }

    /// SVCCA through a whitening made by `Whitening(svcca:keep:)` (its rule is the result's).
    public static func svcca(_ m: JointMoments, whitening: Whitening, weights: Bool = true) throws -> SVCCAResult {
        guard let keep = whitening.svccaRule else { preconditionFailure("a CCA whitening given to SVCCA: make it with Whitening(svcca:keep:)") }
        return SVCCAResult(
            keep: keep, kx: whitening.whiteX.columns, ky: whitening.whiteY.columns,
            cca: try canonicalCorrelation(m, whitening: whitening, weights: weights))
    }

    /// The canonical correlations of `m`'s cross-covariance through a whitening made from moments
    /// with the same Σxx and Σyy (`m` itself, or the pairing it was shuffled from): the SVD of
    /// Wxᵀ·Σxy·Wy, and the canonical weights mapped back to all neurons.
    public static func canonicalCorrelation(_ m: JointMoments, whitening: Whitening, weights: Bool = true) throws -> CanonicalCorrelation {
        let (keptX, keptY, whiteX, whiteY) = (whitening.keptX, whitening.keptY, whitening.whiteX, whitening.whiteY)
        let t = whitenedCross(m, whitening)
        let k = min(whiteX.columns, whiteY.columns)
        guard weights else {
            // ρ² are the eigenvalues of the smaller of T·Tᵀ and Tᵀ·T (values only: a tenth of an
            // SVD's time); a ρ near 0 is then good to about 1e-8 absolute, ample for a mean.
            let squares = try smallerGram(t).symmetricEigenvalues().reversed().prefix(k)
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

    /// PWCCA by Morcos et al.'s definition: on the side with fewer kept neurons, each canonical
    /// variate hᵢ (unit length) is weighted by αᵢ = Σⱼ |⟨hᵢ, xⱼ⟩| over that side's centred
    /// neurons xⱼ; the weights are normalised and the coefficients averaged with them. Only that
    /// side's canonical weights are needed: the eigenvectors of T·Tᵀ (or Tᵀ·T), a third of the
    /// time of T's full SVD. `whitening`, when given, must come from `Whitening(cca:epsilon:)` on
    /// moments with the same Σxx and Σyy (a null baseline prepares it once for its shuffles).
    public static func pwcca(
        _ m: JointMoments, epsilon: Double = defaultEpsilon, whitening given: Whitening? = nil
    ) throws -> (value: Double, weights: [Double], coefficients: [Double]) {
        precondition(given?.svccaRule == nil, "PWCCA takes CCA's whitening (Whitening(cca:epsilon:))")
        let w = try given ?? Whitening(cca: m, epsilon: epsilon)
        let t = whitenedCross(m, w)
        let useX = w.keptX.count <= w.keptY.count
        let k = min(t.rows, t.columns)
        // T·Tᵀ when X has fewer kept neurons (whose eigenvectors are X's canonical directions in
        // whitened coordinates), else Tᵀ·T.
        let eigen = try (useX ? t.transposed() : t).gram().symmetricEigen()
        let order = Array(eigen.values.indices.reversed().prefix(k))  // largest first
        let coefficients = order.map { min(max(eigen.values[$0], 0).squareRoot(), 1) }
        // ⟨hᵢ, xⱼ⟩ = (n−1)(Σ aᵢ)ⱼ / √((n−1) aᵢᵀΣaᵢ) with aᵢ = W·vᵢ; the variates have unit
        // variance, so aᵢᵀΣaᵢ = 1, and Σ·aᵢ = (Σ·W)·vᵢ with Σ·W made with the whitening.
        // Column i of `sa` = (Σ aᵢ) on the kept neurons.
        var sa = eigen.vectors.columns(order)
        if let f = useX ? w.triangularX : w.triangularY {
            // Σ·W = D·L after Cholesky: a triangular product, half a general one's work.
            let (rows, columns) = (sa.rows, sa.columns)
            sa.withUnsafeMutableBufferPointer { b in
                f.lower.withUnsafeBufferPointer { l in
                    Double._triangular(
                        multiply: true, left: true, upper: false, transA: false, m: rows, n: columns, alpha: 1, a: l.baseAddress!, lda: rows,
                        b: b.baseAddress!,
                        ldb: columns)
                }
                for i in 0..<rows { for j in 0..<columns { b[i * columns + j] *= f.sd[i] } }
            }
        } else {
            sa = Matrix.product((useX ? w.colourX : w.colourY)!, sa)  // CCA's whitening (the precondition above)
        }
        var weights = (0..<k).map { i in (0..<sa.rows).reduce(0.0) { $0 + abs(sa[$1, i]) } * Double(m.n - 1).squareRoot() }
        let total = weights.reduce(0, +)
        weights = weights.map { $0 / total }
        return (zip(weights, coefficients).reduce(0) { $0 + $1.0 * $1.1 }, weights, coefficients)
    }

    /// PWCCA and CCA's coefficients from one T and one decomposition: PWCCA's coefficients are
    /// CCA's, the square roots of the eigenvalues of the same Gram matrix of T. The CCA result is
    /// `canonicalCorrelation(m, whitening:, weights: false)`'s (no canonical weights), its values
    /// from the eigensolver with vectors instead of the one without (the same to ~1e-15).
    public static func pwccaAndCCA(
        _ m: JointMoments, whitening w: Whitening
    ) throws -> (pwcca: (value: Double, weights: [Double], coefficients: [Double]), cca: CanonicalCorrelation) {
        let p = try pwcca(m, whitening: w)
        let cca = CanonicalCorrelation(
            coefficients: p.coefficients, keptX: w.keptX, keptY: w.keptY, rankX: w.whiteX.columns, rankY: w.whiteY.columns,
            weightsX: Matrix(rows: 0, columns: m.p), weightsY: Matrix(rows: 0, columns: m.q))
        return (p, cca)
    }

    /// T = Wxᵀ·Σxy·Wy on the kept neurons: its singular values are the canonical correlations.
    /// When both sides were whitened by Cholesky (W = D⁻¹·L⁻ᵀ), T = Lx⁻¹·(Dx⁻¹·Σxy·Dy⁻¹)·Ly⁻ᵀ:
    /// two triangular solves, each half the work of a product.
    static func whitenedCross(_ m: JointMoments, _ w: Whitening) -> Matrix<Double> {
        precondition(m.p == w.p && m.q == w.q, "the whitening was made for other moments")
        let cross = w.keptX.count == m.p && w.keptY.count == m.q ? m.sxy : m.sxy.rows(w.keptX).columns(w.keptY)
        guard let fx = w.triangularX, let fy = w.triangularY else {
            return Matrix.product(Matrix.product(w.whiteX, cross, transposeA: true), w.whiteY)
        }
        let (kx, ky) = (cross.rows, cross.columns)
        var t = Matrix<Double>(rows: kx, columns: ky) { out in
            cross.withUnsafeBufferPointer { c in
                for i in 0..<kx { for j in 0..<ky { out[i * ky + j] = c[i * ky + j] / (fx.sd[i] * fy.sd[j]) } }
            }
        }
        t.withUnsafeMutableBufferPointer { pt in
            fx.lower.withUnsafeBufferPointer { lx in
                Double._triangular(
                    multiply: false,
                    left: true, upper: false, transA: false, m: kx, n: ky, alpha: 1, a: lx.baseAddress!, lda: kx, b: pt.baseAddress!, ldb: ky)
            }
            fy.lower.withUnsafeBufferPointer { ly in
                Double._triangular(
                    multiply: false,
                    left: false, upper: false, transA: true, m: kx, n: ky, alpha: 1, a: ly.baseAddress!, lda: ky, b: pt.baseAddress!, ldb: ky)
            }
        }
        return t
    }

    /// The smaller of T·Tᵀ and Tᵀ·T (syrk): its eigenvalues are the squared singular values of T.
    static func smallerGram(_ t: Matrix<Double>) -> Matrix<Double> { (t.rows <= t.columns ? t.transposed() : t).gram() }

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
    /// directions with eigenvalue below 1e-12 × the largest (exact collinearity). PWCCA's weights
    /// need Σ·W·v for many v, which either factorisation gives without forming Σ·W by a product:
    /// after Cholesky Σ·W = D·L (D the standard deviations; L and D are returned), after the
    /// eigendecomposition Σ·W = D·V·Λ^½ (returned as `colour`).
    static func whitening(
        _ s: Matrix<Double>, _ kept: [Int]
    ) throws -> (white: Matrix<Double>, colour: Matrix<Double>?, triangular: Whitening.Triangular?) {
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
                        Double._triangular(
                            multiply: false,
                            left: true, upper: false, transA: true, m: k, n: k, alpha: 1, a: pl.baseAddress!, lda: k, b: pw.baseAddress!, ldb: k)
                    }
                }
                w.withUnsafeMutableBufferPointer { p in for i in 0..<k { for j in 0..<k { p[i * k + j] /= sd[i] } } }
                return (w, nil, Whitening.Triangular(lower: l, sd: sd))
            }
        }
        let eigen = try correlation.symmetricEigen()
        let top = eigen.values.last ?? 0
        let directions = eigen.values.indices.filter { eigen.values[$0] > top * 1e-12 }.reversed()
        let r = directions.count
        var (white, colour) = (Matrix<Double>(rows: k, columns: r), Matrix<Double>(rows: k, columns: r))
        for (c, e) in directions.enumerated() {
            let root = eigen.values[e].squareRoot()
            for i in 0..<k {
                white[i, c] = eigen.vectors[i, e] / (root * sd[i])
                colour[i, c] = eigen.vectors[i, e] * root * sd[i]
            }
        }
        return (white, colour, nil)
    }
}

/// Each side's whitening for CCA or SVCCA. It depends on Σxx and Σyy only, which a row-shuffled
/// pairing leaves unchanged, so a null baseline makes it once (two eigendecompositions of
/// 1,024² matrices for SVCCA) and pays per shuffle only for Wxᵀ·Σxy·Wy and its small SVD.
public struct Whitening: Sendable {
    let p: Int
    let q: Int
    /// SVCCA's rule for the directions kept; nil for CCA's whitening.
    let svccaRule: SVCCAKeep?
    /// Neurons that enter on each side (all of them for SVCCA).
    let keptX: [Int]
    let keptY: [Int]
    /// [kept × dimensions]: Wᵀ·Σ·W = I on the directions kept.
    let whiteX: Matrix<Double>
    let whiteY: Matrix<Double>
    /// The directions kept on each side (SVCCA's kx and ky).
    public var dimensions: (x: Int, y: Int) { (whiteX.columns, whiteY.columns) }
    /// Σ·W on the kept neurons, [kept × dimensions], for PWCCA's weights: CCA's whitening by
    /// eigendecomposition only (nil after Cholesky, see `triangularX`, and for SVCCA's, which
    /// PWCCA does not take).
    let colourX: Matrix<Double>?
    let colourY: Matrix<Double>?
    /// A side whitened by Cholesky of its correlation matrix K = L·Lᵀ: W = D⁻¹·L⁻ᵀ.
    struct Triangular: Sendable {
        let lower: Matrix<Double>
        let sd: [Double]
    }
    /// CCA's whitening of a side when it came from Cholesky (nil after the eigendecomposition).
    let triangularX: Triangular?
    let triangularY: Triangular?

    /// CCA's: neurons with variance above ε × the largest, scaled and whitened (`Similarity.cca`).
    public init(cca m: JointMoments, epsilon: Double = Similarity.defaultEpsilon) throws {
        try Similarity.guardSize(m, "CCA")
        let keptX = Similarity.kept(m.sxx, epsilon), keptY = Similarity.kept(m.syy, epsilon)
        guard !keptX.isEmpty, !keptY.isEmpty else {
            throw SimilarityError("no neuron of \(keptX.isEmpty ? "X" : "Y") varies (all variances are at most ε = \(epsilon) × the largest)")
        }
        (p, q, self.keptX, self.keptY, svccaRule) = (m.p, m.q, keptX, keptY, nil)
        let x = try Similarity.whitening(m.sxx, keptX), y = try Similarity.whitening(m.syy, keptY)
        (whiteX, whiteY, colourX, colourY, triangularX, triangularY) = (x.white, y.white, x.colour, y.colour, x.triangular, y.triangular)
    }

    /// SVCCA's: the leading principal directions kept by `keep`, each divided by √λ.
    public init(svcca m: JointMoments, keep: SVCCAKeep) throws {
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
        func white(_ v: Matrix<Double>, _ values: [Double], _ k: Int) -> Matrix<Double> {
            Matrix(rows: v.rows, columns: k) { out in
                for i in 0..<v.rows { for j in 0..<k { out[i * k + j] = v[i, j] / values[j].squareRoot() } }
            }
        }
        (p, q, keptX, keptY, svccaRule) = (m.p, m.q, Array(0..<m.p), Array(0..<m.q), keep)
        (whiteX, whiteY, colourX, colourY, triangularX, triangularY) = (white(vx, lx, kx), white(vy, ly, ky), nil, nil, nil, nil)
    }
}
