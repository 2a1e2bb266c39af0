import Foundation
import SondeLinalg

/// google/svcca's `cca_core.get_cca_similarity`, reproduced: numpy's covariance (divisor n − 1),
/// each block rescaled by the largest |entry| of Σxx and Σyy, neurons whose rescaled variance is
/// below ε removed, ε added to the diagonals, and Σ^(−1/2) as the square root of the
/// pseudo-inverse (one eigendecomposition here: the same matrix as google's pinv + eigh, to
/// rounding). Where google's square root meets a negative eigenvalue it produces NaN and numpy's
/// SVD then fails; Sonde reports that case as an error instead.
///
/// Whether that failure happens depends on the CPU's rounding, so Sonde refuses the whole class
/// beforehand, deterministically: a kept neuron whose rescaled variance is below
/// `nearConstantVariance` (constant at double precision: its inverse square root would carry
/// no correct digit) is an error that names the neuron, whatever LAPACK would have done.
public struct GoogleCCA: Sendable {
    /// The absolute singular values, descending: min(kept X, kept Y) of them.
    public let coefficients: [Double]
    /// google's "mean": the mean of the first i coefficients, i the first index whose prefix sum
    /// reaches `threshold` of the total (all of them if none does before the end).
    public let thresholdedMean: Double
    /// The plain mean, which papers usually report.
    public let mean: Double
    /// Which neurons were kept (google's x_idxs / y_idxs).
    public let keptX: [Bool]
    public let keptY: [Bool]
    /// google's coef_x (= uᵀ, [kept x × kept x]) and the inverse square root, for its PWCCA.
    let u: Matrix<Double>
    let vt: Matrix<Double>

    /// Rescaled variances below this are constant at double precision (≈ 1e4 · ulp(1)).
    public static let nearConstantVariance = 1e-12

    /// `vectors` keeps the singular vectors (google's PWCCA needs them); without, only the values.
    public static func compute(_ m: JointMoments, epsilon: Double, threshold: Double = 0.98, vectors: Bool = false) throws -> GoogleCCA {
        let xmax = m.sxx.elements.map(abs).max() ?? 0, ymax = m.syy.elements.map(abs).max() ?? 0
        guard xmax > 0, ymax > 0 else { throw SimilarityError("a side is constant: every covariance is 0") }
        let keptX = (0..<m.p).map { abs(m.sxx[$0, $0]) / xmax >= epsilon }
        let keptY = (0..<m.q).map { abs(m.syy[$0, $0]) / ymax >= epsilon }
        let ix = keptX.indices.filter { keptX[$0] }, iy = keptY.indices.filter { keptY[$0] }
        for (side, kept, s, scale) in [("X", ix, m.sxx, xmax), ("Y", iy, m.syy, ymax)] {
            if let i = kept.first(where: { abs(s[$0, $0]) / scale < nearConstantVariance }) {
                throw SimilarityError(
                    "neuron \(i) of \(side) is constant at double precision (variance \(abs(s[i, i]) / scale) of the largest) and ε = \(epsilon) keeps it: google's CCA has no defined result there (numpy's SVD fails or not, by CPU); use ε ≥ \(nearConstantVariance) (e.g. 1e-10) or Sonde's own CCA"
                )
            }
        }
        guard !ix.isEmpty, !iy.isEmpty else {
            return GoogleCCA(
                coefficients: [], thresholdedMean: 0, mean: 0, keptX: keptX, keptY: keptY, u: Matrix(rows: 0, columns: 0),
                vt: Matrix(rows: 0, columns: 0))
        }
        func rescaled(_ s: Matrix<Double>, _ kept: [Int], _ scale: Double) -> Matrix<Double> {
            Matrix(rows: kept.count, columns: kept.count) { out in
                for (i, a) in kept.enumerated() {
                    for (j, b) in kept.enumerated() { out[i * kept.count + j] = s[a, b] / scale + (i == j ? epsilon : 0) }
                }
            }
        }
        // google's steps in numpy's order: pinv by SVD (singular values ≤ 1e-15 × the largest
        // zeroed), then eigh of the pinv (its lower triangle) and the square roots of its
        // eigenvalues. A near-singular block can give the pinv a negative eigenvalue: NaN there.
        func inverseSquareRoot(_ s: Matrix<Double>) throws -> Matrix<Double> {
            let n = s.rows
            let svd = try s.svd()
            let cutoff = 1e-15 * (svd.values.first ?? 0)
            // pinv = V·diag(1/σ)·Uᵀ over σ > cutoff: scale U's columns, one gemm.
            var scaledU = svd.u
            scaledU.withUnsafeMutableBufferPointer { p in
                for i in 0..<n { for k in 0..<n { p[i * n + k] *= svd.values[k] > cutoff ? 1 / svd.values[k] : 0 } }
            }
            var pinv = Matrix.product(svd.vt, scaledU, transposeA: true, transposeB: true)
            pinv.withUnsafeMutableBufferPointer { r in for i in 0..<n { for j in (i + 1)..<max(i + 1, n) { r[i * n + j] = r[j * n + i] } } }
            let eigen = try pinv.symmetricEigen()
            guard eigen.values.allSatisfy({ $0 >= 0 }) else {
                throw SimilarityError(
                    "google's CCA takes the square root of a negative eigenvalue here (it fails with \"SVD did not converge\"); use ε > 0 (e.g. 1e-10) or Sonde's own CCA"
                )
            }
            // V·diag(√w)·Vᵀ = (V·diag(w^¼))·(V·diag(w^¼))ᵀ.
            var half = eigen.vectors
            half.withUnsafeMutableBufferPointer { p in
                for i in 0..<n { for e in 0..<n { p[i * n + e] *= eigen.values[e].squareRoot().squareRoot() } }
            }
            return Matrix.product(half, half, transposeB: true)
        }
        let sxx = rescaled(m.sxx, ix, xmax), syy = rescaled(m.syy, iy, ymax)
        let cross = (xmax * ymax).squareRoot()
        let sxy = Matrix<Double>(rows: ix.count, columns: iy.count) { out in
            for (i, a) in ix.enumerated() { for (j, b) in iy.enumerated() { out[i * iy.count + j] = m.sxy[a, b] / cross } }
        }
        let t = Matrix.product(Matrix.product(try inverseSquareRoot(sxx), sxy), try inverseSquareRoot(syy))
        // LAPACK on T itself (not on Tᵀ, as Matrix.svd runs), so the singular vectors carry the
        // signs numpy's gives: google's PWCCA adds the means back after the rotation, which makes
        // its result depend on those signs.
        let svd: (u: Matrix<Double>, values: [Double], vt: Matrix<Double>)
        if vectors {
            let transposedSVD = try t.transposed().svd()
            svd = (transposedSVD.vt.transposed(), transposedSVD.values, transposedSVD.u.transposed())
        } else {
            svd = (Matrix(rows: 0, columns: 0), try t.singularValues(), Matrix(rows: 0, columns: 0))
        }
        let s = svd.values.map(abs)
        let total = s.reduce(0, +)
        var cut = s.count
        var prefix = 0.0
        for i in 0..<s.count {
            if total > 0 && prefix / total >= threshold { cut = i; break }
            prefix += s[i]
        }
        let head = cut == 0 ? [] : Array(s.prefix(cut))
        return GoogleCCA(
            coefficients: s, thresholdedMean: head.isEmpty ? .nan : head.reduce(0, +) / Double(head.count),
            mean: s.reduce(0, +) / Double(s.count), keptX: keptX, keptY: keptY, u: svd.u, vt: svd.vt)
    }
}

