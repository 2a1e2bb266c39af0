import Foundation
import SondeBase
import SondeLinalg
import SondeSimilarity

/// google-compatible CCA on two [n × d] Float32 activation matrices that share a 64-dimensional
/// latent signal: Sonde (one moments pass, then google's steps on d × d matrices) against the
/// numpy peer that follows google/svcca step by step, same data, same run, same answer checked.
func similarity(_ options: Options) throws {
    say("similarity: google-compatible CCA (ε = 1e-10), 2 threads; seconds, best of 2")
    row("", "Sonde", "numpy peer", "ratio")
    for (n, d) in [(10_000, 512), (50_000, 1_024)] {
        var g = SplitMix64(seed: UInt64(n + d))
        let latent = 64
        let z = Matrix<Float>(rows: n, columns: latent, elements: (0..<(n * latent)).map { _ in Float(g.normal()) })
        func view() -> Matrix<Float> {
            let mix = Matrix<Float>(rows: latent, columns: d, elements: (0..<(latent * d)).map { _ in Float(g.normal()) })
            var m = Matrix.product(z, mix)
            m.withUnsafeMutableBufferPointer { p in for i in p.indices { p[i] += 4 * Float(g.normal()) + 1 } }
            return m
        }
        let x = view(), y = view()
        let px = options.data + "/similarity-x-\(n).npy", py = options.data + "/similarity-y-\(n).npy"
        try NPY.write(TensorPayload(name: "x", matrix: x), to: px)
        try NPY.write(TensorPayload(name: "y", matrix: y), to: py)
        var result: GoogleCCA?
        let seconds = try best(2) { result = try GoogleCCA.compute(try JointMoments(x: x, y: y, precision: .mixed), epsilon: 1e-10) }
        var exact: GoogleCCA?
        let exactSeconds = try best(2) { exact = try GoogleCCA.compute(try JointMoments(x: x, y: y, precision: .double), epsilon: 1e-10) }
        var own = 0.0
        let ownSeconds = try best(2) { own = try Similarity.cca(try JointMoments(x: x, y: y, precision: .mixed), weights: false).mean }
        let peer = try runPeer(options, "similarity.py", [px, py])
        let peerSeconds = peer["seconds"] as! Double
        let peerMean = peer["mean"] as! Double
        func line(_ what: String, _ mean: Double, _ s: Double) {
            row(
                "\(n) × \(d): \(what) (Δ mean \(String(format: "%.1e", abs(mean - peerMean))))",
                String(format: "%.2f", s), String(format: "%.2f", peerSeconds), String(format: "%.1f×", peerSeconds / s))
        }
        line("google CCA, Double", exact!.mean, exactSeconds)
        line("google CCA, mixed", result!.mean, seconds)
        line("Sonde's CCA, mixed", own, ownSeconds)
    }
}
