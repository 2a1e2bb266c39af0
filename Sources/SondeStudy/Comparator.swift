import Foundation
import SondeBase
import SondeLinalg
import SondeModels
import SondeProbe
import SondeSimilarity

/// The comparator's definitions (../shared/DESIGN.md, "Definitions the comparator uses").
public enum Comparator {
    /// The alignment of a set of salient neurons S with canonical directions (rows aᵢ — loadings
    /// or weights, `CanonicalAlignment` — with correlations ρᵢ): A = Σᵢ ρᵢ mᵢ / Σᵢ ρᵢ with
    /// mᵢ = Σ_{j∈S} aᵢⱼ² / Σⱼ aᵢⱼ², S's share of direction i. Written per neuron,
    /// A = Σ_{j∈S} wⱼ with wⱼ = Σᵢ ρᵢ aᵢⱼ²/‖aᵢ‖² / Σᵢ ρᵢ (Σⱼ wⱼ = 1): the share of the
    /// correlation-weighted direction mass that the salient neurons hold. Range [0, 1].
    ///
    /// The null is exact, not sampled: for k = |S| neurons drawn at random without replacement
    /// from the D, A has mean k/D and variance k·σ²_w·(D − k)/(D − 1), σ²_w the population
    /// variance of the wⱼ. `z` is (A − k/D) / SD; nil when every wⱼ is equal (then no set of
    /// neurons differs from another — e.g. a representation against itself, whose directions
    /// span every neuron with ρ = 1 — and A = k/D says nothing about the ranking).
    public struct Alignment: Sendable, Codable, Equatable {
        public var value: Double
        public var chance: Double
        public var nullSD: Double
        public var z: Double?
    }

    public static func alignment(salient: [Int], directions: Matrix<Double>, correlations: [Double]) -> Alignment {
        let d = directions.columns, m = directions.rows
        let norms = (0..<m).map { i in (0..<d).reduce(0.0) { $0 + directions[i, $1] * directions[i, $1] } }
        let total = (0..<m).reduce(0.0) { $0 + (norms[$1] > 0 ? correlations[$1] : 0) }
        var w = [Double](repeating: 0, count: d)
        if total > 0 {
            for i in 0..<m where norms[i] > 0 { for j in 0..<d { w[j] += correlations[i] * directions[i, j] * directions[i, j] / norms[i] / total } }
        }
        let k = Double(salient.count), n = Double(d)
        let value = salient.reduce(0.0) { $0 + w[$1] }
        let mean = w.reduce(0, +) / max(n, 1)
        let variance = w.reduce(0.0) { $0 + ($1 - mean) * ($1 - mean) } / max(n, 1)
        let sd = d > 1 ? (k * variance * (n - k) / (n - 1)).squareRoot() : 0
        let chance = d > 0 ? k / n : 0
        // wⱼ equal to rounding: the null has no spread and z would be noise over noise.
        let z = sd > 1e-9 * max(chance, 1e-12) ? (value - chance) / sd : nil
        return Alignment(value: value, chance: chance, nullSD: sd, z: z)
    }

    /// The mean over tokens of ‖x‖₂ / ‖x‖₁: 1 when one neuron carries a token, 1/√D when all
    /// carry it equally.
    public static func concentration(_ x: Matrix<Float>) -> Double {
        var total = 0.0
        x.withUnsafeBufferPointer { p in
            for r in 0..<x.rows { total += SondeBase.concentration(p[(r * x.columns)..<((r + 1) * x.columns)]) }
        }
        return x.rows > 0 ? total / Double(x.rows) : 0
    }
}