extension Similarity {
    /// google/svcca's `pwcca.compute_pwcca`: on the side with fewer kept neurons, its
    /// "directions" uᵀ·(acts − means) + means (no whitening: not the canonical variates), made
    /// orthonormal by QR, weight each coefficient by Σⱼ |⟨direction, raw activations of neuron j⟩|.
    /// google's code indexes X's activations with Y's mask when Y keeps fewer neurons (and fails);
    /// Sonde uses Y's own activations there.
    public static func googlePWCCA<S: LinalgScalar>(
        x: Matrix<S>, y: Matrix<S>, moments m: JointMoments, epsilon: Double
    ) throws -> (value: Double, weights: [Double], cca: GoogleCCA) {
        let g = try GoogleCCA.compute(m, epsilon: epsilon, vectors: true)
        let ix = g.keptX.indices.filter { g.keptX[$0] }, iy = g.keptY.indices.filter { g.keptY[$0] }
        guard !ix.isEmpty, !iy.isEmpty else { return (0, [], g) }
        let useX = ix.count <= iy.count
        let kept = useX ? ix : iy
        let means = useX ? m.meansX : m.meansY
        let data = useX ? x : y
        // coef = uᵀ for X (rows of uᵀ), v (google's third SVD output = vt) for Y.
        let coef = useX ? g.u.transposed() : g.vt
        let d = kept.count
        // acts: the kept neurons' raw values, [n × d] in Double.
        let acts = Matrix<Double>(rows: m.n, columns: d) { out in
            data.withUnsafeBufferPointer { a in
                for r in 0..<m.n { for (j, c) in kept.enumerated() { out[r * d + j] = Double(a[r * data.columns + c]) } }
            }
        }
        // dirnsᵀ = (acts − means)·coefᵀ + 1·meansᵀ of the kept neurons: [n × d].
        var centred = acts
        centred.withUnsafeMutableBufferPointer { p in for r in 0..<m.n { for (j, c) in kept.enumerated() { p[r * d + j] -= means[c] } } }
        var directions = Matrix.product(centred, coef, transposeB: true)
        directions.withUnsafeMutableBufferPointer { p in for r in 0..<m.n { for (j, c) in kept.enumerated() { p[r * d + j] += means[c] } } }
        let q = try directions.qr().q
        let projections = Matrix.product(q, acts, transposeA: true)  // [d × d]: ⟨Pᵢ, actsⱼ⟩
        var weights = (0..<d).map { i in (0..<d).reduce(0.0) { $0 + abs(projections[i, $1]) } }
        let total = weights.reduce(0, +)
        weights = weights.map { $0 / total }
        let value = zip(weights, g.coefficients).reduce(0) { $0 + $1.0 * $1.1 }
        return (value, weights, g)
    }
}
