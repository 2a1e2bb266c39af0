import Testing

@testable import SondeLinalg

@Suite struct StatisticsTests {
    /// Closed form: column (1, 2, 3, 4) has mean 2.5, population variance 1.25, sample variance 5/3.
    @Test func closedForm() {
        let m = Matrix<Float>([[1, 7], [2, 7], [3, 7], [4, 7]])
        let population = m.columnStatistics()
        #expect(population.means == [2.5, 7])
        #expect(abs(population.standardDeviations[0] - 1.25.squareRoot()) < 1e-15)
        #expect(population.standardDeviations[1] == 0)
        #expect(population.constantColumns == [1])
        let sample = m.columnStatistics(ddof: 1)
        #expect(abs(sample.standardDeviations[0] - (5.0 / 3).squareRoot()) < 1e-15)
    }

    /// Float accumulation would lose digits here: 10⁶ rows of 1e4 + tiny offsets. Double
    /// accumulation gives the exact mean (checked against the closed form 1e4 + 0.5·mean offset).
    @Test func largeOffsetsKeepPrecision() {
        let n = 100_000
        let m = Matrix<Float>(rows: n, columns: 1, elements: (0..<n).map { Float(10_000) + Float($0 % 2) })
        let stats = m.columnStatistics()
        #expect(abs(stats.means[0] - 10_000.5) < 1e-9)
        #expect(abs(stats.standardDeviations[0] - 0.5) < 1e-9)
    }

    @Test func standardizationHandlesConstantColumns() {
        let train = Matrix<Float>([[1, 5, 0], [3, 5, 2], [5, 5, 4]])
        let s = Standardization(fitting: train)
        #expect(s.constantColumns == [1])
        let z = s.apply(to: train)
        let stats = z.columnStatistics()
        #expect(abs(stats.means[0]) < 1e-7 && abs(stats.standardDeviations[0] - 1) < 1e-6)
        #expect(z.column(1) == [0, 0, 0])
        // applied to other data with the train statistics
        let test = s.apply(to: Matrix([[3, 9, 2]]))
        #expect(test.elements == [0, 0, 0])
    }

    /// Centring only (the probe's `standardize: false`), over enough rows for the two-thread
    /// path: each element is x − mean against a direct Double computation, a constant column is 0.
    @Test func centringOnlyOnTwoThreads() {
        let n = 6000
        let x = Matrix<Float>(rows: n, columns: 3) { out in
            for i in 0..<n { out[i * 3] = Float(i % 17) * 0.5; out[i * 3 + 1] = 7; out[i * 3 + 2] = Float((i * 31) % 101) - 40 }
        }
        let s = Standardization(fitting: x, scaling: false)
        #expect(s.scales == [1, 1, 1] && s.constantColumns == [1])
        let z = s.apply(to: x)
        for j in [0, 2] {
            let mean = (0..<n).reduce(0.0) { $0 + Double(x[$1, j]) } / Double(n)
            #expect(abs(s.means[j] - mean) < 1e-9)
            for i in stride(from: 0, to: n, by: 7) { #expect(abs(Double(z[i, j]) - (Double(x[i, j]) - mean)) < 1e-5) }
        }
        #expect(z.column(1).allSatisfy { $0 == 0 })
    }

    /// Covariance against the two-pass definition in Double, over more rows than one 4096 block.
    @Test func covarianceMatchesDefinition() {
        let x: Matrix<Float> = randomMatrix(5000, 4, seed: 11)
        let c = x.covariance()
        let means = (0..<4).map { j in (0..<5000).reduce(0.0) { $0 + Double(x[$1, j]) } / 5000 }
        for a in 0..<4 {
            for b in 0..<4 {
                let expected = (0..<5000).reduce(0.0) { $0 + (Double(x[$1, a]) - means[a]) * (Double(x[$1, b]) - means[b]) } / 4999
                #expect(abs(c[a, b] - expected) < 1e-12)
            }
        }
    }
}
