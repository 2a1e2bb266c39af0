import Testing

@testable import SondeLinalg

/// Decompositions checked by their defining identities (reconstruction, orthogonality) on
/// random inputs and by closed forms on small ones. Tolerances: Double 1e-12 × size; Float 1e-5.
@Suite struct DecompositionTests {
    static let shapes = [(8, 5), (5, 8), (6, 6), (1, 4), (4, 1)]

    @Test(arguments: shapes)
    func svdReconstructsDouble(rows: Int, columns: Int) throws {
        let a: Matrix<Double> = randomMatrix(rows, columns, seed: UInt64(rows * 31 + columns))
        let svd = try a.svd()
        let r = min(rows, columns)
        #expect(svd.u.rows == rows && svd.u.columns == r && svd.vt.rows == r && svd.vt.columns == columns)
        var us = svd.u
        for i in 0..<rows { for k in 0..<r { us[i, k] *= svd.values[k] } }
        #expect(maxAbsDifference(Matrix.product(us, svd.vt), a) < 1e-12)
        #expect(maxAbsDifference(svd.u.gram(), Matrix.identity(r)) < 1e-12)
        #expect(maxAbsDifference(Matrix.product(svd.vt, svd.vt, transposeB: true), Matrix.identity(r)) < 1e-12)
        #expect(zip(svd.values, svd.values.dropFirst()).allSatisfy { $0 >= $1 } && svd.values.allSatisfy { $0 >= 0 })
    }

    @Test func svdReconstructsFloat() throws {
        let a: Matrix<Float> = randomMatrix(30, 12, seed: 9)
        let svd = try a.svd()
        var us = svd.u
        for i in 0..<30 { for k in 0..<12 { us[i, k] *= svd.values[k] } }
        #expect(maxAbsDifference(Matrix.product(us, svd.vt), a) < 1e-5)
        #expect(maxAbsDifference(svd.u.gram(), Matrix.identity(12)) < 1e-5)
    }

    /// Closed form: [[3, 0], [4, 5]] has singular values √45 and √5 (σ² are the eigenvalues
    /// 45 and 5 of AᵀA = [[25, 20], [20, 25]]).
    @Test func svdClosedForm() throws {
        let svd = try Matrix<Double>([[3, 0], [4, 5]]).svd()
        #expect(abs(svd.values[0] - 45.0.squareRoot()) < 1e-13)
        #expect(abs(svd.values[1] - 5.0.squareRoot()) < 1e-13)
    }

    /// Closed form: [[2, 1], [1, 2]] has eigenvalues 1 and 3 with eigenvectors (1, −1)/√2, (1, 1)/√2.
    @Test func eigenClosedForm() throws {
        let e = try Matrix<Double>([[2, 1], [1, 2]]).symmetricEigen()
        #expect(abs(e.values[0] - 1) < 1e-14 && abs(e.values[1] - 3) < 1e-14)
        let s = 0.5.squareRoot()
        #expect(abs(abs(e.vectors[0, 1]) - s) < 1e-14 && abs(e.vectors[0, 1] - e.vectors[1, 1]) < 1e-14)
        #expect(abs(e.vectors[0, 0] + e.vectors[1, 0]) < 1e-14)
    }

    @Test func eigenpairsOfRandomSymmetric() throws {
        let b: Matrix<Double> = randomMatrix(30, 10, seed: 5)
        let a = b.gram()
        let e = try a.symmetricEigen()
        for i in 0..<10 {
            let v = e.vectors.column(i)
            let av = a.times(v)
            for k in 0..<10 { #expect(abs(av[k] - e.values[i] * v[k]) < 1e-11) }
        }
        #expect(maxAbsDifference(e.vectors.gram(), Matrix.identity(10)) < 1e-12)
        #expect(zip(e.values, e.values.dropFirst()).allSatisfy { $0 <= $1 })
    }

    /// Only the upper triangle is read: garbage below the diagonal must not change the result.
    @Test func eigenReadsUpperTriangleOnly() throws {
        var a = Matrix<Double>([[2, 1], [1, 2]])
        a[1, 0] = 99
        let e = try a.symmetricEigen()
        #expect(abs(e.values[0] - 1) < 1e-14 && abs(e.values[1] - 3) < 1e-14)
    }

    /// Closed form: [[4, 2], [2, 5]] = L·Lᵀ with L = [[2, 0], [1, 2]].
    @Test func choleskyClosedForm() throws {
        let l = try Matrix<Double>([[4, 2], [2, 5]]).cholesky()
        #expect(maxAbsDifference(l, Matrix([[2, 0], [1, 2]])) < 1e-15)
    }

    @Test func choleskySolves() throws {
        let b: Matrix<Double> = randomMatrix(40, 8, seed: 6)
        var a = b.gram()
        for i in 0..<8 { a[i, i] += 0.1 }
        let l = try a.cholesky()
        #expect(maxAbsDifference(Matrix.product(l, l, transposeB: true), a) < 1e-12)
        let rhs: Matrix<Double> = randomMatrix(8, 3, seed: 7)
        let x = try l.choleskySolve(rhs)
        #expect(maxAbsDifference(Matrix.product(a, x), rhs) < 1e-10)
    }

    @Test func choleskyRejectsIndefinite() {
        #expect(throws: LinalgError.notPositiveDefinite(order: 2)) {
            try Matrix<Double>([[1, 2], [2, 1]]).cholesky()
        }
    }

    @Test(arguments: [(9, 4), (5, 5), (3, 1)])
    func qrIdentities(rows: Int, columns: Int) throws {
        let a: Matrix<Double> = randomMatrix(rows, columns, seed: 8)
        let qr = try a.qr()
        #expect(maxAbsDifference(qr.q.gram(), Matrix.identity(columns)) < 1e-13)
        #expect(maxAbsDifference(Matrix.product(qr.q, qr.r), a) < 1e-13)
        for i in 0..<columns { for j in 0..<i { #expect(qr.r[i, j] == 0) } }
    }

    @Test func qrFloat() throws {
        let a: Matrix<Float> = randomMatrix(50, 20, seed: 10)
        let qr = try a.qr()
        #expect(maxAbsDifference(qr.q.gram(), Matrix.identity(20)) < 1e-5)
        #expect(maxAbsDifference(Matrix.product(qr.q, qr.r), a) < 1e-5)
    }

    @Test func nonFiniteInputIsAnError() {
        let a = Matrix<Float>([[1, .nan], [0, 1]])
        #expect(throws: LinalgError.nonFinite(routine: "SVD")) { try a.svd() }
        #expect(throws: LinalgError.nonFinite(routine: "QR")) { try a.qr() }
        let b = Matrix<Double>([[4, 1], [1, .infinity]])
        #expect(throws: LinalgError.nonFinite(routine: "Cholesky")) { try b.cholesky() }
        #expect(throws: LinalgError.nonFinite(routine: "SVD")) { try b.svd() }
    }
}
