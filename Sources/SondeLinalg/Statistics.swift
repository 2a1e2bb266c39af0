import Dispatch
import SondeBase

// Column statistics, standardisation and covariance.
//
// Precision policy: activations are stored as Float, but every reduction over rows (means,
// variances, covariances) accumulates in Double. Summing 10⁵–10⁶ Floats in Float loses 3–4
// digits; in Double the result is exact to Float precision, and the cost is the same memory pass.

/// Per-column mean and standard deviation of a matrix, accumulated in Double.
public struct ColumnStatistics: Sendable, Equatable, Codable {
    /// Rows the statistics were computed over.
    public let count: Int
    public let means: [Double]
    /// Standard deviations with divisor `count - ddof`.
    public let standardDeviations: [Double]

    @inlinable
    public init(count: Int, means: [Double], standardDeviations: [Double]) {
        self.count = count
        self.means = means
        self.standardDeviations = standardDeviations
    }

    /// A column is constant when its standard deviation is 0 or below 1e-6 of its magnitude
    /// (Float carries about 7 digits, so a smaller spread is rounding, not signal).
    public static let relativeConstantTolerance = 1e-6

    /// Indices of the constant columns.
    public var constantColumns: [Int] {
        means.indices.filter { Self.isConstant(std: standardDeviations[$0], mean: means[$0]) }
    }

    static func isConstant(std: Double, mean: Double) -> Bool {
        !(std > relativeConstantTolerance * abs(mean))
    }
}

/// A fitted standardisation `x ↦ (x − mean) / scale`, fitted on one matrix (e.g. train) and
/// applied to others (dev, test). Constant columns map to exactly 0.
public struct Standardization: Sendable, Equatable, Codable {
    public let means: [Double]
    /// The standard deviation of each column (1 when not scaling, or where the column is constant).
    public let scales: [Double]
    public let constantColumns: [Int]

    /// - Parameter scaling: divide by the standard deviations; false only centres.
    public init(fitting x: Matrix<Float>, scaling: Bool = true) {
        let stats = x.columnStatistics()
        let constant = stats.constantColumns
        var scales = scaling ? stats.standardDeviations : [Double](repeating: 1, count: x.columns)
        for j in constant { scales[j] = 1 }
        self.means = stats.means
        self.scales = scales
        self.constantColumns = constant
    }

    /// The standardised copy of `x` (same number of columns as the fitted matrix), written by two
    /// threads (the pass is bound by memory: a 200,000 × 768 copy is 0.6 GB of fresh pages).
    public func apply(to x: Matrix<Float>) -> Matrix<Float> {
        precondition(x.columns == means.count, "standardisation fitted on \(means.count) columns, applied to \(x.columns)")
        let (n, d) = (x.rows, x.columns)
        let shift = means.map { Float($0) }
        var factor = scales.map { Float(1 / $0) }
        for j in constantColumns { factor[j] = 0 }
        return x.withUnsafeBufferPointer { a in
            shift.withUnsafeBufferPointer { s in
                factor.withUnsafeBufferPointer { f in
                    Matrix(rows: n, columns: d) { out in
                        let (source, target) = (SharedBuffer(a.baseAddress!), SharedBuffer(out.baseAddress!))
                        let (shiftBuffer, factorBuffer) = (SharedBuffer(s.baseAddress!), SharedBuffer(f.baseAddress!))
                        let parts = n >= 4096 ? 2 : 1
                        DispatchQueue.concurrentPerform(iterations: parts) { part in
                            let (s, f) = (shiftBuffer.pointer, factorBuffer.pointer)
                            for i in (part * n / parts)..<((part + 1) * n / parts) {
                                let (row, o) = (source.pointer + i * d, target.pointer + i * d)
                                for j in 0..<d { o[j] = (row[j] - s[j]) * f[j] }
                            }
                        }
                    }
                }
            }
        }
    }
}

extension Matrix {
    /// Column means and standard deviations (two passes, Double accumulators; tall matrices on
    /// two threads, half the rows each, the halves' sums added in a fixed order).
    /// - Parameter ddof: delta degrees of freedom: 0 for the population standard deviation
    ///   (numpy's default), 1 for the sample one.
    @inlinable
    public func columnStatistics(ddof: Int = 0) -> ColumnStatistics {
        let (n, d) = (rows, columns)
        guard n > 0, d > 0 else {
            return ColumnStatistics(count: n, means: [Double](repeating: 0, count: d), standardDeviations: [Double](repeating: 0, count: d))
        }
        let parts = n >= 16_384 ? 2 : 1
        var sums = [Double](repeating: 0, count: parts * d)
        var means = [Double](repeating: 0, count: d)
        withUnsafeBufferPointer { a in
            let source = SharedBuffer(a.baseAddress!)
            sums.withUnsafeMutableBufferPointer { s in
                let target = SharedBuffer(s.baseAddress!)
                DispatchQueue.concurrentPerform(iterations: parts) { part in
                    let sum = target.pointer + part * d
                    for i in (part * n / parts)..<((part + 1) * n / parts) {
                        let row = source.pointer + i * d
                        for j in 0..<d { sum[j] += Double(row[j]) }
                    }
                }
            }
            for j in 0..<d { means[j] = (0..<parts).reduce(0) { $0 + sums[$1 * d + j] } / Double(n) }
            sums = [Double](repeating: 0, count: parts * d)
            means.withUnsafeBufferPointer { m in
                sums.withUnsafeMutableBufferPointer { s in
                    let (target, center) = (SharedBuffer(s.baseAddress!), SharedBuffer(m.baseAddress!))
                    DispatchQueue.concurrentPerform(iterations: parts) { part in
                        let (sum, mean) = (target.pointer + part * d, center.pointer)
                        for i in (part * n / parts)..<((part + 1) * n / parts) {
                            let row = source.pointer + i * d
                            for j in 0..<d {
                                let deviation = Double(row[j]) - mean[j]
                                sum[j] += deviation * deviation
                            }
                        }
                    }
                }
            }
        }
        let squares = (0..<d).map { j in (0..<parts).reduce(0) { $0 + sums[$1 * d + j] } }
        let divisor = Double(n - ddof)
        let stds = squares.map { divisor > 0 ? ($0 / divisor).squareRoot() : 0 }
        return ColumnStatistics(count: n, means: means, standardDeviations: stds)
    }

    /// The covariance matrix (columns × columns) with divisor `rows - ddof`, in Double.
    ///
    /// Rows are centred and converted to Double in blocks of 4096, and each block is added with
    /// dsyrk, so memory stays at one block however tall the matrix is.
    @inlinable
    public func covariance(ddof: Int = 1) -> Matrix<Double> {
        let (n, d) = (rows, columns)
        let means = columnStatistics().means
        var c = Matrix<Double>(rows: d, columns: d)
        let blockRows = 4096
        withUnsafeBufferPointer { a in
            for start in stride(from: 0, to: n, by: blockRows) {
                let count = Swift.min(blockRows, n - start)
                let block = Matrix<Double>(rows: count, columns: d) { out in
                    for i in 0..<count {
                        let src = (start + i) * d
                        for j in 0..<d { out[i * d + j] = Double(a[src + j]) - means[j] }
                    }
                }
                c.addGram(of: block, alpha: 1, beta: 1)
            }
        }
        c.mirrorUpperTriangle()
        let divisor = Double(Swift.max(n - ddof, 1))
        c.withUnsafeMutableBufferPointer { p in for i in p.indices { p[i] /= divisor } }
        return c
    }
}
