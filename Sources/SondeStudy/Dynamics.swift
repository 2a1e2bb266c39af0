import Foundation
import SondeBase
import SondeLinalg
import SondeModels
import SondeProbe
import SondeSimilarity

/// `sonde dynamics`' result: a row per checkpoint × layer, and each checkpoint's layer × layer
/// linear CKA (how its layers relate to one another).
public struct Dynamics: Codable, Sendable {
    public var rows: [DynamicsRow]
    public var layers: [String]
    public var layerCKA: [String: [[Double]]]
    /// Concentration stored by `sonde lm train` with each native checkpoint (activations and
    /// the gradient reaching each state, by label and frequency band), by checkpoint name.
    public var trainingConcentration: [String: Concentration]? = nil

    /// Adds the concentration stored in the checkpoint folders that have one.
    public mutating func attachStoredConcentration(_ folders: [String]) {
        let stored = folders.compactMap { folder in Concentration.stored(in: folder).map { ((folder as NSString).lastPathComponent, $0) } }
        trainingConcentration = stored.isEmpty ? nil : Dictionary(stored, uniquingKeysWith: { a, _ in a })
    }

    /// The similarity measures of the rows, in registry order.
    public var measures: [String] { SimilarityMeasures.ordered(Set(rows.flatMap(\.similarity.keys))) }
}

/// One checkpoint × layer of `sonde dynamics`. Accuracy and selectivity are on dev
/// (`ProbeStudy.layer`).
public struct DynamicsRow: Sendable {
    public var checkpoint: String
    public var layer: String
    public var property: String
    /// Similarity to the reference's same layer, by measure name (`SimilarityMeasure`); each is
    /// a field of the row in JSON ("svcca": 0.81).
    public var similarity: [String: Double]
    /// The principal directions SVCCA kept on each side.
    public var svccaDirections: [Int]
    public var probeAccuracy: Double
    public var controlAccuracy: Double
    public var selectivity: Double
    /// Ranking stability against the reference's probe on the same layer.
    public var jaccardAtK: Double
    public var rankCorrelation: Double
    /// `CanonicalAlignment` of the top-k neurons with the SVCCA directions, by loadings: the
    /// value, its chance level k/D, the exact SD of random k-sets and the z-score (nil when the
    /// directions weigh every neuron alike, or every ρ is 1); the canonical pairs used.
    public var alignment: Double
    public var alignmentChance: Double
    public var alignmentNullSD: Double
    public var alignmentZ: Double?
    public var alignmentDirections: Int
    /// The probe in X's whitened coordinates (`CanonicalAlignment.ProbeSubspace`): the mean ρ of
    /// the canonical directions its logit variance lies in (chance: the plain mean ρ), the share
    /// of that variance in the canonical span (chance m/r), and the share from the principal
    /// directions SVCCA kept (chance kx/r).
    public var probeCorrelation: Double
    public var probeCorrelationChance: Double
    public var probeEnergy: Double
    public var probeEnergyChance: Double
    public var probeEnergyInKept: Double
    public var probeEnergyInKeptChance: Double
    public var concentration: Double
}

extension DynamicsRow: Codable {
    private enum CodingKeys: String, CodingKey, CaseIterable {
        case checkpoint, layer, property, svccaDirections, probeAccuracy, controlAccuracy, selectivity, jaccardAtK, rankCorrelation
        case alignment, alignmentChance, alignmentNullSD, alignmentZ, alignmentDirections, probeCorrelation, probeCorrelationChance
        case probeEnergy, probeEnergyChance, probeEnergyInKept, probeEnergyInKeptChance, concentration
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        checkpoint = try c.decode(String.self, forKey: .checkpoint)
        layer = try c.decode(String.self, forKey: .layer)
        property = try c.decode(String.self, forKey: .property)
        svccaDirections = try c.decode([Int].self, forKey: .svccaDirections)
        probeAccuracy = try c.decode(Double.self, forKey: .probeAccuracy)
        controlAccuracy = try c.decode(Double.self, forKey: .controlAccuracy)
        selectivity = try c.decode(Double.self, forKey: .selectivity)
        jaccardAtK = try c.decode(Double.self, forKey: .jaccardAtK)
        rankCorrelation = try c.decode(Double.self, forKey: .rankCorrelation)
        alignment = try c.decode(Double.self, forKey: .alignment)
        alignmentChance = try c.decode(Double.self, forKey: .alignmentChance)
        alignmentNullSD = try c.decode(Double.self, forKey: .alignmentNullSD)
        alignmentZ = try c.decodeIfPresent(Double.self, forKey: .alignmentZ)
        alignmentDirections = try c.decode(Int.self, forKey: .alignmentDirections)
        probeCorrelation = try c.decode(Double.self, forKey: .probeCorrelation)
        probeCorrelationChance = try c.decode(Double.self, forKey: .probeCorrelationChance)
        probeEnergy = try c.decode(Double.self, forKey: .probeEnergy)
        probeEnergyChance = try c.decode(Double.self, forKey: .probeEnergyChance)
        probeEnergyInKept = try c.decode(Double.self, forKey: .probeEnergyInKept)
        probeEnergyInKeptChance = try c.decode(Double.self, forKey: .probeEnergyInKeptChance)
        concentration = try c.decode(Double.self, forKey: .concentration)
        similarity = try decoder.decodeMeasures(besides: Set(CodingKeys.allCases.map(\.stringValue)))
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(checkpoint, forKey: .checkpoint)
        try c.encode(layer, forKey: .layer)
        try c.encode(property, forKey: .property)
        try c.encode(svccaDirections, forKey: .svccaDirections)
        try c.encode(probeAccuracy, forKey: .probeAccuracy)
        try c.encode(controlAccuracy, forKey: .controlAccuracy)
        try c.encode(selectivity, forKey: .selectivity)
        try c.encode(jaccardAtK, forKey: .jaccardAtK)
        try c.encode(rankCorrelation, forKey: .rankCorrelation)
        try c.encode(alignment, forKey: .alignment)
        try c.encode(alignmentChance, forKey: .alignmentChance)
        try c.encode(alignmentNullSD, forKey: .alignmentNullSD)
        try c.encodeIfPresent(alignmentZ, forKey: .alignmentZ)
        try c.encode(alignmentDirections, forKey: .alignmentDirections)
        try c.encode(probeCorrelation, forKey: .probeCorrelation)
        try c.encode(probeCorrelationChance, forKey: .probeCorrelationChance)
        try c.encode(probeEnergy, forKey: .probeEnergy)
        try c.encode(probeEnergyChance, forKey: .probeEnergyChance)
        try c.encode(probeEnergyInKept, forKey: .probeEnergyInKept)
        try c.encode(probeEnergyInKeptChance, forKey: .probeEnergyInKeptChance)
        try c.encode(concentration, forKey: .concentration)
        try encoder.encodeMeasures(similarity)
    }
}

