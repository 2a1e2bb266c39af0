import SondeBase
import SondeLinalg

/// Similarity by shared neighbourhoods (Huh et al. 2024, "The Platonic Representation
/// Hypothesis", as their `metrics.py` computes it after `F.normalize`): rows are L2-normalised,
/// similarity is the cosine, a row is not its own neighbour, and ties go to the lower row.
/// Both are quadratic in the rows, so they use at most `rows` of them (a seeded sample, the
/// same rows of X and Y).
public enum NeighbourAlignment {
    public static let defaultK = 10
    public static let defaultRows = 2_000

    /// Mutual k-nearest-neighbour alignment: the mean over rows of |N_X(i) ∩ N_Y(i)| / k.
    public static func mutualKNN(x: Matrix<Float>, y: Matrix<Float>, k: Int = defaultK) -> Double {
        precondition(x.rows == y.rows && k >= 1 && k < x.rows, "mutual k-NN of the same rows, k in 1…rows − 1")
        let (a, b) = (neighbours(cosines(x), k: k), neighbours(cosines(y), k: k))
        var total = 0.0
        for i in 0..<x.rows { total += Double(Set(a[i]).intersection(b[i]).count) / Double(k) }
        return total / Double(x.rows)
    }

    /// Centered kernel nearest-neighbour alignment: the unbiased HSIC of the two cosine kernels,
    /// each masked to the pairs that are k-nearest neighbours in both, normalised by the same of
    /// each kernel with itself (plus 1e-6, as their code has it).
    public static func cknna(x: Matrix<Float>, y: Matrix<Float>, k: Int = defaultK) -> Double {
        precondition(x.rows == y.rows && k >= 1 && k < x.rows && x.rows > 3, "CKNNA of the same rows (more than 3), k in 1…rows − 1")
        let (kx, ky) = (cosines(x), cosines(y))
        let (nx, ny) = (neighbours(kx, k: k), neighbours(ky, k: k))
        func similarity(_ kernelA: Matrix<Double>, _ na: [[Int]], _ kernelB: Matrix<Double>, _ nb: [[Int]]) -> Double {
            let n = kernelA.rows
            var a = Matrix<Double>(rows: n, columns: n), b = Matrix<Double>(rows: n, columns: n)
            for i in 0..<n {
                for j in Set(na[i]).intersection(nb[i]) {
                    a[i, j] = kernelA[i, j]
                    b[i, j] = kernelB[i, j]
                }
            }
            return unbiasedHSIC(a, b)
        }
        let xy = similarity(kx, nx, ky, ny), xx = similarity(kx, nx, kx, nx), yy = similarity(ky, ny, ky, ny)
        return xy / ((xx * yy).squareRoot() + 1e-6)
    }

    /// The same measure with Y's rows shuffled (each seed a permutation): the chance level.
    public static func shuffled(
        x: Matrix<Float>, y: Matrix<Float>, seeds: Int, _ measure: (Matrix<Float>, Matrix<Float>) -> Double
    ) -> [Double] {
        (0..<seeds).map { seed in
            var generator = SplitMix64(seed: UInt64(seed) &+ 0x5EED)
            return measure(x, y.rows(generator.shuffled(Array(0..<y.rows))))
        }
    }

    /// Row indices to use: all when there are at most `limit`, else a seeded sample in order.
    public static func sampleRows(count: Int, limit: Int = defaultRows, seed: UInt64 = 1) -> [Int] {
        guard count > limit else { return Array(0..<count) }
        var generator = SplitMix64(seed: seed)
        return Array(generator.shuffled(Array(0..<count)).prefix(limit)).sorted()
    }

    /// The rows' cosines (n × n, Double): normalised rows times their transpose.
    static func cosines(_ m: Matrix<Float>) -> Matrix<Double> {
        var rows = m.converted(to: Double.self)
        let d = rows.columns
        rows.withUnsafeMutableBufferPointer { p in
            for i in 0..<m.rows {
                var squares = 0.0
                for j in 0..<d { squares += p[i * d + j] * p[i * d + j] }
                let norm = Swift.max(squares.squareRoot(), 1e-12)
                for j in 0..<d { p[i * d + j] /= norm }
            }
        }
        return .product(rows, rows, transposeB: true)
    }

    /// Each row's k most similar other rows, most similar first (ties by lower index): a sorted
    /// list of the k best so far per row, so O(n·k) at worst rather than a sort of every row.
    static func neighbours(_ kernel: Matrix<Double>, k: Int) -> [[Int]] {
        let n = kernel.rows
        return kernel.withUnsafeBufferPointer { p in
            (0..<n).map { i in
                var best: [(value: Double, index: Int)] = []
                best.reserveCapacity(k + 1)
                for j in 0..<n where j != i {
                    let v = p[i * n + j]
                    // Scanning j upwards, an equal value never displaces an earlier (lower) index.
                    if best.count == k, v <= best[k - 1].value { continue }
                    var at = best.count
                    while at > 0 && best[at - 1].value < v { at -= 1 }
                    best.insert((v, j), at: at)
                    if best.count > k { best.removeLast() }
                }
                return best.map(\.index)
            }
        }
    }

    /// HSIC's unbiased estimator (Song et al. 2012) on kernels whose diagonals are ignored:
    /// [tr(K̃L̃) + 1ᵀK̃1·1ᵀL̃1/((n−1)(n−2)) − 2·1ᵀK̃L̃1/(n−2)] / (n(n−3)).
    static func unbiasedHSIC(_ k: Matrix<Double>, _ l: Matrix<Double>) -> Double {
        let n = k.rows
        var trace = 0.0, sumK = 0.0, sumL = 0.0
        var columnSumsK = [Double](repeating: 0, count: n), rowSumsL = [Double](repeating: 0, count: n)
        for a in 0..<n {
            for b in 0..<n where a != b {
                trace += k[a, b] * l[b, a]
                sumK += k[a, b]
                sumL += l[a, b]
                columnSumsK[b] += k[a, b]
                rowSumsL[a] += l[a, b]
            }
        }
        let through = zip(columnSumsK, rowSumsL).reduce(0.0) { $0 + $1.0 * $1.1 }
        let m = Double(n)
        return (trace + sumK * sumL / ((m - 1) * (m - 2)) - 2 * through / (m - 2)) / (m * (m - 3))
    }
}
