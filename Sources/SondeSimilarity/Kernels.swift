import Foundation
import SondeBase
import SondeLinalg

extension Similarity {
    /// Linear CKA (Kornblith et al. 2019) from the moments: ‖Σxy‖²_F / (‖Σxx‖_F ‖Σyy‖_F).
    public static func linearCKA(_ m: JointMoments) -> Double {
        let xy = frobeniusSquared(m.sxy), xx = frobeniusSquared(m.sxx), yy = frobeniusSquared(m.syy)
        return xx > 0 && yy > 0 ? xy / (xx * yy).squareRoot() : 0
    }

    /// Debiased linear CKA: Kornblith et al.'s CKA with the unbiased HSIC estimator (Song et al.
    /// 2012), as their `cka(gram_linear(x), gram_linear(y), debiased=True)`, computed in feature
    /// space — ⟨K′, L′⟩ for the unbiasedly centred Gram matrices expands into ‖XᵀY‖²_F, the row
    /// norms and the row sums of the Gram matrices — so n × n matrices never exist.
    public static func debiasedLinearCKA(_ m: JointMoments) -> Double {
        let n = Double(m.n)
        guard m.n > 3 else { return .nan }
        // Raw (uncentred) cross products from the centred ones: XᵀY = (n−1)Σxy + n·mx·myᵀ.
        func raw(_ s: Matrix<Double>, _ a: [Double], _ b: [Double]) -> Double {
            var total = 0.0
            for i in 0..<s.rows { for j in 0..<s.columns { let v = (n - 1) * s[i, j] + n * a[i] * b[j]; total += v * v } }
            return total
        }
        func hsic(_ traceProduct: Double, _ k: [Double], _ l: [Double], _ dotsK: [Double], _ dotsL: [Double]) -> Double {
            // K̃ = K with a zero diagonal; r = K̃·1; a = r/(n−2) − Σr/(2(n−1)(n−2)).
            let rK = zip(dotsK, k).map { $0 - $1 }, rL = zip(dotsL, l).map { $0 - $1 }
            let sumK = rK.reduce(0, +), sumL = rL.reduce(0, +)
            let a = rK.map { $0 / (n - 2) - sumK / (2 * (n - 1) * (n - 2)) }
            let b = rL.map { $0 / (n - 2) - sumL / (2 * (n - 1) * (n - 2)) }
            let trace = traceProduct - zip(k, l).reduce(0) { $0 + $1.0 * $1.1 }
            let cross = zip(b, rK).reduce(0) { $0 + $1.0 * $1.1 } + zip(a, rL).reduce(0) { $0 + $1.0 * $1.1 }
            let ab = zip(a, b).reduce(0) { $0 + $1.0 * $1.1 }
            return trace - 2 * cross + (2 * n - 4) * ab + 2 * a.reduce(0, +) * b.reduce(0, +)
        }
        let xy = hsic(raw(m.sxy, m.meansX, m.meansY), m.rowSquaresX, m.rowSquaresY, m.rowDotsX, m.rowDotsY)
        let xx = hsic(raw(m.sxx, m.meansX, m.meansX), m.rowSquaresX, m.rowSquaresX, m.rowDotsX, m.rowDotsX)
        let yy = hsic(raw(m.syy, m.meansY, m.meansY), m.rowSquaresY, m.rowSquaresY, m.rowDotsY, m.rowDotsY)
        return xy / (xx * yy).squareRoot()
    }

    /// RBF CKA (Kornblith et al.): Gaussian kernels with σ² = fraction² × the median squared
    /// distance (over all n² pairs, as their code), centred Gram matrices. Needs n × n memory, so
    /// it refuses more than `maxPoints` datapoints.
    public static func rbfCKA<S: LinalgScalar>(x: Matrix<S>, y: Matrix<S>, fraction: Double = 0.5, maxPoints: Int = 10_000) throws -> Double {
        guard x.rows <= maxPoints else {
            throw SimilarityError("RBF CKA needs an n × n kernel; \(x.rows) datapoints exceed \(maxPoints): sample the tokens first")
        }
        func centredKernel(_ m: Matrix<S>) -> Matrix<Double> {
            let n = m.rows
            let d = Matrix<Double>(rows: n, columns: m.columns) { out in
                m.withUnsafeBufferPointer { a in for i in 0..<a.count { out[i] = Double(a[i]) } }
            }
            let g = Matrix.product(d, d, transposeB: true)
            var distances = [Double](repeating: 0, count: n * n)
            for i in 0..<n { for j in 0..<n { distances[i * n + j] = max(g[i, i] + g[j, j] - 2 * g[i, j], 0) } }
            let sorted = distances.sorted()
            let median = sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
            let scale = 2 * fraction * fraction * median
            var k = Matrix<Double>(rows: n, columns: n) { out in for i in 0..<(n * n) { out[i] = exp(-distances[i] / scale) } }
            center(&k)
            return k
        }
        let kx = centredKernel(x), ky = centredKernel(y)
        let xy = dot(kx.elements, ky.elements), xx = dot(kx.elements, kx.elements), yy = dot(ky.elements, ky.elements)
        return xy / (xx * yy).squareRoot()
    }

