import SondeModels

/// A cell's identity in a study's plan: which work, on which model, property or layer. Its
/// string form ("probe upos layer1", "dynamics upos to tagger") is what `--plan`, the logs and
/// the `computed` lists show, and `init?(_:)` reads it back.
public enum CellID: Hashable, Sendable, CustomStringConvertible {
    /// The native models a study trains: the language model, the tagger, the fine-tuned copy,
    /// the further references (`[lstm] references`), by property, and the language model at
    /// another hidden size (`[taskspace] sizes`).
    public enum TrainedModel: Hashable, Sendable, CustomStringConvertible {
        case lm, tagger, finetune
        case reference(String)
        case size(Int)

        public var description: String {
            switch self {
            case .lm: "lm"
            case .tagger: "tagger"
            case .finetune: "finetune"
            case .reference(let property): "reference-\(property)"
            case .size(let hidden): "lm-hidden-\(hidden)"
            }
        }

        init?(_ text: String) {
            switch text {
            case "lm": self = .lm
            case "tagger": self = .tagger
            case "finetune": self = .finetune
            default:
                if text.hasPrefix("lm-hidden-"), let hidden = Int(text.dropFirst(10)), hidden > 0, String(hidden) == text.dropFirst(10) {
                    self = .size(hidden)
                    return
                }
                guard text.hasPrefix("reference-"), text.count > 10 else { return nil }
                self = .reference(String(text.dropFirst(10)))
            }
        }
    }

    case train(TrainedModel)
    /// One model's activations: a checkpoint ("step-50" or a folder's name), "tagger",
    /// "fine-tuned", "reference NAME" or "fine-tuned NAME".
    case extract(model: String)
    /// One property's probes on one layer of the last checkpoint, over the seeds.
    case probe(property: String, layer: Int)
    /// One property's best layer: its neurons, words and ablation.
    case analysis(property: String)
    /// k-sparse probing and the rankers' agreement on one property's best layer.
    case sparsity(property: String)
    /// LEACE at one property's best layer: the probe after erasure, the model's loss without it.
    case erasure(property: String)
    /// Over training, against the last checkpoint (`reference` nil) or a reference model.
    case dynamics(property: String, reference: String?)
    case fineTuning(property: String)
    /// Word interdependence at one checkpoint.
    case interactions(checkpoint: String)
    /// The task spaces of one model: a checkpoint ("step-500") or another size ("hidden-128").
    case taskSpace(model: String)

    public var kind: StudyCell.Kind {
        switch self {
        case .train: .train
        case .extract: .extract
        case .probe: .probe
        case .analysis: .analysis
        case .sparsity: .sparsity
        case .erasure: .erasure
        case .dynamics: .dynamics
        case .fineTuning: .fineTuning
        case .interactions: .interactions
        case .taskSpace: .taskSpace
        }
    }

    public var description: String {
        switch self {
        case .train(let model): "train \(model)"
        case .extract(let model): "extract \(model)"
        case .probe(let property, let layer): "probe \(property) \(ActivationFile.layerName(layer))"
        case .analysis(let property): "analysis \(property)"
        case .sparsity(let property): "sparsity \(property)"
        case .erasure(let property): "erasure \(property)"
        case .dynamics(let property, nil): "dynamics \(property)"
        case .dynamics(let property, let reference?): "dynamics \(property) to \(reference)"
        case .fineTuning(let property): "fine-tuning \(property)"
        case .interactions(let checkpoint): "interactions \(checkpoint)"
        case .taskSpace(let model): "taskspace \(model)"
        }
    }

    /// Reads the string form back (property names hold no space); nil for anything else.
    public init?(_ text: String) {
        guard let space = text.firstIndex(of: " ") else { return nil }
        let rest = String(text[text.index(after: space)...])
        guard !rest.isEmpty else { return nil }
        switch text[..<space] {
        case "train":
            guard let model = TrainedModel(rest) else { return nil }
            self = .train(model)
        case "extract": self = .extract(model: rest)
        case "probe":
            guard let last = rest.lastIndex(of: " "), rest[rest.index(after: last)...].hasPrefix("layer"),
                case let digits = rest[rest.index(last, offsetBy: 6)...], !digits.isEmpty, digits.allSatisfy(\.isASCII),
                digits.allSatisfy(\.isNumber),
                let layer = Int(digits), !rest[..<last].isEmpty
            else { return nil }
            self = .probe(property: String(rest[..<last]), layer: layer)
        case "analysis": self = .analysis(property: rest)
        case "sparsity": self = .sparsity(property: rest)
        case "erasure": self = .erasure(property: rest)
        case "dynamics":
            if let to = rest.range(of: " to ") {
                self = .dynamics(property: String(rest[..<to.lowerBound]), reference: String(rest[to.upperBound...]))
            } else {
                self = .dynamics(property: rest, reference: nil)
            }
        case "fine-tuning": self = .fineTuning(property: rest)
        case "interactions": self = .interactions(checkpoint: rest)
        case "taskspace": self = .taskSpace(model: rest)
        default: return nil
        }
    }
}

extension CellID: Codable {
    public init(from decoder: Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let id = CellID(text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not a cell id: '\(text)'"))
        }
        self = id
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
