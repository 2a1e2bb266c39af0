import Foundation
import SondeBase
import SondeLinalg
import SondeModels
import SondeProbe
import SondeSimilarity

/// The tokens a study probes: one label per token (a property of a treebank), the word of each
/// token (for control tasks), and a split by sentence — of every five sentences, the fourth is
/// dev and the fifth test — so no sentence feeds two sides.
public struct StudyTokens: Sendable {
    public let property: String
    public let labels: [String]
    public let words: [String]
    public let trainRows: [Int]
    public let devRows: [Int]
    public let testRows: [Int]

    /// `sentences`: each sentence's (word, label) pairs, in corpus order.
    public init(property: String, sentences: [[(word: String, label: String)]]) {
        self.property = property
        var labels: [String] = [], words: [String] = [], train: [Int] = [], dev: [Int] = [], test: [Int] = []
        for (s, sentence) in sentences.enumerated() {
            for token in sentence {
                switch s % 5 {
                case 4: test.append(labels.count)
                case 3: dev.append(labels.count)
                default: train.append(labels.count)
                }
                labels.append(token.label)
                words.append(token.word)
            }
        }
        (self.labels, self.words, trainRows, devRows, testRows) = (labels, words, train, dev, test)
    }
}

extension StudyTokens {
    /// The rows `rows` of `x` with their labels (indexed by `classes`, or by their own sorted set).
    public func dataset(_ x: Matrix<Float>, _ rows: [Int], classes: [String]? = nil) -> ProbeDataset {
        ProbeDataset(x: x.rows(rows), labels: rows.map { labels[$0] }, classes: classes)
    }
}

/// One probe on one layer: held-out accuracy, control-task accuracy (Hewitt & Liang; same
/// settings, one random label per word type), the weights and the neuron ordering.
public struct LayerProbe: Sendable {
    public let accuracy: Double
    public let controlAccuracy: Double
    public var selectivity: Double { accuracy - controlAccuracy }
    public let weights: Matrix<Double>
    /// NeuroX's neuron ordering of the probe (most salient first), every neuron.
    public let ordering: [Int]

    /// Without `control`, no control-task probe is trained (its accuracy is reported as NaN).
    public static func train(
        _ x: Matrix<Float>, _ tokens: StudyTokens, settings: ProbeSettings, control withControl: Bool = true, seed: UInt64 = 1
    ) -> LayerProbe {
        let train = tokens.dataset(x, tokens.trainRows)
        let test = tokens.dataset(x, tokens.testRows, classes: train.classes)
        let probe = FittedProbe.fit(train, settings: settings)
        let ordering = Rankings.neuronOrdering(probe.standardizedWeights).ordering
        guard withControl else {
            return LayerProbe(accuracy: probe.evaluate(test).accuracy, controlAccuracy: .nan, weights: probe.weights, ordering: ordering)
        }
        let control = ControlTask.labels(
            words: [tokens.trainRows.map { tokens.words[$0] }, tokens.testRows.map { tokens.words[$0] }],
            trainLabels: train.labels, classes: train.classes.count, seed: seed)
        let controlProbe = FittedProbe.fit(ProbeDataset(x: train.x, labels: control[0], classes: train.classes), settings: settings)
        let controlAccuracy = controlProbe.evaluate(ProbeDataset(x: test.x, labels: control[1], classes: train.classes)).accuracy
        return LayerProbe(
            accuracy: probe.evaluate(test).accuracy, controlAccuracy: controlAccuracy, weights: probe.weights, ordering: ordering)
    }
}

/// The comparator's definitions (../shared/DESIGN.md, "Definitions the comparator uses").
public enum Comparator {
    /// The alignment of a set of salient neurons S with canonical directions (rows aᵢ — loadings
    /// or weights, `CanonicalAlignment` — with correlations ρᵢ): A = Σᵢ ρᵢ mᵢ / Σᵢ ρᵢ with
    /// mᵢ = Σ_{j∈S} aᵢⱼ² / Σⱼ aᵢⱼ², S's share of direction i. Written per neuron,
    /// A = Σ_{j∈S} wⱼ with wⱼ = Σᵢ ρᵢ aᵢⱼ²/‖aᵢ‖² / Σᵢ ρᵢ (Σⱼ wⱼ = 1): the share of the
    /// correlation-weighted direction mass that the salient neurons hold. Range [0, 1].
    ///
    /// The null is exact, not sampled: for k = |S| neurons drawn at random without replacement
    /// from the D, A has mean k/D and variance k·σ²_w·(D − k)/(D − 1), σ²_w the population
    /// variance of the wⱼ. `z` is (A − k/D) / SD; nil when every wⱼ is equal (then no set of
    /// neurons differs from another — e.g. a representation against itself, whose directions
    /// span every neuron with ρ = 1 — and A = k/D says nothing about the ranking).
    public struct Alignment: Sendable, Codable, Equatable {
        public var value: Double
        public var chance: Double
        public var nullSD: Double
        public var z: Double?
    }

    public static func alignment(salient: [Int], directions: Matrix<Double>, correlations: [Double]) -> Alignment {
        let d = directions.columns, m = directions.rows
        let norms = (0..<m).map { i in (0..<d).reduce(0.0) { $0 + directions[i, $1] * directions[i, $1] } }
        let total = (0..<m).reduce(0.0) { $0 + (norms[$1] > 0 ? correlations[$1] : 0) }
        var w = [Double](repeating: 0, count: d)
        if total > 0 {
            for i in 0..<m where norms[i] > 0 { for j in 0..<d { w[j] += correlations[i] * directions[i, j] * directions[i, j] / norms[i] / total } }
        }
        let k = Double(salient.count), n = Double(d)
        let value = salient.reduce(0.0) { $0 + w[$1] }
        let mean = w.reduce(0, +) / max(n, 1)
        let variance = w.reduce(0.0) { $0 + ($1 - mean) * ($1 - mean) } / max(n, 1)
        let sd = d > 1 ? (k * variance * (n - k) / (n - 1)).squareRoot() : 0
        let chance = d > 0 ? k / n : 0
        // wⱼ equal to rounding: the null has no spread and z would be noise over noise.
        let z = sd > 1e-9 * max(chance, 1e-12) ? (value - chance) / sd : nil
        return Alignment(value: value, chance: chance, nullSD: sd, z: z)
    }

