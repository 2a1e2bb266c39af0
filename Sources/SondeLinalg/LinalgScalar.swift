import CBLAS
import CLAPACKE
import Dispatch
import Foundation

/// A floating-point type that BLAS and LAPACK compute in: `Float` (s-routines) or `Double`
/// (d-routines). `Matrix` is generic over it so that the same code serves activations (Float) and
/// the accumulations that need more precision (Double).
///
/// The underscored requirements are the raw routines `Matrix` calls; they are not API. Every
/// matrix they receive is described in LAPACK's column-major terms (`ld…` = leading dimension).
public protocol LinalgScalar: BinaryFloatingPoint, Sendable, Codable {
    static func _gemm(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Self,
        a: UnsafePointer<Self>, lda: Int, b: UnsafePointer<Self>, ldb: Int,
        beta: Self, c: UnsafeMutablePointer<Self>, ldc: Int)
    static func _gemv(
        trans: Bool, m: Int, n: Int, alpha: Self, a: UnsafePointer<Self>, lda: Int,
        x: UnsafePointer<Self>, beta: Self, y: UnsafeMutablePointer<Self>)
    /// C := alpha·AᵀA + beta·C (row-major A is k × n, C is n × n; upper triangle written).
    static func _syrkTransposed(
        n: Int, k: Int, alpha: Self, a: UnsafePointer<Self>, lda: Int,
        beta: Self, c: UnsafeMutablePointer<Self>, ldc: Int)
    /// With A triangular (row-major): B := alpha·op(A)⁻¹·B (left) or alpha·B·op(A)⁻¹ (right) —
    /// trsm; with `multiply`, B := alpha·op(A)·B or alpha·B·op(A) — trmm.
    static func _triangular(
        multiply: Bool, left: Bool, upper: Bool, transA: Bool, m: Int, n: Int, alpha: Self,
        a: UnsafePointer<Self>, lda: Int, b: UnsafeMutablePointer<Self>, ldb: Int)
    /// Thin SVD (job "S"), or singular values only (job "N": u and vt are not touched).
    static func _gesdd(
        job: UInt8, m: Int, n: Int, a: UnsafeMutablePointer<Self>, lda: Int, s: UnsafeMutablePointer<Self>,
        u: UnsafeMutablePointer<Self>, ldu: Int, vt: UnsafeMutablePointer<Self>, ldvt: Int
    ) -> Int32
    /// Column-major lower triangle read (= the row-major upper triangle).
    static func _syevd(vectors: Bool, n: Int, a: UnsafeMutablePointer<Self>, lda: Int, w: UnsafeMutablePointer<Self>) -> Int32
    static func _potrf(n: Int, a: UnsafeMutablePointer<Self>, lda: Int) -> Int32
    /// Whether every value is finite: a loop on the concrete type (through the protocol, a
    /// generic scan of a 769² block cost more than its Cholesky factorisation).
    static func _allFinite(_ values: UnsafeBufferPointer<Self>) -> Bool
    static func _potrs(
        n: Int, nrhs: Int, a: UnsafePointer<Self>, lda: Int, b: UnsafeMutablePointer<Self>, ldb: Int
    ) -> Int32
    static func _gelqf(m: Int, n: Int, a: UnsafeMutablePointer<Self>, lda: Int, tau: UnsafeMutablePointer<Self>) -> Int32
    static func _orglq(
        m: Int, n: Int, k: Int, a: UnsafeMutablePointer<Self>, lda: Int, tau: UnsafePointer<Self>
    ) -> Int32
}

@inline(__always) private func blasTranspose(_ t: Bool) -> CBLAS_TRANSPOSE { t ? CblasTrans : CblasNoTrans }
@inline(__always) private func li(_ x: Int) -> sonde_lapack_int { sonde_lapack_int(x) }
@inline(__always) private func bi(_ x: Int) -> blasint { blasint(x) }

