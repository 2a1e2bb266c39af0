import SondeBase
import SondeLinalg
import SondeProbe
import SondeSimilarity

/// `sonde compare`: two models of the same architecture (pre-trained and fine-tuned) on the same tokens.
public struct ModelComparison: Codable, Sendable {
    /// One layer, before and after. Accuracy and selectivity are on dev (`ProbeStudy.layer`).
    public struct Layer: Sendable {
        public var layer: String
        /// Similarity of the two models' layer, by measure name; each a field of the layer in JSON.
        public var similarity: [String: Double]
        public var baseAccuracy: Double
        public var otherAccuracy: Double
        public var baseSelectivity: Double
        public var otherSelectivity: Double
        /// Jaccard overlap of the two probes' top-k neurons on this layer; nil when the models'
        /// neuron indices do not correspond (different architectures or widths).
        public var topKOverlap: Double?
    }

    public var property: String
    public var k: Int
    public var layers: [Layer]
    /// Top-k neurons of a probe over all layers together, counted by layer (Durrani et al.).
    public var baseHistogram: [Int]
    public var otherHistogram: [Int]
    /// The mean layer index of those top-k neurons: where the property lives, before and after.
    public var baseMeanLayer: Double
    public var otherMeanLayer: Double

    /// The similarity measures of the layers, in registry order.
    public var measures: [String] { SimilarityMeasures.ordered(Set(layers.flatMap(\.similarity.keys))) }

    /// Whether neuron j of one model is neuron j of the other, so that their top-k neurons can be
    /// compared: one architecture (fine-tuning keeps the indices; across architectures an
    /// overlap means nothing), an unrecorded one counting as the same, of one width at each layer.
    public static func neuronsCorrespond(base: [Matrix<Float>], other: [Matrix<Float>], architectures: (String?, String?) = (nil, nil)) -> Bool {
        architectures.0 == architectures.1 && zip(base, other).allSatisfy { $0.columns == $1.columns }
    }

    public static func compare(
        base: [Matrix<Float>], other: [Matrix<Float>], layerNames: [String], tokens: StudyTokens, k: Int,
        measures: [any SimilarityMeasure] = SimilarityMeasures.comparisonDefault, settings: ProbeSettings, sameNeurons: Bool = true,
        progress: (Int, Int) -> Void = { _, _ in }
    ) throws -> ModelComparison {
        var layers: [Layer] = []
        for (l, name) in layerNames.enumerated() {
            let moments = try JointMoments(x: base[l], y: other[l])
            var similarity: [String: Double] = [:]
            for measure in measures { similarity[measure.name] = try measure.value(moments, x: base[l], y: other[l]) }
            let a = ProbeStudy.layer(base[l], tokens, settings: settings), b = ProbeStudy.layer(other[l], tokens, settings: settings)
            let (devA, devB) = (a.splits["dev"]!, b.splits["dev"]!)
            layers.append(
                Layer(
                    layer: name, similarity: similarity, baseAccuracy: devA.accuracy, otherAccuracy: devB.accuracy,
                    baseSelectivity: devA.selectivity ?? .nan, otherSelectivity: devB.selectivity ?? .nan,
                    topKOverlap: sameNeurons ? jaccard(a.ordering, b.ordering, k: k) : nil))
            progress(l + 1, layerNames.count + 2)
        }
        func histogram(_ model: [Matrix<Float>]) -> [Int] {
            let width = model.map(\.columns)
            let top = ProbeStudy.layer(concatenatedLayers(model), tokens, settings: settings, control: false).ordering.prefix(k)
            var counts = [Int](repeating: 0, count: model.count)
            for neuron in top { counts[layerOfConcatenatedNeuron(neuron, widths: width)] += 1 }
            return counts
        }
        let baseHistogram = histogram(base)
        progress(layerNames.count + 1, layerNames.count + 2)
        let otherHistogram = histogram(other)
        progress(layerNames.count + 2, layerNames.count + 2)
        func meanLayer(_ h: [Int]) -> Double {
            let total = h.reduce(0, +)
            return total > 0 ? Double(h.enumerated().reduce(0) { $0 + $1.offset * $1.element }) / Double(total) : 0
        }
        return ModelComparison(
            property: tokens.property, k: k, layers: layers, baseHistogram: baseHistogram, otherHistogram: otherHistogram,
            baseMeanLayer: meanLayer(baseHistogram), otherMeanLayer: meanLayer(otherHistogram))
    }
}

extension ModelComparison.Layer: Codable {
    private enum CodingKeys: String, CodingKey, CaseIterable {
        case layer, baseAccuracy, otherAccuracy, baseSelectivity, otherSelectivity, topKOverlap
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        layer = try c.decode(String.self, forKey: .layer)
        baseAccuracy = try c.decode(Double.self, forKey: .baseAccuracy)
        otherAccuracy = try c.decode(Double.self, forKey: .otherAccuracy)
        baseSelectivity = try c.decode(Double.self, forKey: .baseSelectivity)
        otherSelectivity = try c.decode(Double.self, forKey: .otherSelectivity)
        topKOverlap = try c.decodeIfPresent(Double.self, forKey: .topKOverlap)
        similarity = try decoder.decodeMeasures(besides: Set(CodingKeys.allCases.map(\.stringValue)))
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(layer, forKey: .layer)
        try c.encode(baseAccuracy, forKey: .baseAccuracy)
        try c.encode(otherAccuracy, forKey: .otherAccuracy)
        try c.encode(baseSelectivity, forKey: .baseSelectivity)
        try c.encode(otherSelectivity, forKey: .otherSelectivity)
        try c.encodeIfPresent(topKOverlap, forKey: .topKOverlap)
        try encoder.encodeMeasures(similarity)
    }
}
