// SVD, symmetric eigendecomposition, Cholesky and QR through LAPACKE.
//
// LAPACKE's row-major entry points transpose into temporaries. We avoid that: a row-major m × n
// buffer *is* the column-major n × m matrix Aᵀ, so each routine is called in column-major mode on
// the transpose and the results are read back as the factors we want (see each function).

/// A thin singular value decomposition `A = U · diag(values) · Vᵀ`.
public struct SVD<Scalar: LinalgScalar>: Sendable {
    /// m × r with orthonormal columns, r = min(m, n).
    public let u: Matrix<Scalar>
    /// The r singular values, descending, non-negative.
    public let values: [Scalar]
    /// r × n with orthonormal rows (the right singular vectors are its rows).
    public let vt: Matrix<Scalar>
}

/// Eigenpairs of a symmetric matrix: `A · vectors[:, i] = values[i] · vectors[:, i]`.
public struct SymmetricEigen<Scalar: LinalgScalar>: Sendable {
    /// Eigenvalues, ascending.
    public let values: [Scalar]
    /// n × n orthogonal; column i is the unit eigenvector of `values[i]`.
    public let vectors: Matrix<Scalar>
}

/// A thin QR decomposition `A = Q · R` of an m × n matrix with m ≥ n.
public struct QR<Scalar: LinalgScalar>: Sendable {
    /// m × n with orthonormal columns.
    public let q: Matrix<Scalar>
    /// n × n upper triangular.
    public let r: Matrix<Scalar>
}

extension Matrix {
    private func requireFinite(_ routine: String) throws {
        if !withUnsafeBufferPointer({ Scalar._allFinite($0) }) { throw LinalgError.nonFinite(routine: routine) }
    }

    /// The thin SVD by divide and conquer (gesdd).
    ///
    /// Called on the column-major view Aᵀ = V Σ Uᵀ, LAPACK's "U" (n × r, column-major) is, read
    /// row-major, the r × n matrix Vᵀ; its "Vᵀ" (r × m, column-major) is, read row-major, U.
    public func svd() throws -> SVD<Scalar> {
        try requireFinite("SVD")
        let (m, n) = (rows, columns)
        let r = Swift.min(m, n)
        if r == 0 {
            return SVD(u: Matrix(rows: m, columns: 0), values: [], vt: Matrix(rows: 0, columns: n))
        }
        var work = self  // gesdd overwrites its input
        var s = [Scalar](repeating: 0, count: r)
        var vt = Matrix(rows: r, columns: n)  // LAPACK's U of Aᵀ
        var u = Matrix(rows: m, columns: r)  // LAPACK's Vᵀ of Aᵀ
        let info = work.withUnsafeMutableBufferPointer { a in
            s.withUnsafeMutableBufferPointer { ps in
                vt.withUnsafeMutableBufferPointer { pv in
                    u.withUnsafeMutableBufferPointer { pu in
                        Scalar._gesdd(
                            job: UInt8(ascii: "S"), m: n, n: m, a: a.baseAddress!, lda: n, s: ps.baseAddress!,
                            u: pv.baseAddress!, ldu: n, vt: pu.baseAddress!, ldvt: r)
                    }
                }
            }
        }
        try LinalgError.check(info, "SVD (gesdd)")
        return SVD(u: u, values: s, vt: vt)
    }

    /// The eigenvalues alone of a symmetric matrix, ascending (syevd without vectors).
    public func symmetricEigenvalues() throws -> [Scalar] {
        precondition(rows == columns, "symmetricEigenvalues of a \(rows) × \(columns) matrix")
        try requireFinite("symmetric eigendecomposition")
        if rows == 0 { return [] }
        var a = self
        var w = [Scalar](repeating: 0, count: rows)
        let n = rows
        let info = a.withUnsafeMutableBufferPointer { pa in
            w.withUnsafeMutableBufferPointer { pw in Scalar._syevd(vectors: false, n: n, a: pa.baseAddress!, lda: n, w: pw.baseAddress!) }
        }
        try LinalgError.check(info, "symmetric eigendecomposition (syevd)")
        return w
    }

    /// The singular values alone, descending (gesdd without vectors: several times cheaper).
    public func singularValues() throws -> [Scalar] {
        try requireFinite("SVD")
        let (m, n) = (rows, columns)
        let r = Swift.min(m, n)
        if r == 0 { return [] }
        var work = self
        var s = [Scalar](repeating: 0, count: r)
        var unused: [Scalar] = [0]
        let info = work.withUnsafeMutableBufferPointer { a in
            s.withUnsafeMutableBufferPointer { ps in
                unused.withUnsafeMutableBufferPointer { pu in
                    Scalar._gesdd(
                        job: UInt8(ascii: "N"), m: n, n: m, a: a.baseAddress!, lda: n, s: ps.baseAddress!,
                        u: pu.baseAddress!, ldu: 1, vt: pu.baseAddress!, ldvt: 1)
                }
            }
        }
        try LinalgError.check(info, "SVD (gesdd)")
        return s
    }

