import SondeBase
import SondeCorpus
import SondeLinalg
import SondeModels

/// A problem with activations and the treebank they should describe: `path: message`.
public struct StudyError: CategorizedError, Sendable {
    public let description: String
    /// `.usage` when the inputs are fine but the request names what they do not have (a
    /// layer), else `.malformedInput`.
    public let category: ErrorCategory
    public init(_ description: String, usage: Bool = false) {
        self.init(description, category: usage ? .usage : .malformedInput)
    }

    public init(_ description: String, category: ErrorCategory) {
        (self.description, self.category) = (description, category)
    }
}

/// Where activations come from: an activation file extracted from a treebank (`sonde extract`),
/// or a model folder run on the treebank now. One place for what pairs a file with a treebank —
/// the `--limit` it was extracted with, the sentence-by-sentence alignment, the layer names —
/// and for what a file records of its model.
public enum ActivationSource: Sendable {
    case file(String)
    case model(folder: String, tokenizer: String?)

    /// A folder is a model, anything else an activation file.
    public init(_ path: String, tokenizer: String? = nil) {
        self = isRegularFile(path) || !isFolder(path) ? .file(path) : .model(folder: path, tokenizer: tokenizer)
    }

    /// The number of sentences of its treebank a file was extracted from (`sonde extract
    /// --limit`), nil for all of them or for a model.
    public var extractionLimit: Int? {
        guard case .file(let path) = self, let file = try? TensorCollection.read(path) else { return nil }
        return Self.extractionLimit(file)
    }

    static func extractionLimit(_ file: TensorCollection) -> Int? { file.metadata[limitKey].flatMap(Int.init) }

    /// The metadata that records which treebank files an activation file was extracted from, and
    /// the `--limit` on their sentences, for the checks here to name them; both `sonde extract`
    /// and the experiment runner write it.
    public static func provenance(corpus: [String], limit: Int?) -> [String: String] {
        var metadata = [corpusKey: corpus.joined(separator: ",")]
        if let limit { metadata[limitKey] = String(limit) }
        return metadata
    }

    static let corpusKey = "corpus", limitKey = "limit"

    /// The layers `requested` (all when nil) for `corpus` (named `corpusName` in messages):
    /// names (`layer<l>`), [words × neurons] matrices and the model's identity. A file must hold
    /// one row per word of `corpus`, sentence by sentence; a model runs on it (`progress` gets
    /// the sentences done).
    public func layers(
        _ requested: [Int]?, for corpus: Corpus, corpusName: String, progress: (Int) -> Void = { _ in }
    ) throws -> (names: [String], matrices: [Matrix<Float>], identity: ModelIdentity) {
        switch self {
        case .model(let folder, let tokenizer):
            let model = try loadLanguageModel(folder, tokenizer: tokenizer)
            let chosen = requested ?? Array(0...model.layerCount)
            if let bad = chosen.first(where: { !(0...model.layerCount).contains($0) }) {
                throw StudyError("\(folder): no layer \(bad); it has 0…\(model.layerCount)", usage: true)
            }
            let sentences = corpus.sentences.map { $0.words.map(\.form) }
            var rows = [[Float]](repeating: [], count: chosen.count)
            try model.extract(sentences, layers: chosen, aggregate: .last, ablations: [], progress: progress) { _, vectors in
                for (l, v) in vectors.enumerated() { rows[l] += v.elements }
            }
            let h = model.hiddenSize
            return (chosen.map(ActivationFile.layerName), rows.map { Matrix(rows: $0.count / h, columns: h, elements: $0) }, model.identity)
        case .file(let path):
            let file = try TensorCollection.read(path)
            try Self.requireAlignment(file, corpus.sentences, corpus: corpusName)
            let available = file.tensors.map(\.name).filter { $0.hasPrefix("layer") }.sorted { ($0.count, $0) < ($1.count, $1) }
            let names = requested.map { $0.map(ActivationFile.layerName) } ?? available
            if let missing = names.first(where: { !available.contains($0) }) {
                throw StudyError("\(path) has no \(missing); it has \(available.joined(separator: ", "))", usage: true)
            }
            let matrices = try names.map { try Self.matrix(file[$0]!, of: file) }
            return (names, matrices, ActivationFile.identity(file))
        }
    }

    /// The tensor named `layer` (`2` names `layer2`) of an activation file, or its only tensor.
    /// Safetensors, .npy and .npz files are mapped and only their headers read (the shape says
    /// what loading the tensor will cost); a NeuroX JSON file is parsed whole.
    public static func tensor(path: String, layer: String?) throws -> (TensorCollection, Tensor) {
        let file = try TensorCollection.read(path)
        let names = file.tensors.map(\.name)
        if let layer {
            guard let t = file[layer] ?? (Int(layer) != nil ? file["layer" + layer] : nil) else {
                throw StudyError("\(path): no tensor '\(layer)'; it has \(names.joined(separator: ", ")) (choose one with --layer)", usage: true)
            }
            return (file, t)
        }
        guard file.tensors.count == 1 else {
            throw TensorFileError(
                .malformed, path, "holds \(file.tensors.count) tensors; choose one with --layer (\(names.prefix(8).joined(separator: ", ")))")
        }
        return (file, file.tensors[0])
    }

