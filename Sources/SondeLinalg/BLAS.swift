// Level-2 and level-3 products through CBLAS (OpenBLAS). Shapes are checked with preconditions.
import SondeBase

extension Matrix {
    /// `alpha · op(a) · op(b)`, where `op` transposes when asked: op(a) is m × k, op(b) is k × n.
    public static func product(
        _ a: Matrix, _ b: Matrix, transposeA: Bool = false, transposeB: Bool = false, alpha: Scalar = 1
    ) -> Matrix {
        let (m, ka) = transposeA ? (a.columns, a.rows) : (a.rows, a.columns)
        let (kb, n) = transposeB ? (b.columns, b.rows) : (b.rows, b.columns)
        precondition(ka == kb, "product of \(m) × \(ka) and \(kb) × \(n)")
        var c = Matrix(rows: m, columns: n)
        c.addProduct(a, b, transposeA: transposeA, transposeB: transposeB, alpha: alpha, beta: 0)
        return c
    }

    /// `self := alpha · op(a) · op(b) + beta · self` in place (gemm).
    public mutating func addProduct(
        _ a: Matrix, _ b: Matrix, transposeA: Bool = false, transposeB: Bool = false,
        alpha: Scalar = 1, beta: Scalar = 1
    ) {
        let (m, k) = transposeA ? (a.columns, a.rows) : (a.rows, a.columns)
        let (kb, n) = transposeB ? (b.columns, b.rows) : (b.rows, b.columns)
        precondition(k == kb && m == rows && n == columns, "gemm shapes \(m)×\(k) · \(kb)×\(n) into \(rows)×\(columns)")
        if m == 0 || n == 0 { return }
        if k == 0 {  // BLAS leaves C untouched when k == 0 only if beta == 1; be explicit.
            withUnsafeMutableBufferPointer { c in for i in c.indices { c[i] *= beta } }
            return
        }
        let (lda, ldb, ldc) = (max(1, a.columns), max(1, b.columns), max(1, columns))
        a.withUnsafeBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in
                withUnsafeMutableBufferPointer { pc in
                    Scalar._gemm(
                        transA: transposeA, transB: transposeB, m: m, n: n, k: k, alpha: alpha,
                        a: pa.baseAddress!, lda: lda, b: pb.baseAddress!, ldb: ldb,
                        beta: beta, c: pc.baseAddress!, ldc: ldc)
                }
            }
        }
    }

    /// `op(self) · x` for a vector `x` (gemv).
    public func times(_ x: [Scalar], transposed: Bool = false) -> [Scalar] {
        let (outCount, inCount) = transposed ? (columns, rows) : (rows, columns)
        precondition(x.count == inCount, "gemv: vector of \(x.count) for a \(rows) × \(columns) matrix")
        var y = [Scalar](repeating: 0, count: outCount)
        if outCount == 0 || inCount == 0 { return y }
        withUnsafeBufferPointer { a in
            x.withUnsafeBufferPointer { px in
                y.withUnsafeMutableBufferPointer { py in
                    Scalar._gemv(
                        trans: transposed, m: rows, n: columns, alpha: 1, a: a.baseAddress!, lda: max(1, columns),
                        x: px.baseAddress!, beta: 0, y: py.baseAddress!)
                }
            }
        }
        return y
    }

    /// The Gram matrix `alpha · selfᵀ · self` (columns × columns, symmetric, both triangles filled),
    /// through syrk: half the work of a general product.
    public func gram(alpha: Scalar = 1) -> Matrix {
        var c = Matrix(rows: columns, columns: columns)
        c.addGram(of: self, alpha: alpha, beta: 0)
        c.mirrorUpperTriangle()
        return c
    }

    /// `self := alpha · aᵀa + beta · self`, upper triangle only (syrk); call `mirrorUpperTriangle`
    /// when done accumulating.
    @inlinable
    public mutating func addGram(of a: Matrix, alpha: Scalar, beta: Scalar) {
        precondition(rows == a.columns && columns == a.columns, "syrk shapes")
        if a.rows == 0 || a.columns == 0 {
            withUnsafeMutableBufferPointer { c in for i in c.indices { c[i] *= beta } }
            return
        }
        let n = columns
        a.withUnsafeBufferPointer { pa in
            withUnsafeMutableBufferPointer { pc in
                Scalar._syrkTransposed(
                    n: n, k: a.rows, alpha: alpha, a: pa.baseAddress!, lda: n, beta: beta, c: pc.baseAddress!, ldc: n)
            }
        }
    }

    /// Copies the upper triangle onto the lower one, in 64 × 64 tiles (a plain loop reads a
    /// column per row: for 10,000 neurons that was a second of cache misses).
    @inlinable
    public mutating func mirrorUpperTriangle() {
        let n = columns
        let tile = 64
        withUnsafeMutableBufferPointer { c in
            for bi in stride(from: 0, to: n, by: tile) {
                for bj in stride(from: 0, through: bi, by: tile) {
                    for i in bi..<Swift.min(bi + tile, n) {
                        for j in bj..<Swift.min(bj + tile, i) { c[i * n + j] = c[j * n + i] }
                    }
                }
            }
        }
    }
}

