import SondeLinalg
import SondeProbe
import SondeSimilarity

/// Layer redundancy (Dalvi et al. 2020): how alike the layers are (linear CKA, layer × layer),
/// how well each layer alone supports a probe, and the lowest layer whose probe comes within δ
/// of the oracle probe on every layer at once.
public struct LayerRedundancy: Sendable, Codable {
    public var layers: [String]
    public var cka: [[Double]]
    /// Held-out accuracy of a probe on each layer alone.
    public var accuracy: [Double]
    /// The probe on all layers' neurons together.
    public var oracleAccuracy: Double
    public var delta: Double
    /// The lowest layer within δ of the oracle (nil if none is).
    public var selectedLayer: String?

    public static func analyze(
        layers: [Matrix<Float>], names: [String], tokens: StudyTokens, settings: ProbeSettings, delta: Double = 0.01,
        progress: (Int, Int) -> Void = { _, _ in }
    ) throws -> LayerRedundancy {
        let count = layers.count
        var cka = [[Double]](repeating: [Double](repeating: 1, count: count), count: count)
        for i in 0..<count {
            for j in (i + 1)..<max(i + 1, count) {
                let value = Similarity.linearCKA(try JointMoments(x: layers[i], y: layers[j]))
                (cka[i][j], cka[j][i]) = (value, value)
            }
        }
        var accuracy: [Double] = []
        for (l, x) in layers.enumerated() {
            accuracy.append(LayerProbe.train(x, tokens, settings: settings, control: false).accuracy)
            progress(l + 1, count + 1)
        }
        let oracle = LayerProbe.train(concatenatedLayers(layers), tokens, settings: settings, control: false).accuracy
        progress(count + 1, count + 1)
        let selected = accuracy.firstIndex { $0 >= oracle - delta }.map { names[$0] }
        return LayerRedundancy(layers: names, cka: cka, accuracy: accuracy, oracleAccuracy: oracle, delta: delta, selectedLayer: selected)
    }
}

/// The layers side by side: [tokens × Σ widths], neuron j of layer l at column offset(l) + j.
public func concatenatedLayers(_ layers: [Matrix<Float>]) -> Matrix<Float> {
    let stride = layers.reduce(0) { $0 + $1.columns }
    return Matrix<Float>(rows: layers.first?.rows ?? 0, columns: stride) { out in
        var offset = 0
        for m in layers {
            m.withUnsafeBufferPointer { p in
                for r in 0..<m.rows { for j in 0..<m.columns { out[r * stride + offset + j] = p[r * m.columns + j] } }
            }
            offset += m.columns
        }
    }
}