extension Float: LinalgScalar {
    public static func _allFinite(_ values: UnsafeBufferPointer<Float>) -> Bool {
        for value in values where !value.isFinite { return false }
        return true
    }
    public static func _gemm(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
        a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        cblas_sgemm(
            CblasRowMajor, blasTranspose(transA), blasTranspose(transB), bi(m), bi(n), bi(k),
            alpha, a, bi(lda), b, bi(ldb), beta, c, bi(ldc))
    }
    public static func _gemv(
        trans: Bool, m: Int, n: Int, alpha: Float, a: UnsafePointer<Float>, lda: Int,
        x: UnsafePointer<Float>, beta: Float, y: UnsafeMutablePointer<Float>
    ) {
        cblas_sgemv(CblasRowMajor, blasTranspose(trans), bi(m), bi(n), alpha, a, bi(lda), x, 1, beta, y, 1)
    }
    public static func _triangular(
        multiply: Bool, left: Bool, upper: Bool, transA: Bool, m: Int, n: Int, alpha: Float,
        a: UnsafePointer<Float>, lda: Int, b: UnsafeMutablePointer<Float>, ldb: Int
    ) {
        let (side, part) = (left ? CblasLeft : CblasRight, upper ? CblasUpper : CblasLower)
        if multiply {
            cblas_strmm(CblasRowMajor, side, part, blasTranspose(transA), CblasNonUnit, bi(m), bi(n), alpha, a, bi(lda), b, bi(ldb))
        } else {
            cblas_strsm(CblasRowMajor, side, part, blasTranspose(transA), CblasNonUnit, bi(m), bi(n), alpha, a, bi(lda), b, bi(ldb))
        }
    }
    public static func _syrkTransposed(
        n: Int, k: Int, alpha: Float, a: UnsafePointer<Float>, lda: Int,
        beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        cblas_ssyrk(CblasRowMajor, CblasUpper, CblasTrans, bi(n), bi(k), alpha, a, bi(lda), beta, c, bi(ldc))
    }
    public static func _gesdd(
        job: UInt8, m: Int, n: Int, a: UnsafeMutablePointer<Float>, lda: Int, s: UnsafeMutablePointer<Float>,
        u: UnsafeMutablePointer<Float>, ldu: Int, vt: UnsafeMutablePointer<Float>, ldvt: Int
    ) -> Int32 {
        Int32(LAPACKE_sgesdd(LAPACK_COL_MAJOR, CChar(job), li(m), li(n), a, li(lda), s, u, li(ldu), vt, li(ldvt)))
    }
    public static func _syevd(vectors: Bool, n: Int, a: UnsafeMutablePointer<Float>, lda: Int, w: UnsafeMutablePointer<Float>) -> Int32 {
        Int32(LAPACKE_ssyevd(LAPACK_COL_MAJOR, CChar(UInt8(ascii: vectors ? "V" : "N")), CChar(UInt8(ascii: "L")), li(n), a, li(lda), w))
    }
    public static func _potrf(n: Int, a: UnsafeMutablePointer<Float>, lda: Int) -> Int32 {
        Int32(LAPACKE_spotrf(LAPACK_COL_MAJOR, CChar(UInt8(ascii: "U")), li(n), a, li(lda)))
    }
    public static func _potrs(
        n: Int, nrhs: Int, a: UnsafePointer<Float>, lda: Int, b: UnsafeMutablePointer<Float>, ldb: Int
    ) -> Int32 {
        Int32(LAPACKE_spotrs(LAPACK_ROW_MAJOR, CChar(UInt8(ascii: "L")), li(n), li(nrhs), a, li(lda), b, li(ldb)))
    }
    public static func _gelqf(m: Int, n: Int, a: UnsafeMutablePointer<Float>, lda: Int, tau: UnsafeMutablePointer<Float>) -> Int32 {
        Int32(LAPACKE_sgelqf(LAPACK_COL_MAJOR, li(m), li(n), a, li(lda), tau))
    }
    public static func _orglq(
        m: Int, n: Int, k: Int, a: UnsafeMutablePointer<Float>, lda: Int, tau: UnsafePointer<Float>
    ) -> Int32 {
        Int32(LAPACKE_sorglq(LAPACK_COL_MAJOR, li(m), li(n), li(k), a, li(lda), tau))
    }
}

