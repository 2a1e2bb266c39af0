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

    /// "… is over the limit of N unit (set VARIABLE to raise it)".
    public func message(_ what: String) -> String {
        "\(what) is over the limit of \(value) \(unit) (set \(variable)=N in the environment to raise it)"
    }
}

/// The limits, in one place.
public enum InputLimits {
    /// A safetensors JSON header (the reference implementation refuses past 100 MB; the
    /// sentence alignment of a million-sentence corpus needs about 20 MB).
    public static let headerBytes = InputLimit("SONDE_MAX_HEADER_BYTES", default: 64 << 20, unit: "bytes")
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
