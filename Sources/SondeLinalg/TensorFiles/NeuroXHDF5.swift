import Foundation
import SondeBase

/// NeuroX's activation files in HDF5 (its `ActivationsWriter` with `--output_type hdf5`): one
/// float32 dataset per sentence named "0"…"N-1", shape [layers, words, hidden], and a dataset
/// `sentence_to_index` holding one JSON string that maps each sentence's text (words joined by
/// spaces; a repeat gets " (Occurrence k)") to its dataset name. Read (`HDF5File`, h5py's
/// layout) into the same layout as NeuroX's JSON files (`NeuroXJSON.collection`).
enum NeuroXHDF5 {
    static let signature: [UInt8] = [0x89, 0x48, 0x44, 0x46, 0x0D, 0x0A, 0x1A, 0x0A]

    static func read(_ file: MappedFile) throws -> TensorCollection {
        let path = file.path
        let hdf5 = try HDF5File(path: path, bytes: file.bytes)
        func fail(_ message: String) -> TensorFileError { TensorFileError(.malformed, path, message) }
        let sentences = try sentenceIndex(hdf5)
        var layers: [[Float]] = []
        var hidden = 0
        var sentenceWords: [Int] = []
        var tokens: [String] = []
        var total = 0
        for (index, words) in sentences.enumerated() {
            let name = String(index)
            let dataset = try hdf5.dataset(name)
            guard dataset.shape.count == 3, dataset.element != .variableString else {
                throw fail("dataset '\(name)' has shape \(dataset.shape); NeuroX's activations are [layers, words, hidden] numbers")
            }
            let (l, w, h) = (dataset.shape[0], dataset.shape[1], dataset.shape[2])
            guard l > 0, h > 0, w == words.count else {
                throw fail("dataset '\(name)' has shape [\(l), \(w), \(h)], but sentence \(index + 1) has \(words.count) words")
            }
            if layers.isEmpty { (layers, hidden) = (Array(repeating: [], count: l), h) }
            guard l == layers.count, h == hidden else {
                throw fail("dataset '\(name)' has \(l) layers × \(h) neurons, the first sentence \(layers.count) × \(hidden)")
            }
            // Datasets may share their data (two names, one object): bound what is copied out.
            total += l * w * h
            guard total <= (file.bytes.count / 4 + 1) * InputLimits.inflationRatio.value else {
                throw fail(
                    "the datasets hold more values than a file of \(file.bytes.count) bytes can without sharing data (SONDE_MAX_INFLATION=\(InputLimits.inflationRatio.value))"
                )
            }
            let values = try hdf5.floats(dataset)
            if let bad = values.firstIndex(where: { !$0.isFinite }) {
                throw fail("dataset '\(name)' holds a value that is not a finite Float (layer \(bad / (w * h)), word \(bad / h % w + 1))")
            }
            for layer in 0..<l { layers[layer] += values[(layer * w * h)..<((layer + 1) * w * h)] }
            sentenceWords.append(w)
            tokens += words
        }
        guard !tokens.isEmpty else { throw fail("no NeuroX sentence in the file") }
        return NeuroXJSON.collection(path: path, format: .neuroxHDF5, layers: layers, hidden: hidden, sentenceWords: sentenceWords, tokens: tokens)
    }

    /// The sentences in dataset order, as words, from `sentence_to_index`.
    private static func sentenceIndex(_ hdf5: HDF5File) throws -> [[String]] {
        func fail(_ message: String) -> TensorFileError { TensorFileError(.malformed, hdf5.path, message) }
        guard hdf5.members["sentence_to_index"] != nil else { throw fail("no dataset 'sentence_to_index': not NeuroX's HDF5 layout") }
        let texts = try hdf5.strings(try hdf5.dataset("sentence_to_index"), limit: InputLimits.headerBytes.value)
        guard texts.count == 1, let object = try? JSONSerialization.jsonObject(with: Data(texts[0].utf8)) as? [String: Any] else {
            throw fail("'sentence_to_index' is not one JSON object from sentence to dataset name")
        }
        var sentences = [[String]?](repeating: nil, count: object.count)
        for (sentence, value) in object {
            guard let index = (value as? String).flatMap(Int.init) ?? (value as? Int), (0..<object.count).contains(index), sentences[index] == nil
            else { throw fail("'sentence_to_index' maps a sentence to '\(value)', not one of the datasets 0…\(object.count - 1) once") }
            // A repeated sentence carries " (Occurrence k)" after its words.
            let words = sentence.replacingOccurrences(of: #" \(Occurrence \d+\)$"#, with: "", options: .regularExpression)
            sentences[index] = words.split(separator: " ", omittingEmptySubsequences: false).map(String.init)
        }
        return sentences.map { $0! }
    }
}