    /// The mean over tokens of ‖x‖₂ / ‖x‖₁: 1 when one neuron carries a token, 1/√D when all
    /// carry it equally.
    public static func concentration(_ x: Matrix<Float>) -> Double {
        var total = 0.0
        x.withUnsafeBufferPointer { p in
            for r in 0..<x.rows { total += SondeBase.concentration(p[(r * x.columns)..<((r + 1) * x.columns)]) }
        }
        return x.rows > 0 ? total / Double(x.rows) : 0
    }
}

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
}

/// One checkpoint × layer of `sonde dynamics`.
public struct DynamicsRow: Codable, Sendable {
    public var checkpoint: String
    public var layer: String
    public var property: String
    /// Similarity to the reference's same layer.
    public var svcca: Double
    public var svccaDirections: [Int]
    public var pwcca: Double
    public var cka: Double
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

extension Comparator {
    /// Every checkpoint's layers against the reference's (the final checkpoint, a tagger, or a
    /// fine-tuned model): similarity, a probe, ranking stability, alignment of the top-k neurons
    /// with the SVCCA directions and the probe's energy in the SVCCA subspace, each beside its
    /// chance level. `checkpoints[c][l]` and `reference[l]` are [tokens × neurons] of layer l.
    public static func dynamics(
        checkpoints: [(name: String, layers: [Matrix<Float>])], reference: [Matrix<Float>], layerNames: [String],
        tokens: StudyTokens, k: Int, keep: SVCCAKeep = .variance(0.99), settings: ProbeSettings,
        progress: (Int, Int) -> Void = { _, _ in }
    ) throws -> Dynamics {
        // Only the reference probes' orderings are used: no control tasks for them.
        let referenceProbes = layerNames.indices.map { LayerProbe.train(reference[$0], tokens, settings: settings, control: false) }
        var rows: [DynamicsRow] = []
        let total = checkpoints.count * layerNames.count
        for checkpoint in checkpoints {
            for (l, name) in layerNames.enumerated() {
                let x = checkpoint.layers[l], y = reference[l]
                let moments = try JointMoments(x: x, y: y)
                let svcca = try Similarity.svcca(moments, keep: keep)
                let pwcca = try Similarity.pwcca(moments).value
                let probe = LayerProbe.train(x, tokens, settings: settings)
                let aligned = try CanonicalAlignment.measure(
                    x: x, y: y, neurons: Array(probe.ordering.prefix(k)), probeWeights: probe.weights, directions: .svcca(keep),
                    moments: moments)
                let read = aligned.probe!
                rows.append(
                    DynamicsRow(
                        checkpoint: checkpoint.name, layer: name, property: tokens.property,
                        svcca: svcca.cca.mean, svccaDirections: [svcca.kx, svcca.ky], pwcca: pwcca, cka: Similarity.linearCKA(moments),
                        probeAccuracy: probe.accuracy, controlAccuracy: probe.controlAccuracy, selectivity: probe.selectivity,
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

/// `sonde compare`: two models of the same architecture (pre-trained and fine-tuned) on the same tokens.
public struct ModelComparison: Codable, Sendable {
    public struct Layer: Codable, Sendable {
        public var layer: String
        public var svcca: Double
        public var cka: Double
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

    /// Whether neuron j of one model is neuron j of the other, so that their top-k neurons can be
    /// compared: one architecture (fine-tuning keeps the indices; across architectures an
    /// overlap means nothing), an unrecorded one counting as the same, of one width at each layer.
    public static func neuronsCorrespond(base: [Matrix<Float>], other: [Matrix<Float>], architectures: (String?, String?) = (nil, nil)) -> Bool {
        architectures.0 == architectures.1 && zip(base, other).allSatisfy { $0.columns == $1.columns }
    }

    public static func compare(
        base: [Matrix<Float>], other: [Matrix<Float>], layerNames: [String], tokens: StudyTokens, k: Int,
        keep: SVCCAKeep = .variance(0.99), settings: ProbeSettings, sameNeurons: Bool = true, progress: (Int, Int) -> Void = { _, _ in }
    ) throws -> ModelComparison {
        var layers: [Layer] = []
        for (l, name) in layerNames.enumerated() {
            let moments = try JointMoments(x: base[l], y: other[l])
            let a = LayerProbe.train(base[l], tokens, settings: settings), b = LayerProbe.train(other[l], tokens, settings: settings)
            layers.append(
                Layer(
                    layer: name, svcca: try Similarity.svcca(moments, keep: keep, weights: false).cca.mean, cka: Similarity.linearCKA(moments),
                    baseAccuracy: a.accuracy, otherAccuracy: b.accuracy, baseSelectivity: a.selectivity, otherSelectivity: b.selectivity,
                    topKOverlap: sameNeurons ? jaccard(a.ordering, b.ordering, k: k) : nil))
            progress(l + 1, layerNames.count + 2)
        }
        func histogram(_ model: [Matrix<Float>]) -> [Int] {
            let width = model.map(\.columns)
            let all = concatenatedLayers(model)
            let top = LayerProbe.train(all, tokens, settings: settings, control: false).ordering.prefix(k)
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
