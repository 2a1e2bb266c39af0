/// exp, the logistic function and tanh over Float buffers in loops the compiler vectorises:
/// libm's scalar calls dominated an LSTM's gates and a softmax over a vocabulary. exp is
/// Cephes' expf (range reduction by ln 2 in two parts, a degree-5 polynomial, 2ⁿ from the
/// exponent bits): within 2 ulp of the true value on [−87, 88]; beyond, the argument is clamped
/// (exp(−∞) gives 2⁻¹²⁶ ≈ 1e−38, not 0). The logistic function and tanh follow from it, within
/// 2e−7 absolute.
package enum FastMath {
    @inline(__always)
    static func exp(_ v: Float) -> Float {
        let x = v < -87.3 ? -87.3 : (v > 88.3 ? 88.3 : v)
        // Round x·log₂e to the nearest integer by adding and subtracting 1.5·2²³; the sum's
        // bits are those of 1.5·2²³ plus n, so n + 127 in the exponent field is 2ⁿ.
        let shifted = x * 1.442_695_04 + 12_582_912
        let n = shifted - 12_582_912
        let r = x - n * 0.693_359_375 + n * 2.121_944_40e-4
        var p: Float = 1.987_569_150_0e-4
        p = p * r + 1.398_199_950_7e-3
        p = p * r + 8.333_451_907_3e-3
        p = p * r + 4.166_579_589_4e-2
        p = p * r + 1.666_666_545_9e-1
        p = p * r + 5.000_000_120_1e-1
        let y = p * (r * r) + r + 1
        let bits = (shifted.bitPattern &- 0x4B40_0000 &+ 127) &<< 23
        return y * Float(bitPattern: bits)
    }

    package static func exp(_ p: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0..<count { p[i] = exp(p[i]) }
    }

    package static func logistic(_ p: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0..<count { p[i] = 1 / (1 + exp(-p[i])) }
    }

    package static func tanh(_ p: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0..<count { p[i] = 1 - 2 / (exp(p[i] + p[i]) + 1) }
    }
}
