import Glibc

/// A bound on what one input may make Sonde spend, so that a file from a stranger cannot exhaust
/// memory or time. The default is far above what real treebanks and checkpoints need; a user
/// with a real input beyond it raises it with the environment variable the message names.
public struct InputLimit: Sendable {
    /// The environment variable that overrides the default.
    public let variable: String
    public let value: Int
    /// What the value counts ("bytes", "words", …), for messages.
    public let unit: String

    init(_ variable: String, default value: Int, unit: String) {
        self.variable = variable
        self.unit = unit
        if let text = getenv(variable).map({ String(cString: $0) }), let parsed = Int(text), parsed > 0 {
            self.value = parsed
        } else {
            self.value = value
        }
    }

    /// "PROBLEM (limit: N unit; set VARIABLE=N in the environment to raise it)".
    public func message(_ problem: String) -> String {
        "\(problem) (limit: \(value) \(unit); set \(variable)=N in the environment to raise it)"
    }
}

/// The limits, in one place.
public enum InputLimits {
    /// A safetensors JSON header (the reference implementation refuses past 100 MB; parsing
    /// costs about 15× the header in memory; a checkpoint's header is well under 1 MB and the
    /// sentence alignment of EWT's 12,544 training sentences 166 kB).
    public static let headerBytes = InputLimit("SONDE_MAX_HEADER_BYTES", default: 16 << 20, unit: "bytes")
    /// How deeply a JSON header may nest (real headers nest 3 deep).
    public static let headerDepth = InputLimit("SONDE_MAX_HEADER_DEPTH", default: 16, unit: "levels")
    /// How many times its compressed size one .npz member may inflate to, past 64 MiB
    /// (float activations compress about 1.1×; deflate can reach 1,032×).
    public static let inflationRatio = InputLimit("SONDE_MAX_INFLATION", default: 100, unit: "× its compressed size")
    /// Words in one sentence that a model encodes (UD's longest sentences have a few hundred).
    public static let sentenceWords = InputLimit("SONDE_MAX_SENTENCE_WORDS", default: 2_048, unit: "words")
    /// UTF-8 bytes in one word that a tokenizer splits (subword merging is quadratic in it).
    public static let wordBytes = InputLimit("SONDE_MAX_WORD_BYTES", default: 1_024, unit: "bytes")
}