extension Double: LinalgScalar {
    public static func _allFinite(_ values: UnsafeBufferPointer<Double>) -> Bool {
        for value in values where !value.isFinite { return false }
        return true
    }
    public static func _gemm(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Double,
        a: UnsafePointer<Double>, lda: Int, b: UnsafePointer<Double>, ldb: Int,
        beta: Double, c: UnsafeMutablePointer<Double>, ldc: Int
    ) {
        cblas_dgemm(
            CblasRowMajor, blasTranspose(transA), blasTranspose(transB), bi(m), bi(n), bi(k),
            alpha, a, bi(lda), b, bi(ldb), beta, c, bi(ldc))
    }
    public static func _gemv(
        trans: Bool, m: Int, n: Int, alpha: Double, a: UnsafePointer<Double>, lda: Int,
        x: UnsafePointer<Double>, beta: Double, y: UnsafeMutablePointer<Double>
    ) {
        cblas_dgemv(CblasRowMajor, blasTranspose(trans), bi(m), bi(n), alpha, a, bi(lda), x, 1, beta, y, 1)
    }
    public static func _triangular(
        multiply: Bool, left: Bool, upper: Bool, transA: Bool, m: Int, n: Int, alpha: Double,
        a: UnsafePointer<Double>, lda: Int, b: UnsafeMutablePointer<Double>, ldb: Int
    ) {
        let (side, part) = (left ? CblasLeft : CblasRight, upper ? CblasUpper : CblasLower)
        if multiply {
            cblas_dtrmm(CblasRowMajor, side, part, blasTranspose(transA), CblasNonUnit, bi(m), bi(n), alpha, a, bi(lda), b, bi(ldb))
        } else {
            cblas_dtrsm(CblasRowMajor, side, part, blasTranspose(transA), CblasNonUnit, bi(m), bi(n), alpha, a, bi(lda), b, bi(ldb))
        }
    }
    public static func _syrkTransposed(
        n: Int, k: Int, alpha: Double, a: UnsafePointer<Double>, lda: Int,
        beta: Double, c: UnsafeMutablePointer<Double>, ldc: Int
    ) {
        cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, bi(n), bi(k), alpha, a, bi(lda), beta, c, bi(ldc))
    }
    public static func _gesdd(
        job: UInt8, m: Int, n: Int, a: UnsafeMutablePointer<Double>, lda: Int, s: UnsafeMutablePointer<Double>,
        u: UnsafeMutablePointer<Double>, ldu: Int, vt: UnsafeMutablePointer<Double>, ldvt: Int
    ) -> Int32 {
        Int32(LAPACKE_dgesdd(LAPACK_COL_MAJOR, CChar(job), li(m), li(n), a, li(lda), s, u, li(ldu), vt, li(ldvt)))
    }
    public static func _syevd(vectors: Bool, n: Int, a: UnsafeMutablePointer<Double>, lda: Int, w: UnsafeMutablePointer<Double>) -> Int32 {
        Int32(LAPACKE_dsyevd(LAPACK_COL_MAJOR, CChar(UInt8(ascii: vectors ? "V" : "N")), CChar(UInt8(ascii: "L")), li(n), a, li(lda), w))
    }
    public static func _potrf(n: Int, a: UnsafeMutablePointer<Double>, lda: Int) -> Int32 {
        Int32(LAPACKE_dpotrf(LAPACK_COL_MAJOR, CChar(UInt8(ascii: "U")), li(n), a, li(lda)))
    }
    public static func _potrs(
        n: Int, nrhs: Int, a: UnsafePointer<Double>, lda: Int, b: UnsafeMutablePointer<Double>, ldb: Int
    ) -> Int32 {
        Int32(LAPACKE_dpotrs(LAPACK_ROW_MAJOR, CChar(UInt8(ascii: "L")), li(n), li(nrhs), a, li(lda), b, li(ldb)))
    }
    public static func _gelqf(m: Int, n: Int, a: UnsafeMutablePointer<Double>, lda: Int, tau: UnsafeMutablePointer<Double>) -> Int32 {
        Int32(LAPACKE_dgelqf(LAPACK_COL_MAJOR, li(m), li(n), a, li(lda), tau))
    }
    public static func _orglq(
        m: Int, n: Int, k: Int, a: UnsafeMutablePointer<Double>, lda: Int, tau: UnsafePointer<Double>
    ) -> Int32 {
        Int32(LAPACKE_dorglq(LAPACK_COL_MAJOR, li(m), li(n), li(k), a, li(lda), tau))
    }
}

