import Dispatch
import SondeBase
import SondeLinalg

/// Why a similarity cannot be computed; the message says what to do instead.
public struct SimilarityError: CategorizedError, Sendable {
    public let description: String
    /// The activations cannot give the measure (too few tokens, constant neurons): an input problem.
    public var category: ErrorCategory { .malformedInput }
    init(_ description: String) { self.description = description }
}

/// How the joint Gram matrix of Float activations is accumulated.
public enum MomentPrecision: String, Sendable, Codable, CaseIterable {
    /// Centred blocks converted to Double, dsyrk: exact to Double rounding.
    case double
    /// Centred blocks of 1,024 rows in Float (ssyrk, twice the speed), each block's Gram matrix
    /// added into a Double total. Canonical correlations come out within about 1e-6 of the Double
    /// path on 10,000 rows (less on more rows: block errors average out as 1/√blocks).
    case mixed
    /// `mixed` when the pass is large (n·(p+q)² above 4e9 multiply-adds), else `double`.
    case automatic
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

    /// How the Gram matrix was accumulated (`double` for Double inputs).
    public let precision: MomentPrecision

    /// Gathers the moments; NaN or infinite values are refused with the first bad row.
    public init(x: Matrix<Float>, y: Matrix<Float>, precision: MomentPrecision = .automatic) throws {
        try self.init(generic: x, y: y, precision: precision)
    }
    public init(x: Matrix<Double>, y: Matrix<Double>) throws { try self.init(generic: x, y: y, precision: .double) }