/// General matrix products on raw row-major buffers (package-internal: raw pointers are not API), for block algorithms that walk a large
/// matrix in row blocks without copying them: `c := alpha·op(a)·op(b) + beta·c`, where op(a) is
/// m × k and op(b) is k × n, and `ld…` are the row strides.
package enum BLAS {
    package static func gemm<S: LinalgScalar>(
        transposeA: Bool = false, transposeB: Bool = false, m: Int, n: Int, k: Int, alpha: S = 1,
        a: UnsafePointer<S>, lda: Int, b: UnsafePointer<S>, ldb: Int, beta: S = 0, c: UnsafeMutablePointer<S>, ldc: Int
    ) {
        guard m > 0 && n > 0 else { return }
        if k == 0 {
            for i in 0..<m { for j in 0..<n { c[i * ldc + j] *= beta } }
            return
        }
        S._gemm(transA: transposeA, transB: transposeB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
    }

    /// The same product with its m rows split into `parts` single-threaded gemms run in
    /// parallel: for callers that own their parallelism (OpenBLAS set to one thread around them).
    package static func gemm<S: LinalgScalar>(
        parts: Int, transposeA: Bool = false, transposeB: Bool = false, m: Int, n: Int, k: Int, alpha: S = 1,
        a: UnsafePointer<S>, lda: Int, b: UnsafePointer<S>, ldb: Int, beta: S = 0, c: UnsafeMutablePointer<S>, ldc: Int
    ) {
        let (aShared, bShared, cShared) = (SharedBuffer(a), SharedBuffer(b), SharedBuffer(c))
        inParts(m, parts: parts, minimum: 16) { rows in
            gemm(
                transposeA: transposeA, transposeB: transposeB, m: rows.count, n: n, k: k, alpha: alpha,
                a: aShared.pointer + (transposeA ? rows.lowerBound : rows.lowerBound * lda), lda: lda, b: bShared.pointer, ldb: ldb, beta: beta,
                c: cShared.pointer + rows.lowerBound * ldc, ldc: ldc)
        }
    }

    /// `y := alpha·op(a)·x + beta·y` for a row-major m × n matrix `a` (row stride `lda`): a
    /// matrix–vector product without the packing a one-column gemm pays for.
    package static func gemv<S: LinalgScalar>(
        transpose: Bool = false, m: Int, n: Int, alpha: S = 1, a: UnsafePointer<S>, lda: Int, x: UnsafePointer<S>, beta: S = 0,
        y: UnsafeMutablePointer<S>
    ) {
        guard m > 0 && n > 0 else { return }
        S._gemv(trans: transpose, m: m, n: n, alpha: alpha, a: a, lda: lda, x: x, beta: beta, y: y)
    }
}
