import CKernels
import Foundation
import Testing

/// The probe's C kernel (Sources/CKernels), both the dispatched build (AVX2 with FMA on this kind
/// of machine) and the portable one, against libm.
@Suite struct ExpKernelTests {
    /// exp against libm: within 2 ulp on [−708, 709] (the relative error 2 × 2⁻⁵² ≈ 4.4e-16),
    /// 0 below −708, exp(709) above, NaN kept.
    @Test func expAgainstLibm() {
        let inside = stride(from: -708.0, through: 709.0, by: 0.0731).map { $0 } + [0, -0.0, 1e-300, -1e-300, 0.5 * log(2.0), -0.5 * log(2.0), 1, -1]
        for exp in [sonde_exp, sonde_exp_portable] {
            var e = inside
            exp(&e, Int64(e.count))
            let worst = zip(inside, e).map { abs($1 - Foundation.exp($0)) / Foundation.exp($0) }.max()!
            #expect(worst < 4.5e-16, "worst relative error \(worst)")
            var outside: [Double] = [-708.5, -745, -.infinity, 709.5, .infinity, .nan]
            exp(&outside, Int64(outside.count))
            #expect(outside[0..<3] == [0, 0, 0])
            #expect(outside[3] == Foundation.exp(709.0) && outside[4] == Foundation.exp(709.0))
            #expect(outside[5].isNaN)
        }
    }
}
