/// What went wrong loading a model or its tokenizer: `path: message`, with a kind the command line
/// turns into an exit code (missing input, malformed input, or a model Sonde cannot run).
public struct ModelError: Error, CustomStringConvertible, Sendable {
    public enum Kind: Sendable { case missing, malformed, unsupported }
    public let kind: Kind
    public let path: String
    public let message: String

    public init(_ kind: Kind, _ path: String, _ message: String) {
        self.kind = kind
        self.path = path
        self.message = message
    }

    public var description: String { "\(path): \(message)" }
}
