import Foundation
import SondeBase

/// What a set of activations came from, as far as it is known: the architecture, the width of
/// its layers, and a fingerprint of the checkpoint itself. Wherever an activation file meets a
/// model (ablation inside the model) or two sources meet (`compare`), these are checked, so that
/// activations of one model are never scored in another.
public struct ModelIdentity: Codable, Equatable, Sendable {
    /// config.json's `model_type` (gpt2, bert, sonde-lstm, …).
    public var architecture: String?
    public var hidden: Int?
    /// FNV-1a (64-bit) over config.json and, for each weight file, its size, its first MiB
    /// (the safetensors header and the first tensors) and 16 evenly spaced 4 KiB samples: two
    /// checkpoints of one training run share their headers, not their weights. Nil for files
    /// Sonde did not write.
    public var fingerprint: String?

    public init(architecture: String?, hidden: Int?, fingerprint: String?) {
        self.architecture = architecture
        self.hidden = hidden
        self.fingerprint = fingerprint
    }

    /// The fingerprint of a model folder's files (config.json and the weight files).
    static func fingerprint(files: [String]) throws -> String {
        var hash = FNV1a()
        func mix(_ bytes: UnsafeRawBufferPointer) { hash.mix(bytes) }
        for path in files {
            let file = try MappedFile(path: path)
            defer { withExtendedLifetime(file) {} }  // the mapping lives as long as the object
            let bytes = file.bytes
            withUnsafeBytes(of: UInt64(bytes.count).littleEndian) { mix($0) }
            mix(UnsafeRawBufferPointer(rebasing: bytes.prefix(1 << 20)))
            let sample = 4096
            if bytes.count > 1 << 20 {
                for k in 0..<16 {
                    let start = (1 << 20) + (bytes.count - (1 << 20) - sample) * k / 15
                    mix(UnsafeRawBufferPointer(rebasing: bytes[max(0, start)..<min(bytes.count, start + sample)]))
                }
            }
        }
        return hash.hex
    }

    /// The fingerprint of every regular file of a model folder (config.json, weights, tokenizer,
    /// vocabulary; hidden files left out), in name order: a content address for the folder.
    /// A missing folder is missing input naming it (found by benchmarks/fuzz.sh: a stranger's
    /// experiment file named one, and Foundation's own error came out uncategorised).
    public static func fingerprint(folder: String) throws -> String {
        guard let names = try listFolder(folder) else { throw ModelError(.missing, folder, "not a model folder (a file, not a folder)") }
        return try fingerprint(files: names.filter { !$0.hasPrefix(".") }.sorted().map { folder + "/" + $0 }.filter(isRegularFile))
    }

    /// Why activations from `self` cannot stand for `model`, or nil when nothing known differs.
    public func mismatch(with model: ModelIdentity) -> String? {
        if let a = architecture, let b = model.architecture, a != b { return "they come from a \(a) model, not a \(b) one" }
        if let a = hidden, let b = model.hidden, a != b { return "they have \(a) neurons per layer, the model \(b)" }
        if let a = fingerprint, let b = model.fingerprint, a != b { return "they come from another checkpoint (fingerprint \(a), the model's \(b))" }
        return nil
    }
}