    init<S: LinalgScalar>(generic x: Matrix<S>, y: Matrix<S>, precision: MomentPrecision) throws {
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
        // Mixed precision (Float data only): each block's Gram matrix in Float over 1,024 rows,
        // added into the Double total; the block errors (about √1024 × 6e-8 relative) average out
        // over the blocks. Double data stays in Double throughout.
        let large = Double(n) * Double(w) * Double(w) > 4e9
        let inFloat = S.self == Float.self && (precision == .mixed || (precision == .automatic && large))
        self.precision = inFloat ? .mixed : .double
        let blockRows = inFloat ? 1024 : 2048
        var scratch = Matrix<Float>(rows: inFloat ? w : 0, columns: inFloat ? w : 0)
        var blockF = Matrix<Float>(rows: inFloat ? blockRows : 0, columns: w)
        var blockD = Matrix<Double>(rows: inFloat ? 0 : blockRows, columns: w)
        // Centring (and the per-row numbers) run on two threads, half the block's rows each.
        func fill<T: LinalgScalar>(
            _ out: UnsafeMutableBufferPointer<T>, _ xa: UnsafeBufferPointer<S>, _ ya: UnsafeBufferPointer<S>, _ start: Int, _ count: Int
        ) {
            let (o, xs, ys) = (SharedBuffer(out.baseAddress!), SharedBuffer(xa.baseAddress!), SharedBuffer(ya.baseAddress!))
            squaresX.withUnsafeMutableBufferPointer { sxp in
                dotsX.withUnsafeMutableBufferPointer { dxp in
                    squaresY.withUnsafeMutableBufferPointer { syp in
                        dotsY.withUnsafeMutableBufferPointer { dyp in
                            let shared = (
                                SharedBuffer(sxp.baseAddress!), SharedBuffer(dxp.baseAddress!), SharedBuffer(syp.baseAddress!),
                                SharedBuffer(dyp.baseAddress!)
                            )
                            DispatchQueue.concurrentPerform(iterations: 2) { half in
                                let rows = half == 0 ? 0..<(count / 2) : (count / 2)..<count
                                let (out, xa, ya) = (o.pointer, xs.pointer, ys.pointer)
                                for i in rows {
                                    let r = start + i
                                    var (sx, dx, sy, dy) = (0.0, 0.0, 0.0, 0.0)
                                    for j in 0..<p {
                                        let v = Double(xa[r * p + j])
                                        sx += v * v; dx += v * sumX[j]
                                        out[i * w + j] = T(v - mx[j])
                                    }
                                    for j in 0..<q {
                                        let v = Double(ya[r * q + j])
                                        sy += v * v; dy += v * sumY[j]
                                        out[i * w + p + j] = T(v - my[j])
                                    }
                                    shared.0.pointer[r] = sx
                                    shared.1.pointer[r] = dx
                                    shared.2.pointer[r] = sy
                                    shared.3.pointer[r] = dy
                                }
                            }
                        }
                    }
                }
            }
        }
        x.withUnsafeBufferPointer { xa in
            y.withUnsafeBufferPointer { ya in
                for start in stride(from: 0, to: n, by: blockRows) {
                    let count = Swift.min(blockRows, n - start)
                    if inFloat {
                        if count < blockRows { blockF = Matrix(rows: count, columns: w) }
                        blockF.withUnsafeMutableBufferPointer { fill($0, xa, ya, start, count) }
                        scratch.addGram(of: blockF, alpha: 1, beta: 0)
                        scratch.withUnsafeBufferPointer { g in
                            joint.withUnsafeMutableBufferPointer { j in
                                for r in 0..<w { for c in r..<w { j[r * w + c] += Double(g[r * w + c]) } }
                            }
                        }
                    } else {
                        if count < blockRows { blockD = Matrix(rows: count, columns: w) }
                        blockD.withUnsafeMutableBufferPointer { fill($0, xa, ya, start, count) }
                        joint.addGram(of: blockD, alpha: 1, beta: 1)
                    }
                }
            }
        }
        joint.mirrorUpperTriangle()
        let divisor = Double(Swift.max(n - 1, 1))
        if q == 0 {  // one matrix (neuron clustering): Σxx is the joint matrix itself, no copy
            joint.withUnsafeMutableBufferPointer { c in for i in c.indices { c[i] /= divisor } }
            (self.n, self.p, self.q, meansX, meansY) = (n, p, q, mx, my)
            (sxx, sxy, syy) = (joint, Matrix(rows: p, columns: 0), Matrix(rows: 0, columns: 0))
            (rowSquaresX, rowSquaresY, rowDotsX, rowDotsY) = (squaresX, squaresY, dotsX, dotsY)
            return
        }
        let (jointElements, width) = (joint.elements, w)
        func part(_ rows: Range<Int>, _ columns: Range<Int>) -> Matrix<Double> {
            Matrix(rows: rows.count, columns: columns.count) { out in
                for (i, r) in rows.enumerated() {
                    for (j, c) in columns.enumerated() { out[i * columns.count + j] = jointElements[r * width + c] / divisor }
                }
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

    /// The moments of X against Y with Y's rows taken in each of `orders`, from these moments of
    /// X against Y: a permutation changes neither the means nor Σxx and Σyy, only Σxy = Xcᵀ·P·Yc
    /// (n·p·q against the n·(p+q)²/2 of a full pass) and the per-row numbers of Y, which are
    /// permuted. One pass serves every order: each block of X is centred once and multiplied by
    /// the blocks of every order's Y side by side (one gemm of q·orders columns). Float data:
    /// blocks of 1,024 rows multiplied in Float (sgemm) and added in Double, as `.mixed` does;
    /// Double data in Double.
    func shuffled<S: LinalgScalar>(x: Matrix<S>, y: Matrix<S>, orders: [[Int]]) -> [JointMoments] {
        precondition(x.rows == n && y.rows == n && x.columns == p && y.columns == q && orders.allSatisfy { $0.count == n })
        let count = orders.count, width = q * orders.count
        guard count > 0 else { return [] }
        var cross = [Double](repeating: 0, count: p * width)
        let blockRows = 1024
        func accumulate<T: LinalgScalar>(_ type: T.Type) {
            var bx = Matrix<T>(rows: blockRows, columns: p), by = Matrix<T>(rows: blockRows, columns: width)
            var product = Matrix<T>(rows: p, columns: width)
            x.withUnsafeBufferPointer { xa in
                y.withUnsafeBufferPointer { ya in
                    let (xs, ys) = (SharedBuffer(xa.baseAddress!), SharedBuffer(ya.baseAddress!))
                    for start in stride(from: 0, to: n, by: blockRows) {
                        let rows = Swift.min(blockRows, n - start)
                        if rows < blockRows { (bx, by) = (Matrix(rows: rows, columns: p), Matrix(rows: rows, columns: width)) }
                        // Centring on two threads, half the block's rows each.
                        bx.withUnsafeMutableBufferPointer { ox in
                            by.withUnsafeMutableBufferPointer { oy in
                                let (bxs, bys) = (SharedBuffer(ox.baseAddress!), SharedBuffer(oy.baseAddress!))
                                DispatchQueue.concurrentPerform(iterations: 2) { half in
                                    let (xa, ya, ox, oy) = (xs.pointer, ys.pointer, bxs.pointer, bys.pointer)
                                    for i in half == 0 ? 0..<(rows / 2) : (rows / 2)..<rows {
                                        for j in 0..<p { ox[i * p + j] = T(Double(xa[(start + i) * p + j]) - meansX[j]) }
                                        for (k, order) in orders.enumerated() {
                                            let r = order[start + i]
                                            for j in 0..<q { oy[i * width + k * q + j] = T(Double(ya[r * q + j]) - meansY[j]) }
                                        }
                                    }
                                }
                            }
                        }
                        product.addProduct(bx, by, transposeA: true, beta: 0)
                        product.withUnsafeBufferPointer { g in
                            cross.withUnsafeMutableBufferPointer { c in
                                let (gs, cs, total) = (SharedBuffer(g.baseAddress!), SharedBuffer(c.baseAddress!), c.count)
                                DispatchQueue.concurrentPerform(iterations: 2) { half in
                                    for k in half == 0 ? 0..<(total / 2) : (total / 2)..<total { cs.pointer[k] += Double(gs.pointer[k]) }
                                }
                            }
                        }
                    }
                }
            }
        }
        if S.self == Float.self { accumulate(Float.self) } else { accumulate(Double.self) }
        let divisor = Double(Swift.max(n - 1, 1))
        return orders.enumerated().map { k, order in
            let sxy = Matrix<Double>(rows: p, columns: q) { out in
                for i in 0..<p { for j in 0..<q { out[i * q + j] = cross[i * width + k * q + j] / divisor } }
            }
            return JointMoments(
                n: n, p: p, q: q, meansX: meansX, meansY: meansY, sxx: sxx, sxy: sxy, syy: syy, rowSquaresX: rowSquaresX,
                rowSquaresY: order.map { rowSquaresY[$0] }, rowDotsX: rowDotsX, rowDotsY: order.map { rowDotsY[$0] }, precision: precision)
        }
    }

    private init(
        n: Int, p: Int, q: Int, meansX: [Double], meansY: [Double], sxx: Matrix<Double>, sxy: Matrix<Double>, syy: Matrix<Double>,
        rowSquaresX: [Double], rowSquaresY: [Double], rowDotsX: [Double], rowDotsY: [Double], precision: MomentPrecision
    ) {
        (self.n, self.p, self.q, self.meansX, self.meansY, self.sxx, self.sxy, self.syy) = (n, p, q, meansX, meansY, sxx, sxy, syy)
        (self.rowSquaresX, self.rowSquaresY, self.rowDotsX, self.rowDotsY, self.precision) = (rowSquaresX, rowSquaresY, rowDotsX, rowDotsY, precision)
    }
}
