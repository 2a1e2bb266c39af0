import Foundation
import SondeBase
import SondeLinalg

/// The parameters of a checkpoint: `model.safetensors`, or the shards that
/// `model.safetensors.index.json` lists, memory-mapped; each tensor is converted to Float when
/// the model asks for it. Names are looked up without the base-model prefix a task head adds
/// (`bert.`, `roberta.`, `transformer.`, `gpt_neox.`), so `BertForMaskedLM` and `BertModel`
/// checkpoints read alike.
struct ModelWeights {
    let folder: String
    /// The weight files read, in order.
    let files: [String]
    private var tensors: [String: Tensor] = [:]
    private static let basePrefixes = ["bert.", "roberta.", "transformer.", "gpt_neox.", "model."]

    init(folder: String) throws {
        self.folder = folder
        let single = folder + "/model.safetensors"
        let index = folder + "/model.safetensors.index.json"
        var files: [String]
        if FileManager.default.fileExists(atPath: single) {
            files = [single]
        } else if FileManager.default.fileExists(atPath: index) {
            let json = try readJSONObject(index, missing: "cannot read the shard index")
            guard let map = json["weight_map"] as? [String: String] else { throw ModelError(.malformed, index, "no weight_map object") }
            // Shard names come from a stranger's file: plain names inside the model folder only.
            if let bad = map.values.first(where: { $0.isEmpty || $0.hasPrefix("/") || $0.split(separator: "/").contains("..") || $0.contains("\\") })
            {
                throw ModelError(.malformed, index, "shard name \(bad.debugDescription) leaves the model folder; weight_map names files inside it")
            }
            files = Set(map.values).sorted().map { folder + "/" + $0 }
            // And by what the names resolve to: a link inside the folder may point anywhere.
            let root = URL(fileURLWithPath: folder).resolvingSymlinksInPath().path + "/"
            if let outside = files.first(where: { !URL(fileURLWithPath: $0).resolvingSymlinksInPath().path.hasPrefix(root) }) {
                throw ModelError(.malformed, index, "shard \(outside) resolves outside the model folder; weight_map names files inside it")
            }
        } else {
            throw ModelError(
                .missing, folder,
                "no model.safetensors or model.safetensors.index.json (PyTorch .bin checkpoints: re-save with save_pretrained(safe_serialization=True))"
            )
        }
        self.files = files
        for file in files {
            for tensor in try TensorCollection.read(file).tensors {
                var name = tensor.name
                if let prefix = Self.basePrefixes.first(where: { name.hasPrefix($0) }) { name.removeFirst(prefix.count) }
                tensors[name] = tensor
            }
        }
    }

    func has(_ name: String) -> Bool { tensors[name] != nil }

    func shape(_ name: String) -> [Int]? { tensors[name]?.shape }

    /// The tensor `name` as Float values, checked against the shape the config implies.
    func values(_ name: String, shape expected: [Int]) throws -> [Float] {
        guard let tensor = tensors[name] else {
            throw ModelError(.malformed, folder, "the checkpoint has no tensor '\(name)' (is config.json's model_type right?)")
        }
        guard tensor.shape == expected else {
            throw ModelError(.malformed, folder, "tensor '\(name)' has shape \(tensor.shape), config.json implies \(expected)")
        }
        switch tensor.dtype {
        case .float16, .bfloat16, .float32, .float64:
            let values = tensor.floats()
            tensor.withUnsafeBytes(adviseDone)
            return values
        default: throw ModelError(.malformed, folder, "tensor '\(name)' holds \(tensor.dtype), not floating-point values")
        }
    }

    /// A matrix `name` of `rows × columns`.
    func matrix(_ name: String, _ rows: Int, _ columns: Int) throws -> Matrix<Float> {
        Matrix(rows: rows, columns: columns, elements: try values(name, shape: [rows, columns]))
    }

    /// The first of `names` that exists (old and new spellings of one parameter).
    func first(_ names: String...) -> String { names.first(where: has) ?? names[0] }
}
