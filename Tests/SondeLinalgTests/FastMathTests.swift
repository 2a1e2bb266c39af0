import Foundation
import Testing

@testable import SondeLinalg

/// The vector exp, logistic and tanh against libm in Double, over their whole useful range.
@Test func fastMathAgainstLibm() {
    let xs: [Float] = stride(from: -87.0, through: 88.0, by: 0.0137).map { Float($0) } + [0, -0.0, 1e-8, -1e-8, 1e-30, 3, -3]
    var e = xs, s = xs, t = xs
    FastMath.exp(&e, count: e.count)
    FastMath.logistic(&s, count: s.count)
    FastMath.tanh(&t, count: t.count)
    var worstExp = 0.0, worstLogistic = 0.0, worstTanh = 0.0
    for (k, x) in xs.enumerated() {
        let d = Double(x)
        worstExp = max(worstExp, abs(Double(e[k]) - Foundation.exp(d)) / Foundation.exp(d))
        worstLogistic = max(worstLogistic, abs(Double(s[k]) - 1 / (1 + Foundation.exp(-d))))
        worstTanh = max(worstTanh, abs(Double(t[k]) - Foundation.tanh(d)))
    }
    // 2 ulp of a Float is 2 × 2⁻²³ ≈ 2.4e-7 relative.
    #expect(worstExp < 2.4e-7 && worstLogistic < 2e-7 && worstTanh < 2e-7, "\(worstExp) \(worstLogistic) \(worstTanh)")
    // Beyond the range: clamped, finite, and the functions saturate.
    var extremes: [Float] = [-1000, 1000, -.infinity, .infinity]
    FastMath.tanh(&extremes, count: 4)
    #expect(extremes == [-1, 1, -1, 1])
}