/// A measure's value as a field of its row: any key a row does not otherwise have.
struct MeasureKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}

extension Decoder {
    func decodeMeasures(besides fields: Set<String>) throws -> [String: Double] {
        let c = try container(keyedBy: MeasureKey.self)
        var values: [String: Double] = [:]
        for key in c.allKeys where !fields.contains(key.stringValue) { values[key.stringValue] = try c.decode(Double.self, forKey: key) }
        return values
    }
}

extension Encoder {
    func encodeMeasures(_ values: [String: Double]) throws {
        var c = container(keyedBy: MeasureKey.self)
        for (name, value) in values { try c.encode(value, forKey: MeasureKey(stringValue: name)) }
    }
}

extension Comparator {
    /// Every checkpoint's layers against the reference's (the final checkpoint, a tagger, or a
    /// fine-tuned model): the similarity `measures`, a probe, ranking stability, alignment of
    /// the top-k neurons with the SVCCA directions and the probe's energy in the SVCCA subspace,
    /// each beside its chance level. `checkpoints[c][l]` and `reference[l]` are
    /// [tokens × neurons] of layer l. `probe(c, l)`, when given, is checkpoint c's probe of layer
    /// l (`ProbeStudy.layer` with these settings), so a study following one property to several
    /// references fits each probe once; `referenceProbe(l)`, when given, the reference's (only its
    /// ordering is read: the same fit with or without a control task).
    public static func dynamics(
        checkpoints: [(name: String, layers: [Matrix<Float>])], reference: [Matrix<Float>], layerNames: [String],
        tokens: StudyTokens, k: Int, keep: SVCCAKeep = .variance(0.99), measures: [any SimilarityMeasure] = SimilarityMeasures.dynamicsDefault,
        settings: ProbeSettings, probe fitted: ((_ checkpoint: Int, _ layer: Int) -> ProbeStudy.Result)? = nil,
        referenceProbe: ((_ layer: Int) -> ProbeStudy.Result)? = nil, progress: (Int, Int) -> Void = { _, _ in }
    ) throws -> Dynamics {
        // Only the reference probes' orderings are used: no control tasks for them.
        let referenceProbes = layerNames.indices.map {
            referenceProbe?($0) ?? ProbeStudy.layer(reference[$0], tokens, settings: settings, control: false)
        }
        var rows: [DynamicsRow] = []
        let total = checkpoints.count * layerNames.count
        for (c, checkpoint) in checkpoints.enumerated() {
            for (l, name) in layerNames.enumerated() {
                let x = checkpoint.layers[l], y = reference[l]
                let moments = try JointMoments(x: x, y: y)
                let kept = try Whitening(svcca: moments, keep: keep)
                var similarity: [String: Double] = [:]
                for measure in measures { similarity[measure.name] = try measure.value(moments, x: x, y: y) }
                let probe = fitted?(c, l) ?? ProbeStudy.layer(x, tokens, settings: settings)
                let dev = probe.splits["dev"]!
                let aligned = try CanonicalAlignment.measure(
                    x: x, y: y, neurons: Array(probe.ordering.prefix(k)), probeWeights: probe.probe.weights, directions: .svcca(keep),
                    moments: moments)
                let read = aligned.probe!
                rows.append(
                    DynamicsRow(
                        checkpoint: checkpoint.name, layer: name, property: tokens.property, similarity: similarity,
                        svccaDirections: [kept.dimensions.x, kept.dimensions.y], probeAccuracy: dev.accuracy,
                        controlAccuracy: dev.controlAccuracy ?? .nan, selectivity: dev.selectivity ?? .nan,
                        jaccardAtK: jaccard(probe.ordering, referenceProbes[l].ordering, k: k),
                        rankCorrelation: rankCorrelation(orderings: probe.ordering, referenceProbes[l].ordering),
                        alignment: aligned.alignment, alignmentChance: aligned.chance, alignmentNullSD: aligned.nullSD, alignmentZ: aligned.z,
                        alignmentDirections: aligned.directions, probeCorrelation: read.correlation,
                        probeCorrelationChance: read.correlationChance, probeEnergy: read.energy, probeEnergyChance: read.energyChance,
                        probeEnergyInKept: read.inKeptComponents ?? 1, probeEnergyInKeptChance: read.inKeptComponentsChance ?? 1,
                        concentration: concentration(x)))
                progress(rows.count, total)
            }
        }
        var matrices: [String: [[Double]]] = [:]
        for checkpoint in checkpoints { matrices[checkpoint.name] = try layerCKA(checkpoint.layers) }
        return Dynamics(rows: rows, layers: layerNames, layerCKA: matrices)
    }
}
