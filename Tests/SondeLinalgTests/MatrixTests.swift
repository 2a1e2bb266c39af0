import SondeBase
import Testing

@testable import SondeLinalg

@Suite struct MatrixTests {
    @Test func layoutIsRowMajor() {
        let m = Matrix<Float>([[1, 2, 3], [4, 5, 6]])
        #expect(m.elements == [1, 2, 3, 4, 5, 6])
        #expect(m[1, 0] == 4)
        #expect(m.row(1) == [4, 5, 6])
        #expect(m.column(2) == [3, 6])
    }

    @Test func slicing() {
        let m = Matrix<Float>(rows: 4, columns: 3, elements: (0..<12).map(Float.init))
        #expect(m.rows(1..<3) == Matrix([[3, 4, 5], [6, 7, 8]]))
        #expect(m.rows([3, 0, 3]) == Matrix([[9, 10, 11], [0, 1, 2], [9, 10, 11]]))
        #expect(m.columns([2, 0]) == Matrix([[2, 0], [5, 3], [8, 6], [11, 9]]))
        #expect(m.rows(2..<2).rows == 0)
    }

    @Test func transposeMatchesDefinition() {
        let m: Matrix<Float> = randomMatrix(37, 70, seed: 1)  // not multiples of the 32 block
        let t = m.transposed()
        #expect(t.rows == 70 && t.columns == 37)
        for i in 0..<37 { for j in 0..<70 { #expect(t[j, i] == m[i, j]) } }
    }

    /// Copy-on-write: a hidden copy stays untouched while the original is written.
    @Test func valueSemantics() {
        var a = Matrix<Float>(rows: 2, columns: 2, repeating: 1)
        let hidden = a
        a[0, 0] = 5
        a.withUnsafeMutableBufferPointer { $0[3] = 7 }
        #expect(hidden.elements == [1, 1, 1, 1])
        #expect(a.elements == [5, 1, 1, 7])
    }

    /// gemm against the triple loop in Double, in every transpose combination (tolerance: Float
    /// rounding of a 50-term dot product of values in [-1, 1], 1e-5).
    @Test(arguments: [(false, false), (true, false), (false, true), (true, true)])
    func productMatchesTripleLoop(transposeA: Bool, transposeB: Bool) {
        let a: Matrix<Float> = randomMatrix(transposeA ? 50 : 23, transposeA ? 23 : 50, seed: 2)
        let b: Matrix<Float> = randomMatrix(transposeB ? 31 : 50, transposeB ? 50 : 31, seed: 3)
        let c = Matrix.product(a, b, transposeA: transposeA, transposeB: transposeB)
        let expected = naiveProduct(transposeA ? a.transposed() : a, transposeB ? b.transposed() : b)
        #expect(c.rows == 23 && c.columns == 31)
        #expect(maxAbsDifference(c, expected) < 1e-5)
    }

    @Test func addProductAccumulates() {
        let a = Matrix<Double>([[1, 2], [3, 4]])
        var c = Matrix<Double>([[1, 1], [1, 1]])
        c.addProduct(a, a, alpha: 2, beta: 3)  // 2·A² + 3  with A² = [[7, 10], [15, 22]]
        #expect(c == Matrix([[17, 23], [33, 47]]))
    }

    @Test func emptyInnerDimension() {
        let a = Matrix<Float>(rows: 3, columns: 0)
        let b = Matrix<Float>(rows: 0, columns: 2)
        #expect(Matrix.product(a, b) == Matrix(rows: 3, columns: 2))
    }

    @Test func gemvMatchesDefinition() {
        let a = Matrix<Float>([[1, 2, 3], [4, 5, 6]])
        #expect(a.times([1, 0, -1]) == [-2, -2])
        #expect(a.times([1, 1], transposed: true) == [5, 7, 9])
    }

    @Test func gramEqualsTransposeProduct() {
        let a: Matrix<Double> = randomMatrix(40, 9, seed: 4)
        let g = a.gram()
        let expected = naiveProduct(a.transposed(), a)
        #expect(maxAbsDifference(g, expected) < 1e-12)
        for i in 0..<9 { for j in 0..<9 { #expect(g[i, j] == g[j, i]) } }
    }

    @Test func conversionRoundTrips() {
        let m = Matrix<Float>([[0.1, -2.5]])
        #expect(m.converted(to: Double.self).converted(to: Float.self) == m)
    }
}

/// `BLAS.gemm(parts:)` against a brute-force triple loop, for every transposition, with row
/// counts that do and do not divide into parts, inside and outside `BLASThreads.owned`.
@Test(arguments: [(false, false), (true, false), (false, true), (true, true)])
func gemmInPartsMatchesTheTripleLoop(transposeA: Bool, transposeB: Bool) {
    var g = SplitMix64(seed: 8)
    for (m, n, k) in [(1, 3, 2), (37, 5, 7), (100, 9, 4)] {
        let a = (0..<(m * k)).map { _ in g.unit() - 0.5 }, b = (0..<(k * n)).map { _ in g.unit() - 0.5 }
        let c0 = (0..<(m * n)).map { _ in g.unit() - 0.5 }
        // op(a)[i, l] and op(b)[l, j] in their stored layouts.
        func opA(_ i: Int, _ l: Int) -> Double { transposeA ? a[l * m + i] : a[i * k + l] }
        func opB(_ l: Int, _ j: Int) -> Double { transposeB ? b[j * k + l] : b[l * n + j] }
        var expected = [Double](repeating: 0, count: m * n)
        for i in 0..<m {
            for j in 0..<n {
                var sum = 0.0
                for l in 0..<k { sum += opA(i, l) * opB(l, j) }
                expected[i * n + j] = 0.5 * c0[i * n + j] + 2 * sum
            }
        }
        for parts in [1, 2, 3] {
            var c = c0
            BLASThreads.owned { _ in
                c.withUnsafeMutableBufferPointer { cp in
                    BLAS.gemm(
                        parts: parts, transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: 2, a: a, lda: transposeA ? m : k, b: b,
                        ldb: transposeB ? k : n, beta: 0.5, c: cp.baseAddress!, ldc: n)
                }
            }
            #expect(zip(c, expected).allSatisfy { abs($0 - $1) < 1e-12 }, "m \(m) parts \(parts)")
        }
    }
}