    /// Eigenvalues and eigenvectors of a symmetric matrix (syevd; only the upper triangle of the
    /// row-major matrix is read).
    public func symmetricEigen() throws -> SymmetricEigen<Scalar> {
        precondition(rows == columns, "symmetricEigen of a \(rows) × \(columns) matrix")
        try requireFinite("symmetric eigendecomposition")
        let n = rows
        if n == 0 { return SymmetricEigen(values: [], vectors: self) }
        // The row-major upper triangle is LAPACK's column-major lower one ("L" in the call).
        var a = self
        var w = [Scalar](repeating: 0, count: n)
        let info = a.withUnsafeMutableBufferPointer { pa in
            w.withUnsafeMutableBufferPointer { pw in Scalar._syevd(vectors: true, n: n, a: pa.baseAddress!, lda: n, w: pw.baseAddress!) }
        }
        try LinalgError.check(info, "symmetric eigendecomposition (syevd)")
        // Column-major eigenvectors read row-major are the transpose: rows are eigenvectors.
        return SymmetricEigen(values: w, vectors: a.transposed())
    }

    /// The Cholesky factor L (lower triangular, `A = L·Lᵀ`) of a symmetric positive definite
    /// matrix (potrf; only the lower triangle of the row-major matrix is read).
    ///
    /// The row-major lower triangle is the column-major upper one: LAPACK's `A = UᵀU` with U
    /// column-major upper is, read row-major, L = Uᵀ.
    public func cholesky() throws -> Matrix {
        precondition(rows == columns, "Cholesky of a \(rows) × \(columns) matrix")
        try requireFinite("Cholesky")
        let n = rows
        var l = self
        let info = l.withUnsafeMutableBufferPointer { p in Scalar._potrf(n: n, a: p.baseAddress!, lda: Swift.max(1, n)) }
        if info > 0 { throw LinalgError.notPositiveDefinite(order: Int(info)) }
        try LinalgError.check(info, "Cholesky (potrf)")
        l.withUnsafeMutableBufferPointer { p in
            for i in 0..<n { for j in (i + 1)..<Swift.max(i + 1, n) { p[i * n + j] = 0 } }
        }
        return l
    }

    /// Solves `A·X = B` for X given the Cholesky factor `self` = L of A (potrs). B is n × r.
    public func choleskySolve(_ b: Matrix) throws -> Matrix {
        precondition(rows == columns && b.rows == rows, "choleskySolve shapes")
        var x = b
        if b.columns == 0 || rows == 0 { return x }
        let info = withUnsafeBufferPointer { pl in
            x.withUnsafeMutableBufferPointer { px in
                Scalar._potrs(n: rows, nrhs: b.columns, a: pl.baseAddress!, lda: rows, b: px.baseAddress!, ldb: b.columns)
            }
        }
        try LinalgError.check(info, "Cholesky solve (potrs)")
        return x
    }

    /// The thin QR decomposition of an m × n matrix, m ≥ n.
    ///
    /// Computed as an LQ decomposition (gelqf + orglq) of the column-major view Aᵀ = L·Q̃: then
    /// A = Q̃ᵀ·Lᵀ, and Q̃ (n × m column-major) read row-major is Q = Q̃ᵀ, L read row-major is R = Lᵀ.
    public func qr() throws -> QR<Scalar> {
        precondition(rows >= columns, "thin QR needs rows ≥ columns (got \(rows) × \(columns))")
        try requireFinite("QR")
        let (m, n) = (rows, columns)
        if n == 0 { return QR(q: Matrix(rows: m, columns: 0), r: Matrix(rows: 0, columns: 0)) }
        var a = self
        var tau = [Scalar](repeating: 0, count: n)
        let info = a.withUnsafeMutableBufferPointer { pa in
            tau.withUnsafeMutableBufferPointer { pt in Scalar._gelqf(m: n, n: m, a: pa.baseAddress!, lda: n, tau: pt.baseAddress!) }
        }
        try LinalgError.check(info, "QR (gelqf)")
        // R: row-major upper triangle of the first n rows (= column-major lower triangle L).
        var r = Matrix(rows: n, columns: n)
        a.withUnsafeBufferPointer { pa in
            r.withUnsafeMutableBufferPointer { pr in
                for i in 0..<n { for j in i..<n { pr[i * n + j] = pa[i * n + j] } }
            }
        }
        let info2 = a.withUnsafeMutableBufferPointer { pa in
            tau.withUnsafeBufferPointer { pt in Scalar._orglq(m: n, n: m, k: n, a: pa.baseAddress!, lda: n, tau: pt.baseAddress!) }
        }
        try LinalgError.check(info2, "QR (orglq)")
        return QR(q: a, r: r)
    }
}
