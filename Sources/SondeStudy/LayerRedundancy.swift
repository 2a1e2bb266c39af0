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

    /// `accuracy` and `oracleAccuracy`: each layer's and the all-layer probe's held-out accuracy
    /// when the caller has them already (the probes are the costly part); otherwise trained here.
    public static func analyze(
        layers: [Matrix<Float>], names: [String], tokens: StudyTokens, settings: ProbeSettings, delta: Double = 0.01,
        accuracy known: [Double]? = nil, oracleAccuracy knownOracle: Double? = nil, progress: (Int, Int) -> Void = { _, _ in }
    ) throws -> LayerRedundancy {
        let count = layers.count
        let cka = try layerCKA(layers)
        var accuracy = known ?? []
        if known == nil {
            for (l, x) in layers.enumerated() {
                accuracy.append(ProbeStudy.layer(x, tokens, settings: settings, control: false).splits["dev"]!.accuracy)
                progress(l + 1, count + 1)
            }
        }
        let oracle = knownOracle ?? ProbeStudy.layer(concatenatedLayers(layers), tokens, settings: settings, control: false).splits["dev"]!.accuracy
        progress(count + 1, count + 1)
        let selected = accuracy.firstIndex { $0 >= oracle - delta }.map { names[$0] }
        return LayerRedundancy(layers: names, cka: cka, accuracy: accuracy, oracleAccuracy: oracle, delta: delta, selectedLayer: selected)
    }
}

/// Linear CKA between every pair of layers (symmetric, 1 on the diagonal).
public func layerCKA(_ layers: [Matrix<Float>]) throws -> [[Double]] {
    var cka = [[Double]](repeating: [Double](repeating: 1, count: layers.count), count: layers.count)
    for i in layers.indices {
        for j in (i + 1)..<max(i + 1, layers.count) {
            let value = Similarity.linearCKA(try JointMoments(x: layers[i], y: layers[j]))
            (cka[i][j], cka[j][i]) = (value, value)
        }
    }
    return cka
}

/// The layer of column `neuron` of `concatenatedLayers` for layers of these widths.
public func layerOfConcatenatedNeuron(_ neuron: Int, widths: [Int]) -> Int {
    var layer = 0, start = 0
    while layer < widths.count - 1 && neuron >= start + widths[layer] { start += widths[layer]; layer += 1 }
    return layer
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
