import Foundation
import SondeBase

/// NeuroX's activation files in JSON Lines (its `ActivationsWriter` with `--output_type json`):
/// one line per sentence, `{"linex_index": i, "features": [{"token": w, "layers": [{"index": l,
/// "values": [...]}, …]}, …]}`. Read as Sonde's activation layout: one F32 tensor `layer<l>`
/// [words, hidden] per layer, `all_layers` [words, layers · hidden] in NeuroX's own column order
/// (neuron id = layer × hidden + unit, as its loader flattens them), and `sentence_words` and
/// `tokens` in the metadata, so labels from the same sentences line up row for row.
public enum NeuroXJSON {
    /// A JSON Lines file whose first line is a NeuroX sentence object.
    static func looksLike(_ bytes: UnsafeRawBufferPointer) -> Bool {
        let head = String(decoding: UnsafeRawBufferPointer(rebasing: bytes.prefix(4096)), as: UTF8.self)
        return head.hasPrefix("{") && head.contains("\"features\"") && head.contains("\"layers\"")
    }

    static func read(_ file: MappedFile) throws -> TensorCollection {
        let path = file.path
        var layerCount: Int?, hidden: Int?
        var columns: [[Float]] = []  // per layer, rows appended
        var sentenceWords: [Int] = []
        var tokens: [String] = []
        var lineNumber = 0
        var start = 0
        let bytes = file.bytes
        while start < bytes.count {
            lineNumber += 1
            var end = start
            while end < bytes.count && bytes[end] != 0x0A { end += 1 }
            defer { start = end + 1 }
            let line = UnsafeRawBufferPointer(rebasing: bytes[start..<end])
            if line.allSatisfy({ $0 == 0x20 || $0 == 0x0D || $0 == 0x09 }) { continue }
            func fail(_ message: String) -> TensorFileError { TensorFileError(.malformed, "\(path):\(lineNumber)", message) }
            if let depth = jsonDepthOver(InputLimits.headerDepth.value, line) {
                throw fail("the line nests \(depth) levels deep: not NeuroX's layout")
            }
            guard let object = try? JSONSerialization.jsonObject(with: Data(line)) as? [String: Any],
                let features = object["features"] as? [[String: Any]]
            else { throw fail("not a NeuroX sentence: expected {\"linex_index\": …, \"features\": [...]}") }
            for (w, feature) in features.enumerated() {
                guard let token = feature["token"] as? String, let layers = feature["layers"] as? [[String: Any]] else {
                    throw fail("token \(w + 1) has no \"token\" and \"layers\"")
                }
                if layerCount == nil {
                    layerCount = layers.count
                    columns = Array(repeating: [], count: layers.count)
                }
                guard layers.count == layerCount, layers.count > 0 else {
                    throw fail("token \(w + 1) has \(layers.count) layers, the file \(layerCount!)")
                }
                for (l, layer) in layers.enumerated() {
                    guard (layer["index"] as? Int) == l || layer["index"] == nil, let values = layer["values"] as? [NSNumber] else {
                        throw fail("token \(w + 1), layer \(l): expected {\"index\": \(l), \"values\": [numbers]}")
                    }
                    if hidden == nil { hidden = values.count }
                    guard values.count == hidden, hidden! > 0 else {
                        throw fail("token \(w + 1), layer \(l) has \(values.count) values, the file \(hidden!)")
                    }
                    let floats = values.map { Float(truncating: $0) }
                    guard floats.allSatisfy(\.isFinite) else { throw fail("token \(w + 1), layer \(l) holds a value that is not a finite Float") }
                    columns[l] += floats
                }
                tokens.append(token)
            }
            sentenceWords.append(features.count)
        }
        guard layerCount != nil, let hidden, !tokens.isEmpty else { throw TensorFileError(.malformed, path, "no NeuroX sentence in the file") }
        return collection(path: path, format: .neuroxJSON, layers: columns, hidden: hidden, sentenceWords: sentenceWords, tokens: tokens)
    }

    /// NeuroX activations (each layer's rows, in sentence order) in Sonde's layout: `layer<l>`,
    /// `all_layers` in NeuroX's column order, `sentence_words` and `tokens` in the metadata.
    static func collection(
        path: String, format: TensorFileFormat, layers columns: [[Float]], hidden: Int, sentenceWords: [Int], tokens: [String]
    ) -> TensorCollection {
        let layerCount = columns.count
        let rows = tokens.count
        func tensor(_ name: String, _ shape: [Int], _ values: [Float]) -> Tensor {
            let storage = values.withUnsafeBytes { TensorBytes(copying: $0) }
            return Tensor(name: name, dtype: .float32, shape: shape, storage: storage, byteOffset: 0)
        }
        var tensors = (0..<layerCount).map { tensor("layer\($0)", [rows, hidden], columns[$0]) }
        var all = [Float](repeating: 0, count: rows * layerCount * hidden)
        for l in 0..<layerCount {
            for r in 0..<rows { for j in 0..<hidden { all[r * layerCount * hidden + l * hidden + j] = columns[l][r * hidden + j] } }
        }
        tensors.append(tensor("all_layers", [rows, layerCount * hidden], all))
        let encode = { (value: Any) in String(decoding: (try? JSONSerialization.data(withJSONObject: value)) ?? Data("[]".utf8), as: UTF8.self) }
        return TensorCollection(
            path: path, format: format, tensors: tensors,
            metadata: [
                "format": format.rawValue, "sentence_words": encode(sentenceWords), "tokens": encode(tokens), "layers": String(layerCount),
            ])
    }
}
