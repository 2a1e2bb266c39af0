import Foundation
import SondeBase
import SondeLinalg
import SondeProbe
import SondeStudy

/// LEACE against EleutherAI's concept-erasure on 200,000 × 768 (17 classes, each shifting 50
/// random neurons), and k-sparse probing on the real probe data against one converged probe.
func erasure(_ options: Options) throws {
    let (n, d, k) = (200_000, 768, 17)
    let prefix = options.data + "/erasure-200k"
    if !FileManager.default.fileExists(atPath: prefix + ".y.npy") {
        var random = SplitMix64(seed: 17)
        let shifts = (0..<k).map { _ in (0..<50).map { _ in (random.below(d), Float(random.normal() * 0.5)) } }
        var labels = [Int64](repeating: 0, count: n)
        let x = Matrix<Float>(rows: n, columns: d) { out in
            for i in 0..<n {
                let c = random.below(k)
                labels[i] = Int64(c)
                for j in 0..<d { out[i * d + j] = Float(random.normal()) }
                for (j, s) in shifts[c] { out[i * d + j] += s }
            }
        }
        try NPY.write(TensorPayload(name: "x", matrix: x), to: prefix + ".x.npy")
        try NPY.write(TensorPayload(name: "y", shape: [n], dtype: .int64, values: .int64(labels)), to: prefix + ".y.npy")
    }
    let x = try TensorCollection.read(prefix + ".x.npy").tensors[0].matrix()
    let labels = try TensorCollection.read(prefix + ".y.npy").tensors[0].integers()!
    let data = ProbeDataset(x: x, labels: labels, classes: (0..<k).map { "c\($0)" })
    var eraser: ConceptEraser?
    let seconds = try best(2) { eraser = try ConceptEraser.leace(data) }
    let peer = try runPeer(options, "erasure.py", [prefix, "\(BLASThreads.count)"])
    let peerSeconds = peer["seconds"] as! Double
    let theirs = (peer["erased"] as! [[Double]]).flatMap { $0 }
    let ours = eraser!.apply(x.rows(0..<100)).elements
    let gap = zip(ours, theirs).map { abs(Double($0) - $1) }.max()!
    say("erasure benchmark — LEACE fit on \(n) × \(d), \(k) classes; concept-erasure \(peer["version"]!) (torch \(peer["torch"]!), float64, shrinkage off)")
    row("", "Sonde", "peer", "ratio")
    row("LEACE fit: seconds", String(format: "%.2f", seconds), String(format: "%.2f", peerSeconds), String(format: "%.2f×", peerSeconds / seconds))
    row("  rank; largest |erased row difference| (100 rows)", "\(eraser!.rank)", String(format: "%.1e", gap), "")

    // k-sparse: 4 rankers × 8 ks on the real activations, against one converged probe.
    let (probePrefix, title) = try realProbeData(options)
    func dataset(_ name: String) throws -> ProbeDataset {
        let x = try TensorCollection.read(probePrefix + ".\(name).x.npy").tensors[0].matrix()
        let y = try TensorCollection.read(probePrefix + ".\(name).y.npy").tensors[0].integers()!
        return ProbeDataset(x: x, labels: y, classes: (0..<((y.max() ?? 0) + 1)).map { "class\($0)" })
    }
    let train = try dataset("train"), heldRaw = try dataset("test")
    let held = ProbeDataset(x: heldRaw.x, labels: heldRaw.labels, classes: train.classes)
    let settings = ProbeSettings(penalty: .elasticNet(lambda: 1e-4, alpha: 0.5))
    let probeSeconds = best(1) { _ = FittedProbe.fit(train, settings: settings) }
    var result: SparseProbing.Result?
    let ks = [1, 2, 4, 8, 16, 32, 64, 128].filter { $0 <= train.neurons }
    let sparseSeconds = try best(1) { result = try SparseProbing.run(train: train, evaluation: held, ks: ks, settings: settings) }
    say("k-sparse probing — \(title)")
    row("", "k-sparse", "one probe", "ratio")
    row(
        "4 rankers × \(ks.count) ks: seconds", String(format: "%.1f", sparseSeconds), String(format: "%.1f", probeSeconds),
        String(format: "%.2f× one converged probe", sparseSeconds / probeSeconds))
    for curve in result!.curves {
        row("  \(curve.ranker.rawValue): accuracy at k = 1, 8, 128", curve.points.filter { [1, 8, 128].contains($0.k) }.map { String(format: "%.3f", $0.accuracy) }.joined(separator: " "), "", "")
    }
}
