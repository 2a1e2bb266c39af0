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
/// applied to others (dev, test). Constant columns get scale 1, so they map to exactly 0.
public struct Standardization: Sendable, Equatable, Codable {
    public let means: [Double]
    /// The standard deviation of each column, or 1 where the column is constant.
    public let scales: [Double]
    public let constantColumns: [Int]

    public init(fitting x: Matrix<Float>) {
        let stats = x.columnStatistics()
        let constant = stats.constantColumns
        var scales = stats.standardDeviations
        for j in constant { scales[j] = 1 }
        self.means = stats.means
        self.scales = scales
        self.constantColumns = constant
    }

    /// The standardised copy of `x` (same number of columns as the fitted matrix).
    public func apply(to x: Matrix<Float>) -> Matrix<Float> {
        precondition(x.columns == means.count, "standardisation fitted on \(means.count) columns, applied to \(x.columns)")
        let d = x.columns
        let shift = means.map { Float($0) }
        let inverse = scales.map { Float(1 / $0) }
        var constantMask = [Bool](repeating: false, count: d)
        for j in constantColumns { constantMask[j] = true }
        return x.withUnsafeBufferPointer { a in
            Matrix(rows: x.rows, columns: d) { out in
                for i in 0..<x.rows {
                    let base = i * d
                    for j in 0..<d {
                        out[base + j] = constantMask[j] ? 0 : (a[base + j] - shift[j]) * inverse[j]
                    }
                }
            }
        }
    }
}

extension Matrix {
    /// Column means and standard deviations (two passes, Double accumulators).
    /// - Parameter ddof: delta degrees of freedom: 0 for the population standard deviation
    ///   (numpy's default), 1 for the sample one.
    @inlinable
    public func columnStatistics(ddof: Int = 0) -> ColumnStatistics {
        let (n, d) = (rows, columns)
        var sum = [Double](repeating: 0, count: d)
        var squares = [Double](repeating: 0, count: d)
        withUnsafeBufferPointer { a in
            sum.withUnsafeMutableBufferPointer { s in
                for i in 0..<n {
                    let base = i * d
                    for j in 0..<d { s[j] += Double(a[base + j]) }
                }
            }
            let means = sum.map { n > 0 ? $0 / Double(n) : 0 }
            squares.withUnsafeMutableBufferPointer { q in
                means.withUnsafeBufferPointer { m in
                    for i in 0..<n {
                        let base = i * d
                        for j in 0..<d {
                            let deviation = Double(a[base + j]) - m[j]
                            q[j] += deviation * deviation
                        }
                    }
                }
            }
            sum = means
        }
        let divisor = Double(n - ddof)
        let stds = squares.map { divisor > 0 ? ($0 / divisor).squareRoot() : 0 }
        return ColumnStatistics(count: n, means: sum, standardDeviations: stds)
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
