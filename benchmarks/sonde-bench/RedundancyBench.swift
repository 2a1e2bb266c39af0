import Foundation
import SondeBase
import SondeLinalg
import SondeSimilarity

/// Correlation clustering of 10,000 neurons (a 13 × 768 transformer's worth) over 5,000 tokens:
/// Sonde (moments pass + nearest-neighbour chain) against numpy's corrcoef + scipy's average
/// linkage, same data, same threshold; the partitions are compared.
func redundancy(_ options: Options) throws {
    let (n, d, factors) = (5_000, 10_000, 400)
    var g = SplitMix64(seed: 99)
    // Neurons as noisy mixtures of a few shared factors: clusters of many sizes.
    let z = Matrix<Float>(rows: n, columns: factors, elements: (0..<(n * factors)).map { _ in Float(g.normal()) })
    var x = Matrix<Float>(rows: n, columns: d)
    let source = (0..<d).map { _ in g.below(factors) }
    let noise = (0..<d).map { _ in Float(0.1 + 1.5 * g.unit()) }
    x.withUnsafeMutableBufferPointer { p in
        z.withUnsafeBufferPointer { zp in
            for i in 0..<n { for j in 0..<d { p[i * d + j] = zp[i * factors + source[j]] + noise[j] * Float(g.normal()) } }
        }
    }
    let path = options.data + "/clusters-x.npy"
    try NPY.write(TensorPayload(name: "x", matrix: x), to: path)
    var clusters: NeuronClusters?
    let seconds = try best(1) { clusters = try NeuronClusters.cluster(x, threshold: 0.3) }
    let peer = try runPeer(options, "clusters.py", [path, "--threshold", "0.3"])
    let labels = peer["labels"] as! [Int]
    // Same partition? Map each peer cluster to Sonde's and check it is one-to-one.
    var mapping: [Int: Int] = [:]
    var same = Set(labels).count == clusters!.count
    for (neuron, label) in labels.enumerated() {
        if let expected = mapping[label], expected != clusters!.assignment[neuron] { same = false }
        mapping[label] = clusters!.assignment[neuron]
    }
    let peerSeconds = peer["seconds"] as! Double
    say("redundancy: correlation clustering, average linkage cut at 1 − |r| = 0.3, 2 threads")
    row("", "Sonde", "scipy", "ratio")
    row(
        "\(d) neurons × \(n) tokens: \(clusters!.count) clusters\(same ? ", same partition" : ", PARTITIONS DIFFER")",
        String(format: "%.2f s", seconds), String(format: "%.2f s", peerSeconds), String(format: "%.1f×", peerSeconds / seconds))
}
