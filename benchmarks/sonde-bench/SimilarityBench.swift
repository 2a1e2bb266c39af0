import Foundation
import SondeBase
import SondeLinalg
import SondeSimilarity
import SondeStudy

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

/// What the null baseline costs: `sonde similarity`'s default measures (cca, svcca, pwcca, cka,
/// procrustes) at 50,000 × 1,024 with 3 shuffled pairings and without, and each measure alone —
/// Y = ½·X·R + noise (R a random rotation). Goal: with ≤ 2× without. No peer computes these
/// baselines; the ratio is Sonde against itself.
func similarityBaseline(_ options: Options) throws {
    let (n, d) = (50_000, 1_024)
    var g = SplitMix64(seed: 7)
    let x = Matrix<Float>(rows: n, columns: d, elements: (0..<(n * d)).map { _ in Float(g.normal()) })
    let gaussian = Matrix<Double>(rows: d, columns: d, elements: (0..<(d * d)).map { _ in g.normal() })
    let rotation = try gaussian.qr().q
    let r = Matrix<Float>(rows: d, columns: d, elements: rotation.elements.map { Float($0) })
    var y = Matrix.product(x, r)
    y.withUnsafeMutableBufferPointer { p in for i in p.indices { p[i] = 0.5 * p[i] + Float(g.normal()) } }
    say("similarity-baseline: \(n) × \(d) per side, release, 2 threads; seconds, one run each")
    row("", "with 3 shuffles", "without", "ratio")
    let all: [Measure] = [.cca, .svcca, .pwcca, .cka, .procrustes]
    for measures in [all] + all.map({ [$0] }) {
        func time(_ baseline: Int) throws -> Double {
            let start = Date()
            _ = try SimilarityStudy.run(
                x: x, y: y, names: ("x", "y"), settings: SimilarityStudy.Settings(measures: measures, baseline: baseline))
            return Date().timeIntervalSince(start)
        }
        let with = try time(3), without = try time(0)
        row(
            measures.count > 1 ? "default (\(measures.map(\.rawValue).joined(separator: ",")))" : measures[0].rawValue,
            String(format: "%.2f", with), String(format: "%.2f", without), String(format: "%.2f×", with / without))
    }
}
