import Foundation
import SondeBase
import Testing

@testable import SondeProbe

/// One class block of the Newton model (`solveRow`): its exact minimiser where coordinate descent
/// converges, and a bounded descent step where the block is nearly singular.
@Suite struct BlockSolveTests {
    let problem = ProbeProblem(PlantedData(samples: 40, neurons: 3, classes: 2, planted: 1, copies: 1, seed: 1).dataset, standardize: true)

    /// gᵀ(w − v) + ½(w − v)ᵀ(sH + ρP)(w − v) + κ₁‖Pw‖₁ + κ₂/2‖Pw‖², P the penalised coordinates
    /// (all but the last), written out from the definition.
    func model(_ w: [Double], g: [Double], v: [Double], h: [Double], s: Double, rho: Double, k1: Double, k2: Double) -> Double {
        let e = w.count
        let delta = zip(w, v).map { $0 - $1 }
        var value = zip(g, delta).map { $0 * $1 }.reduce(0, +)
        for i in 0..<e {
            for j in 0..<e { value += 0.5 * delta[i] * s * h[i * e + j] * delta[j] }
            if i < e - 1 { value += 0.5 * rho * delta[i] * delta[i] + k1 * abs(w[i]) + 0.5 * k2 * w[i] * w[i] }
        }
        return value
    }

    @Test func aWellConditionedBlockReachesTheClosedFormMinimiser() {
        // Without the ℓ₁ term the minimiser solves (sH + (ρ + κ₂)P) w = (sH + ρP) v − g.
        let h: [Double] = [4, 1, 0.5, 0.2, 1, 3, 0.3, 0.1, 0.5, 0.3, 2, 0.4, 0.2, 0.1, 0.4, 1]
        let (g, v) = ([0.3, -0.2, 0.1, 0.05], [0.1, 0.2, -0.3, 0.4])
        let (s, rho, k2) = (1.5, 0.01, 0.02)
        let (w, sweeps) = problem.solveRow(g: g, v: v, start: v, h: h, size: 3, scale: s, rho: rho, k1: 0, k2: k2, tolerance: 1e-12)
        #expect(sweeps < ProbeProblem.maxSweeps)
        // Gaussian elimination on the 4 × 4 system.
        func ridge(_ i: Int, _ j: Int, _ r: Double) -> Double { i == j && i < 3 ? r : 0 }
        var a: [[Double]] = (0..<4).map { i in (0..<4).map { j in s * h[i * 4 + j] + ridge(i, j, rho + k2) } }
        var rhs: [Double] = (0..<4).map { i in
            var sum = -g[i]
            for j in 0..<4 { sum += (s * h[i * 4 + j] + ridge(i, j, rho)) * v[j] }
            return sum
        }
        for p in 0..<4 {
            for r in (p + 1)..<4 {
                let f = a[r][p] / a[p][p]
                for c in p..<4 { a[r][c] -= f * a[p][c] }
                rhs[r] -= f * rhs[p]
            }
        }
        var exact = [Double](repeating: 0, count: 4)
        for p in stride(from: 3, through: 0, by: -1) {
            var sum = rhs[p]
            for q in (p + 1)..<4 { sum -= a[p][q] * exact[q] }
            exact[p] = sum / a[p][p]
        }
        #expect(zip(w, exact).allSatisfy { abs($0 - $1) < 1e-9 }, "\(w) vs \(exact)")
    }

    @Test func aNearlySingularBlockStopsWithADescentStep() {
        // H = uuᵀ (rank one) with a ridge of 1e-9: coordinate descent contracts by ≈ 1 − 1e-9 per
        // sweep along the null directions, so only the sweep cap ends it.
        let u = [1.0, 0.999, 1.001, 1.0]
        let h = (0..<16).map { u[$0 / 4] * u[$0 % 4] }
        let (g, v) = ([0.5, -0.4, 0.3, 0.2], [0.0, 0.0, 0.0, 0.0])
        let (w, sweeps) = problem.solveRow(g: g, v: v, start: v, h: h, size: 3, scale: 1, rho: 1e-9, k1: 1e-4, k2: 0, tolerance: 1e-12)
        #expect(sweeps == ProbeProblem.maxSweeps)
        let start = model(v, g: g, v: v, h: h, s: 1, rho: 1e-9, k1: 1e-4, k2: 0)
        let end = model(w, g: g, v: v, h: h, s: 1, rho: 1e-9, k1: 1e-4, k2: 0)
        #expect(w.allSatisfy(\.isFinite) && end < start - 0.1, "\(start) → \(end)")
    }
}