    /// One layer of an activation file (.npy, .npz, safetensors, NeuroX JSON) as a [words ×
    /// neurons] matrix: the tensor named `layer` (`2` names `layer2`), or the file's only tensor.
    public static func matrix(path: String, layer: String?) throws -> Matrix<Float> {
        let (file, tensor) = try self.tensor(path: path, layer: layer)
        let m = try matrix(tensor, of: file)
        // A probe squares and sums activations in Float: beyond 1e18 that overflows.
        if let bad = m.elements.firstIndex(where: { abs($0) > 1e18 }) {
            throw TensorFileError(
                .malformed, path,
                "tensor '\(tensor.name)' has the value \(m.elements[bad]) in row \(bad / m.columns), beyond the ±1e18 a probe can square in Float; are these activations?"
            )
        }
        return m
    }

    /// A [words × neurons] tensor of `file` as a matrix, refused when it is not 2-D or holds
    /// NaN or infinity (a probe or a similarity would carry it into every number).
    public static func matrix(_ tensor: Tensor, of file: TensorCollection) throws -> Matrix<Float> {
        guard tensor.shape.count == 2 else {
            throw TensorFileError(.malformed, file.path, "tensor '\(tensor.name)' has shape \(tensor.shape); activations are [tokens, neurons]")
        }
        guard tensor.shape[0] > 0 && tensor.shape[1] > 0 else {
            throw TensorFileError(
                .malformed, file.path,
                "tensor '\(tensor.name)' has shape \(tensor.shape): \(tensor.shape[0] == 0 ? "no rows (tokens)" : "no columns (neurons)"); nothing to probe or compare")
        }
        let m = try tensor.matrix()
        if let bad = m.elements.firstIndex(where: { !$0.isFinite }) {
            throw TensorFileError(.malformed, file.path, "tensor '\(tensor.name)' has a non-finite value in row \(bad / m.columns)")
        }
        return m
    }

    /// The treebank an activation file was extracted from: as many sentences as the file
    /// recorded (`--limit`), checked against the file sentence by sentence.
    public static func alignedTreebank(_ corpus: String, for activations: String) throws -> Corpus {
        let file = try TensorCollection.read(activations)
        var treebank = try CorpusReader.read([corpus]).corpus
        if let limit = extractionLimit(file) { treebank.sentences = Array(treebank.sentences.prefix(limit)) }
        try requireAlignment(file, treebank.sentences, corpus: corpus)
        return treebank
    }

    /// Refuses activations extracted from another checkpoint than `model` (one model's neurons
    /// ablated inside another mean nothing); returns a warning when the file does not record its
    /// checkpoint, so no check was possible.
    public static func requireSameModel(_ activations: String, as model: any LanguageModel) throws -> String? {
        let file = try TensorCollection.read(activations)
        let recorded = ActivationFile.identity(file)
        if let reason = recorded.mismatch(with: model.identity) {
            throw StudyError(
                "\(activations) was not extracted from \(model.folder): \(reason); pass the model it came from\(file.metadata["model"].map { " (\($0))" } ?? "")"
            )
        }
        return recorded.fingerprint == nil ? "\(activations) does not record its checkpoint, so it cannot be checked against \(model.folder)" : nil
    }

    /// Checks that activation file `file` holds one row per word of `sentences`, sentence by
    /// sentence, and says where they first part ways and what the file was extracted from.
    public static func requireAlignment(_ file: TensorCollection, _ sentences: [Sentence], corpus: String) throws {
        let counts = try ActivationFile.sentenceWords(file)
        let ours = sentences.map(\.words.count)
        guard counts != ours else { return }
        let first = (0..<min(counts.count, ours.count)).first { counts[$0] != ours[$0] } ?? min(counts.count, ours.count)
        let recorded = file.metadata[corpusKey]
        let origin =
            recorded.map { " (it was extracted from \($0)" + (extractionLimit(file).map { ", --limit \($0))" } ?? ")") }
            ?? extractionLimit(file).map { " (extracted with --limit \($0))" } ?? ""
        throw StudyError(
            "\(file.path) was not extracted from \(corpus)\(origin): sentence \(first + 1) has \(first < counts.count ? String(counts[first]) : "no") rows there and \(first < ours.count ? String(ours[first]) : "no") words in the treebank; extract it again from this treebank"
        )
    }
}

private func isFolder(_ path: String) -> Bool { (try? listFolder(path)) != nil }
