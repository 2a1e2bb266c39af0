import Foundation
import SondeBase
import SondeLinalg

/// Sonde's activation file: safetensors with one F32 tensor per layer, `layer<l>` of shape
/// [words of the corpus, hidden], and in `__metadata__` the format (`sonde-activations/1`), the
/// model, the aggregation, the layers and the token alignment: `sentence_words` (a JSON array of
/// each sentence's word count, in corpus order) and `sentence_ids`. Row i of every layer is the
/// i-th word of the corpus, so labels from the same corpus line up row for row.
public enum ActivationFile {
    public static let format = "sonde-activations/1"

    /// What an extraction wrote.
    public struct Summary: Codable, Sendable {
        public var path: String
        public var model: String
        public var architecture: String?
        public var layers: [String]
        public var aggregate: SubwordAggregation
        public var hidden: Int
        public var sentences: Int
        public var words: Int
        public var subwords: Int
        public var windowedSentences: Int
    }

    /// Extracts `layers` for `sentences` (their words; `ids` name them) and streams the rows to
    /// `path`, atomically: nothing is left behind on failure, and memory holds one batch at a time.
    public static func extract(
        _ extractor: any LanguageModel, sentences: [[String]], ids: [String], layers: [Int], aggregate: SubwordAggregation,
        ablations: [NeuronAblation] = [], extraMetadata: [String: String] = [:], to path: String, progress: (Int) -> Void = { _ in }
    ) throws -> Summary {
        let h = extractor.hiddenSize
        let words = sentences.reduce(0) { $0 + $1.count }
        var firstRow: [Int] = []
        var row = 0
        for s in sentences { firstRow.append(row); row += s.count }
        let names = layers.map(layerName)
        var subwords = 0, windowed = 0
        var metadata = extraMetadata
        metadata["format"] = format
        metadata["model"] = extractor.folder
        metadata["architecture"] = extractor.identity.architecture
        metadata["hidden"] = String(h)
        metadata["fingerprint"] = extractor.identity.fingerprint
        metadata["aggregate"] = aggregate.rawValue
        if let alignment = extractor.wordAlignment { metadata["alignment"] = alignment.rawValue }
        metadata["layers"] = json(names)
        metadata["sentence_words"] = json(sentences.map(\.count))
        metadata["sentence_ids"] = json(ids)
        try Safetensors.writeStreaming(names.map { ($0, [words, h]) }, metadata: metadata, to: path) { sink in
            try extractor.extract(sentences, layers: layers, aggregate: aggregate, ablations: ablations, progress: progress) { index, vectors in
                for (t, matrix) in vectors.enumerated() {
                    try matrix.withUnsafeBufferPointer { p in
                        for w in 0..<matrix.rows {
                            try sink.write(tensor: t, row: firstRow[index] + w, UnsafeBufferPointer(rebasing: p[(w * h)..<((w + 1) * h)]))
                        }
                    }
                }
            }
            (subwords, windowed) = try extractor.subwordStatistics(sentences)
        }
        return Summary(
            path: path, model: extractor.folder, architecture: extractor.identity.architecture, layers: names, aggregate: aggregate,
            hidden: h, sentences: sentences.count, words: words, subwords: subwords, windowedSentences: windowed)
    }

    /// The tensor name of layer `l` (0 = the embeddings).
    public static func layerName(_ l: Int) -> String { "layer\(l)" }

    /// The word count of each sentence, from a file this type wrote or a NeuroX JSON file.
    public static func sentenceWords(_ file: TensorCollection) throws -> [Int] {
        guard file.metadata["format"] == format || file.format.isNeuroX, let text = file.metadata["sentence_words"],
            let counts = try? JSONCoding.decoder().decode([Int].self, from: Data(text.utf8))
        else {
            throw TensorFileError(.malformed, file.path, "not a Sonde activation file (no \(format) metadata); make one with `sonde extract`")
        }
        return counts
    }

    /// What the activations in `file` came from: all that its metadata records (nothing for
    /// files Sonde did not write; the width from the tensors then).
    public static func identity(_ file: TensorCollection) -> ModelIdentity {
        ModelIdentity(
            architecture: file.metadata["architecture"],
            hidden: file.metadata["hidden"].flatMap(Int.init) ?? file.tensors.first.flatMap { $0.shape.count == 2 ? $0.shape[1] : nil },
            fingerprint: file.metadata["fingerprint"])
    }

    private static func json<T: Encodable>(_ value: T) -> String {
        (try? JSONCoding.text(value)) ?? "[]"
    }
}