    /// Orthogonal Procrustes between the centred, Frobenius-normalised X and Y: the nuclear norm
    /// ‖XᵀY‖_* (1 = identical up to rotation), Ding et al.'s distance 2 − 2‖XᵀY‖_*, and the
    /// angular distance arccos ‖XᵀY‖_* (Williams et al. 2021).
    ///
    /// `baseline`: for a shuffled pairing, the singular values as the square roots of the
    /// eigenvalues of the smaller Gram matrix of Σxy (syrk and a values-only eigensolver, 2.4×
    /// faster than the SVD). Each is then good to √ε·σ₁ ≈ 1.5e-8·σ₁ — finer than a shuffle's
    /// Σxy itself, multiplied in Float blocks — where the SVD is good to ε·σ₁.
    public static func procrustes(_ m: JointMoments, baseline: Bool = false) throws -> (nuclearNorm: Double, distance: Double, angular: Double) {
        let tx = (0..<m.p).reduce(0.0) { $0 + m.sxx[$1, $1] }, ty = (0..<m.q).reduce(0.0) { $0 + m.syy[$1, $1] }
        guard tx > 0, ty > 0 else { throw SimilarityError("a side is constant: Procrustes needs activations that vary") }
        let values = try baseline ? smallerGram(m.sxy).symmetricEigenvalues().map { max($0, 0).squareRoot() } : m.sxy.singularValues()
        let nuclear = min(values.reduce(0, +) / (tx * ty).squareRoot(), 1)
        return (nuclear, 2 - 2 * nuclear, acos(nuclear))
    }

    /// The same measure on pairs whose Y rows are shuffled (seeded permutations): what the score
    /// is when X and Y share nothing but their shapes and marginal statistics. CCA of unrelated
    /// data is far from 0 when the datapoints are few. Mean and SD over the shuffles (NaN for
    /// none), the shuffles computed side by side (`onPairings`).
    public static func nullBaseline<S: LinalgScalar>(
        x: Matrix<S>, y: Matrix<S>, seeds: Int, seed: UInt64 = 2026, precision: MomentPrecision = .automatic,
        measure: @escaping @Sendable (JointMoments) throws -> Double
    ) throws -> (mean: Double, standardDeviation: Double) {
        let moments = try JointMoments(generic: x, y: y, precision: precision)
        guard seeds > 0 else { return (.nan, .nan) }
        let values = try onPairings(pairings(x, y, moments, seeds, seed), [{ [try measure($0)] }])[0].map { $0[0] }
        let (mean, sd) = meanAndSpread(values)
        return (mean, sd ?? 0)
    }

    /// The moments of `seeds` seeded row-shuffled pairings of X and Y, from their moments: each
    /// costs an X·P·Y product, not a new pass, and one pass serves them all (`JointMoments.shuffled`); compute them once and
    /// evaluate every measure's baseline on them.
    public static func shuffledPairings(x: Matrix<Float>, y: Matrix<Float>, moments: JointMoments, seeds: Int, seed: UInt64 = 2026) -> [JointMoments]
    {
        pairings(x, y, moments, seeds, seed)
    }

    public static func shuffledPairings(
        x: Matrix<Double>, y: Matrix<Double>, moments: JointMoments, seeds: Int, seed: UInt64 = 2026
    ) -> [JointMoments] {
        pairings(x, y, moments, seeds, seed)
    }

    /// Called with a concrete scalar from this module, so its per-element loops are specialised
    /// (a generic call from another module would run them through witness tables, 3× slower).
    static func pairings<S: LinalgScalar>(_ x: Matrix<S>, _ y: Matrix<S>, _ moments: JointMoments, _ seeds: Int, _ seed: UInt64) -> [JointMoments] {
        let orders = (0..<seeds).map { k in
            var generator = SplitMix64(seed: seed &+ UInt64(k))
            return generator.shuffled(Array(0..<x.rows))
        }
        return moments.shuffled(x: x, y: y, orders: orders)
    }

    /// Each of `measures` on each pairing, as [measure][pairing]: the measure–pairing tasks are
    /// shared among the configured threads, each computed single-threaded — side by side, two
    /// eigendecompositions of 1,024² matrices take 1.3–1.8× less time than one after the other
    /// on two threads. Put the costly measures first. The first error thrown is rethrown.
    public static func onPairings(
        _ pairings: [JointMoments], _ measures: [@Sendable (JointMoments) throws -> [Double]]
    ) throws -> [[[Double]]] {
        final class Outcomes: @unchecked Sendable {
            let lock = NSLock()
            var values: [Result<[Double], any Error>?]
            init(_ count: Int) { values = Array(repeating: nil, count: count) }
            func set(_ task: Int, _ outcome: Result<[Double], any Error>) {
                lock.lock()
                defer { lock.unlock() }
                values[task] = outcome
            }
        }
        let count = pairings.count
        let outcomes = Outcomes(measures.count * count)
        BLASThreads.owned { workers in
            inTasks(measures.count * count, workers: workers) { task in
                outcomes.set(task, Result { try measures[task / count](pairings[task % count]) })
            }
        }
        return try measures.indices.map { i in try (0..<count).map { try outcomes.values[i * count + $0]!.get() } }
    }
}

func frobeniusSquared(_ m: Matrix<Double>) -> Double { dot(m.elements, m.elements) }

func dot(_ a: [Double], _ b: [Double]) -> Double { zip(a, b).reduce(0) { $0 + $1.0 * $1.1 } }

/// H·K·H with H = I − 11ᵀ/n (the biased centring of a Gram matrix).
func center(_ k: inout Matrix<Double>) {
    let n = k.rows
    let rowMeans = (0..<n).map { i in (0..<n).reduce(0.0) { $0 + k[i, $1] } / Double(n) }
    let total = rowMeans.reduce(0, +) / Double(n)
    k.withUnsafeMutableBufferPointer { p in
        for i in 0..<n { for j in 0..<n { p[i * n + j] += total - rowMeans[i] - rowMeans[j] } }
    }
}
