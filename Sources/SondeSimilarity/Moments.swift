import SondeLinalg

/// Why a similarity cannot be computed; the message says what to do instead.
public struct SimilarityError: Error, CustomStringConvertible, Sendable {
    public let description: String
    init(_ description: String) { self.description = description }
}

/// Everything the similarity measures need from two activation matrices over the same n
/// datapoints, gathered in one pass over the rows: the means, the joint covariance of [X Y]
/// (divisor n − 1, as numpy's `cov`) and, for debiased CKA, four numbers per row.
///
/// The pass centres and converts blocks of rows to Double and adds each block's joint Gram
/// matrix with one dsyrk, so memory stays at one block and the n·(p+q)² products run in BLAS.
/// Every measure except google's PWCCA and RBF CKA is then a function of these moments.
public struct JointMoments: Sendable {
    public let n: Int
    public let p: Int
    public let q: Int
    public let meansX: [Double]
    public let meansY: [Double]
    /// Covariances, divisor n − 1: Σxx [p × p], Σxy [p × q], Σyy [q × q].
    public let sxx: Matrix<Double>
    public let sxy: Matrix<Double>
    public let syy: Matrix<Double>
    /// Per row i: ‖xᵢ‖², ‖yᵢ‖², xᵢ·Σⱼxⱼ and yᵢ·Σⱼyⱼ (uncentred), for debiased HSIC.
    let rowSquaresX: [Double]
    let rowSquaresY: [Double]
    let rowDotsX: [Double]
    let rowDotsY: [Double]

    /// Gathers the moments; NaN or infinite values are refused with the first bad row.
    public init(x: Matrix<Float>, y: Matrix<Float>) throws { try self.init(x: x, y: y, rowOrder: nil) }
    public init(x: Matrix<Double>, y: Matrix<Double>) throws { try self.init(x: x, y: y, rowOrder: nil) }

    /// The moments of X against Y with Y's rows taken in `rowOrder` (a permutation): the null
    /// baseline's pairing. Σxx and Σyy are unchanged; Σxy pairs xᵢ with y_order[i].
    init<S: LinalgScalar>(x: Matrix<S>, y: Matrix<S>, rowOrder: [Int]?) throws {
        precondition(x.rows == y.rows, "X and Y must have the same rows (datapoints)")
        let (n, p, q) = (x.rows, x.columns, y.columns)
        let w = p + q
        func check(_ m: Matrix<S>, _ name: String) throws -> [Double] {
            var sums = [Double](repeating: 0, count: m.columns)
            try m.withUnsafeBufferPointer { a in
                for i in 0..<m.rows {
                    for j in 0..<m.columns {
                        let v = a[i * m.columns + j]
                        guard v.isFinite else { throw SimilarityError("\(name) has a non-finite value in row \(i + 1), column \(j + 1)") }
                        sums[j] += Double(v)
                    }
                }
            }
            return sums.map { $0 / Double(Swift.max(m.rows, 1)) }
        }
        let mx = try check(x, "X"), my = try check(y, "Y")
        var joint = Matrix<Double>(rows: w, columns: w)
        var squaresX = [Double](repeating: 0, count: n), squaresY = squaresX, dotsX = squaresX, dotsY = squaresX
        let sumX = mx.map { $0 * Double(n) }, sumY = my.map { $0 * Double(n) }
        let blockRows = 2048
        x.withUnsafeBufferPointer { xa in
            y.withUnsafeBufferPointer { ya in
                for start in stride(from: 0, to: n, by: blockRows) {
                    let count = Swift.min(blockRows, n - start)
                    let block = Matrix<Double>(rows: count, columns: w) { out in
                        for i in 0..<count {
                            let r = start + i, ry = rowOrder?[r] ?? r
                            var (sx, dx, sy, dy) = (0.0, 0.0, 0.0, 0.0)
                            for j in 0..<p {
                                let v = Double(xa[r * p + j])
                                sx += v * v; dx += v * sumX[j]
                                out[i * w + j] = v - mx[j]
                            }
                            for j in 0..<q {
                                let v = Double(ya[ry * q + j])
                                sy += v * v; dy += v * sumY[j]
                                out[i * w + p + j] = v - my[j]
                            }
                            (squaresX[r], dotsX[r], squaresY[r], dotsY[r]) = (sx, dx, sy, dy)
                        }
                    }
                    joint.addGram(of: block, alpha: 1, beta: 1)
                }
            }
        }
        joint.mirrorUpperTriangle()
        let divisor = Double(Swift.max(n - 1, 1))
        let (jointElements, width) = (joint.elements, w)
        func part(_ rows: Range<Int>, _ columns: Range<Int>) -> Matrix<Double> {
            Matrix(rows: rows.count, columns: columns.count) { out in
                for (i, r) in rows.enumerated() { for (j, c) in columns.enumerated() { out[i * columns.count + j] = jointElements[r * width + c] / divisor } }
            }
        }
        self.n = n
        self.p = p
        self.q = q
        meansX = mx
        meansY = my
        sxx = part(0..<p, 0..<p)
        sxy = part(0..<p, p..<w)
        syy = part(p..<w, p..<w)
        rowSquaresX = squaresX
        rowSquaresY = squaresY
        rowDotsX = dotsX
        rowDotsY = dotsY
    }
}
