import Foundation
import SondeSimilarity
import SondeStudy

/// A claim a study declares about its own results (`[[claims]]` in the experiment file), such
/// as "part of speech is learned before topic". Its verdict is computed from results.json's
/// numbers (`Claim.evaluate`), never written by hand.
public struct Claim: Codable, Sendable, Equatable {
    public enum Kind: String, Codable, Sendable, CaseIterable {
        /// The first quantity (a series over checkpoints) is learned at an earlier checkpoint
        /// than the second: where it first covers 90% of its change from the first checkpoint
        /// to the last.
        case earlier
        /// A series ends higher (lower) than it starts.
        case rises, falls
        /// The first quantity is lower (higher) than the second (a series by its last value).
        case lowerThan = "lower-than", higherThan = "higher-than"

        var arity: Int { self == .rises || self == .falls ? 1 : 2 }
    }

    /// The claim in words, as the paper puts it.
    public var claim: String
    public var kind: Kind
    /// One quantity (`rises`, `falls`) or two, in `Quantity`'s words.
    public var quantities: [String]
    /// Differences at most this large (or within the seeds' spread, where there are seeds) are
    /// undecided.
    public var tolerance: Double = 0.01
}

/// What a claim can be about: a number or a series over the study's checkpoints in its results.
///
///     accuracy PROPERTY LAYER                  probe dev accuracy over training (series)
///     selectivity PROPERTY LAYER               over training (series)
///     similarity MEASURE LAYER [to REFERENCE]  to the last checkpoint, or to "tagger" (the
///                                              tagger or the [models] reference) or a property
///                                              of [lstm] references (series; MEASURE * = each)
///     concentration LAYER                      mean ‖x‖₂/‖x‖₁ over training (series)
///     final-accuracy PROPERTY LAYER            the last checkpoint's probes over the seeds
///     minimal-share PROPERTY                   the minimal neuron set's share of its layer
///     salient-layer PROPERTY [fine-tuned]      the mean layer of an all-layer probe's top-k
///     taskspace-stability SPACE                Pearson of each checkpoint's task space with the
///                                              last's (series; SPACE transfer, gradient, overlap)
///     taskspace-sharing [hidden N]             mask overlap within − between groups (series, or
///                                              one number for the model of hidden size N)
///     taskspace-grouping SPACE [hidden N]      Pearson of a space with the same-group hypothesis
///                                              (SPACE also normalised: transfer ÷ self-transfer)
///     value NUMBER                             a number, to compare a quantity with
///
/// A series followed by `at CHECKPOINT` ("similarity svcca layer1 at step-600") is its value at
/// that checkpoint: one number.
indirect enum Quantity: Equatable {
    case accuracy(property: String, layer: String)
    case selectivity(property: String, layer: String)
    /// `reference` nil: to the last checkpoint.
    case similarity(measure: String, layer: String, reference: String?)
    case concentration(layer: String)
    case finalAccuracy(property: String, layer: String)
    case minimalShare(property: String)
    case salientLayer(property: String, fineTuned: Bool)
    case taskSpaceStability(space: String)
    /// `hidden` nil: over the checkpoints.
    case taskSpaceSharing(hidden: Int?)
    case taskSpaceGrouping(space: String, hidden: Int?)
    case value(Double)
    case at(Quantity, checkpoint: String)

    /// Parses the words; the error says what the words should be.
    init(_ text: String) throws {
        let w = text.split(separator: " ").map(String.init)
        if w.count > 2 && w[w.count - 2] == "at" {
            let series = try Quantity(w.dropLast(2).joined(separator: " "))
            guard series.isSeries else { throw QuantityError("'\(text)': 'at CHECKPOINT' follows a series over training") }
            self = .at(series, checkpoint: w[w.count - 1])
            return
        }
        func need(_ count: Int, _ form: String) throws {
            guard w.count == count else { throw QuantityError("'\(text)': expected '\(form)'") }
        }
        switch w.first {
        case "accuracy":
            try need(3, "accuracy PROPERTY LAYER")
            self = .accuracy(property: w[1], layer: w[2])
        case "selectivity":
            try need(3, "selectivity PROPERTY LAYER")
            self = .selectivity(property: w[1], layer: w[2])
        case "similarity":
            guard w.count == 3 || (w.count == 5 && w[3] == "to") else {
                throw QuantityError("'\(text)': expected 'similarity MEASURE LAYER' or 'similarity MEASURE LAYER to REFERENCE'")
            }
            self = .similarity(measure: w[1], layer: w[2], reference: w.count == 5 ? w[4] : nil)
        case "concentration":
            try need(2, "concentration LAYER")
            self = .concentration(layer: w[1])
        case "final-accuracy":
            try need(3, "final-accuracy PROPERTY LAYER")
            self = .finalAccuracy(property: w[1], layer: w[2])
        case "minimal-share":
            try need(2, "minimal-share PROPERTY")
            self = .minimalShare(property: w[1])
        case "salient-layer":
            guard w.count == 2 || (w.count == 3 && w[2] == "fine-tuned") else {
                throw QuantityError("'\(text)': expected 'salient-layer PROPERTY' or 'salient-layer PROPERTY fine-tuned'")
            }
            self = .salientLayer(property: w[1], fineTuned: w.count == 3)
        case "taskspace-stability":
            guard w.count == 2, ["transfer", "gradient", "overlap"].contains(w[1]) else {
                throw QuantityError("'\(text)': expected 'taskspace-stability transfer|gradient|overlap'")
            }
            self = .taskSpaceStability(space: w[1])
        case "taskspace-sharing", "taskspace-grouping":
            let grouping = w[0] == "taskspace-grouping"
            let rest = Array(w.dropFirst(grouping ? 2 : 1))
            let form = grouping ? "taskspace-grouping transfer|normalised|gradient|overlap [hidden N]" : "taskspace-sharing [hidden N]"
            guard !grouping || (w.count >= 2 && Self.taskSpaceAgreements[w[1]] != nil), rest.isEmpty || (rest.count == 2 && rest[0] == "hidden")
            else {
                throw QuantityError("'\(text)': expected '\(form)'")
            }
            var hidden: Int?
            if rest.count == 2 {
                guard let n = Int(rest[1]), n > 0 else { throw QuantityError("'\(text)': expected '\(form)' with a hidden size N ≥ 1") }
                hidden = n
            }
            self = grouping ? .taskSpaceGrouping(space: w[1], hidden: hidden) : .taskSpaceSharing(hidden: hidden)
        case "value":
            guard w.count == 2, let v = Double(w[1]), v.isFinite else { throw QuantityError("'\(text)': expected 'value NUMBER'") }
            self = .value(v)
        default:
            throw QuantityError(
                "'\(text)': unknown quantity; quantities: accuracy, selectivity, similarity, concentration, final-accuracy, minimal-share, salient-layer, taskspace-stability, taskspace-sharing, taskspace-grouping, value"
            )
        }
    }

    /// The quantity in the file's words, one space apart (how results name it).
    var description: String {
        switch self {
        case .accuracy(let p, let l): "accuracy \(p) \(l)"
        case .selectivity(let p, let l): "selectivity \(p) \(l)"
        case .similarity(let m, let l, let r): "similarity \(m) \(l)" + (r.map { " to \($0)" } ?? "")
        case .concentration(let l): "concentration \(l)"
        case .finalAccuracy(let p, let l): "final-accuracy \(p) \(l)"
        case .minimalShare(let p): "minimal-share \(p)"
        case .salientLayer(let p, let fineTuned): "salient-layer \(p)" + (fineTuned ? " fine-tuned" : "")
        case .taskSpaceStability(let space): "taskspace-stability \(space)"
        case .taskSpaceSharing(let h): "taskspace-sharing" + (h.map { " hidden \($0)" } ?? "")
        case .taskSpaceGrouping(let space, let h): "taskspace-grouping \(space)" + (h.map { " hidden \($0)" } ?? "")
        case .value(let v): "value " + (v == v.rounded() && abs(v) < 1e15 ? String(Int(v)) : String(v))
        case .at(let q, let c): "\(q.description) at \(c)"
        }
    }

    var isSeries: Bool {
        switch self {
        case .accuracy, .selectivity, .similarity, .concentration, .taskSpaceStability: true
        case .taskSpaceSharing(let h), .taskSpaceGrouping(_, let h): h == nil
        case .finalAccuracy, .minimalShare, .salientLayer, .value, .at: false
        }
    }

    var property: String? {
        switch self {
        case .accuracy(let p, _), .selectivity(let p, _), .finalAccuracy(let p, _), .minimalShare(let p), .salientLayer(let p, _): p
        case .similarity, .concentration, .value, .taskSpaceStability, .taskSpaceSharing, .taskSpaceGrouping: nil
        case .at(let q, _): q.property
        }
    }

    var layer: String? {
        switch self {
        case .accuracy(_, let l), .selectivity(_, let l), .similarity(_, let l, _), .concentration(let l), .finalAccuracy(_, let l): l
        case .minimalShare, .salientLayer, .value, .taskSpaceStability, .taskSpaceSharing, .taskSpaceGrouping: nil
        case .at(let q, _): q.layer
        }
    }

    /// What the study must compute for this quantity, checked when the experiment is read.
    func check(against e: Experiment) throws {
        if case .at(let series, let checkpoint) = self {
            if series.isTaskSpace {
                let steps = e.taskSpace?.steps ?? e.lstm.checkpointSteps
                guard steps.map({ "step-\($0)" }).contains(checkpoint) else {
                    throw QuantityError(
                        "no task space at '\(checkpoint)': [taskspace] builds them at \(steps.map { "step-\($0)" }.joined(separator: ", "))")
                }
                return try series.check(against: e)
            }
            if e.models == nil, !e.lstm.checkpointSteps.map({ "step-\($0)" }).contains(checkpoint) {
                throw QuantityError(
                    "no checkpoint '\(checkpoint)': the LSTM's are \(e.lstm.checkpointSteps.map { "step-\($0)" }.joined(separator: ", "))")
            }
            return try series.check(against: e)
        }
        if let p = property, !e.properties.contains(p) {
            throw QuantityError("property '\(p)' is not among the study's [probe] properties (\(e.properties.joined(separator: ", ")))")
        }
        if let l = layer {
            guard l.hasPrefix("layer"), let n = Int(l.dropFirst(5)), n >= 0 else {
                throw QuantityError("'\(l)' is not a layer name (layer0, layer1, …)")
            }
            if e.models == nil && n > e.lstm.layers { throw QuantityError("the LSTM has states layer0…layer\(e.lstm.layers), not \(l)") }
        }
        switch self {
        case .similarity(let measure, _, let reference):
            if measure != "*" && !(e.measures ?? SimilarityMeasures.dynamicsDefault.map(\.name)).contains(measure) {
                throw QuantityError(
                    "the study does not compute '\(measure)' over training (its measures: \(e.measures ?? SimilarityMeasures.dynamicsDefault.map(\.name)); [analyses] measures)"
                )
            }
            if reference == "tagger" && e.tagger == nil && e.models?.reference == nil {
                throw QuantityError("'to tagger' needs a tagger ([lstm] tagger) or a reference model ([models] reference)")
            }
            if let reference, reference != "tagger" && !e.references.contains(reference) {
                throw QuantityError(
                    "no reference '\(reference)': 'to tagger' or a property of [lstm] references (\(e.references.joined(separator: ", ")))")
            }
        case .salientLayer(_, let fineTuned):
            if fineTuned && e.finetune == nil && e.models?.finetuned == nil {
                throw QuantityError("'fine-tuned' needs a fine-tuned copy ([lstm] finetune or [models] finetuned)")
            }
            if e.finetune == nil && e.models?.finetuned == nil {
                throw QuantityError("salient-layer is measured by the fine-tuning comparison: the study needs a fine-tuned copy")
            }
        case .taskSpaceStability, .taskSpaceSharing, .taskSpaceGrouping:
            guard let t = e.taskSpace else { throw QuantityError("'\(description)' needs task spaces ([taskspace] pairs = …)") }
            if let h = hidden, h != e.lstm.hidden && !t.sizes.contains(h) {
                throw QuantityError("no model of hidden size \(h): [lstm] hidden is \(e.lstm.hidden), [taskspace] sizes \(t.sizes)")
            }
            if hidden == e.lstm.hidden, let steps = t.steps, steps.last != e.lstm.checkpointSteps.last {
                throw QuantityError("'\(description)' reads the language model's last checkpoint, which [taskspace] steps leave out")
            }
        case .minimalShare:
            if e.minimalDelta == nil { throw QuantityError("minimal-share needs the minimal neuron set ([analyses] minimal_delta > 0)") }
        default: break
        }
    }
}

extension Quantity {
    /// The agreement of `TaskSpace.Result` each `taskspace-grouping` space reads.
    static let taskSpaceAgreements = [
        "transfer": "transferMargin", "normalised": "transferNormalised", "gradient": "gradientCosine", "overlap": "maskOverlap",
    ]

    var isTaskSpace: Bool {
        switch self {
        case .taskSpaceStability, .taskSpaceSharing, .taskSpaceGrouping: true
        default: false
        }
    }

    /// The model a `hidden N` quantity names (nil: the checkpoints).
    var hidden: Int? {
        switch self {
        case .taskSpaceSharing(let h), .taskSpaceGrouping(_, let h): h
        default: nil
        }
    }
}

struct QuantityError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
