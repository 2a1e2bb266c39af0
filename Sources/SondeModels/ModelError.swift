import Foundation
import SondeBase

/// What went wrong loading a model or its tokenizer.
public enum ModelProblem: PathErrorKind {
    /// The folder or file is not there.
    case missing
    /// The file is there but wrong (a missing tensor, a bad shape, not JSON).
    case malformed
    /// Valid, but something Sonde does not run (another architecture, tokenizer or activation).
    case unsupported

    public var category: ErrorCategory { self == .missing ? .missingInput : .malformedInput }
}

/// A model folder or tokenizer that could not be used: `path: message`.
public typealias ModelError = PathError<ModelProblem>

/// The JSON object in the file at `path`; `missing` says what to do when it cannot be read.
func readJSONObject(_ path: String, missing: String) throws -> [String: Any] {
    // Through MappedFile: regular files only (a FIFO would block the read forever).
    guard let data = try? MappedFile.data(path) else { throw ModelError(.missing, path, missing) }
    guard let object = try? JSONSerialization.jsonObject(with: data), let json = object as? [String: Any] else {
        throw ModelError(.malformed, path, "not a JSON object")
    }
    return json
}