/// The number of threads Sonde computes on: OpenBLAS's (and LAPACK's through it) and the
/// workers of Sonde's own parallel loops (`owned`).
public enum BLASThreads {
    /// The configured count and the callers inside `owned`, under a lock (NSLock: pthreads,
    /// which ThreadSanitizer follows; it does not see Synchronization.Mutex's futex on Linux).
    private final class State: @unchecked Sendable {
        let lock = NSLock()
        var configured = Int(openblas_get_num_threads())
        /// Callers inside `owned`: OpenBLAS stays single-threaded until the last one leaves.
        var owners = 0
        func locked<T>(_ body: (State) -> T) -> T {
            lock.lock()
            defer { lock.unlock() }
            return body(self)
        }
    }
    private static let state = State()

    public static var count: Int {
        get { state.locked { $0.configured } }
        set {
            state.locked { s in
                s.configured = max(1, newValue)
                if s.owners == 0 { openblas_set_num_threads(Int32(s.configured)) }
            }
        }
    }

    /// Runs `body` with OpenBLAS single-threaded, handing it the configured thread count: the
    /// body splits its work into that many parts itself (`inParts`, `BLAS.gemm(parts:)`). After
    /// each threaded call OpenBLAS's idle threads spin for a while, taking the cores that the
    /// body's next parallel part needs; code that alternates small products with its own
    /// parallel work is faster owning all of it. Bodies may run concurrently (tests do): OpenBLAS
    /// gets its threads back when the last one ends, and every body is handed the same count.
    package static func owned<T>(_ body: (_ workers: Int) throws -> T) rethrows -> T {
        let threads = state.locked { s in
            s.owners += 1
            if s.owners == 1 && s.configured > 1 { openblas_set_num_threads(1) }
            return s.configured
        }
        defer {
            state.locked { s in
                s.owners -= 1
                if s.owners == 0 && s.configured > 1 { openblas_set_num_threads(Int32(s.configured)) }
            }
        }
        return try body(threads)
    }
}

/// Calls `body` on up to `parts` contiguous ranges covering 0..<count, in parallel, each at
/// least `minimum` long (one call on the whole range when that leaves a single part).
package func inParts(_ count: Int, parts: Int, minimum: Int = 1, _ body: @Sendable (Range<Int>) -> Void) {
    let workers = min(parts, count / max(1, minimum))
    guard workers > 1 else {
        if count > 0 { body(0..<count) }
        return
    }
    DispatchQueue.concurrentPerform(iterations: workers) { part in body((part * count / workers)..<((part + 1) * count / workers)) }
}

/// Calls `body` on each of 0..<count on up to `workers` threads, each thread taking the next
/// index when it finishes one: for tasks of uneven cost (put the costly ones first).
package func inTasks(_ count: Int, workers: Int, _ body: @Sendable (Int) -> Void) {
    guard workers > 1 && count > 1 else {
        for task in 0..<count { body(task) }
        return
    }
    final class Next: @unchecked Sendable {
        let lock = NSLock()
        var index = 0
        func take() -> Int {
            lock.lock()
            defer { lock.unlock() }
            index += 1
            return index - 1
        }
    }
    let next = Next()
    DispatchQueue.concurrentPerform(iterations: min(workers, count)) { _ in
        while case let task = next.take(), task < count { body(task) }
    }
}
