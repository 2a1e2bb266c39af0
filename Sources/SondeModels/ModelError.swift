import Foundation

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

/// The JSON object in the file at `path`; `missing` says what to do when it cannot be read.
func readJSONObject(_ path: String, missing: String) throws -> [String: Any] {
    guard let data = FileManager.default.contents(atPath: path) else { throw ModelError(.missing, path, missing) }
    guard let object = try? JSONSerialization.jsonObject(with: data), let json = object as? [String: Any] else {
        throw ModelError(.malformed, path, "not a JSON object")
    }
    return json
}
