import SondeBase

/// Why the contents of a tensor file could not be read (opening and writing fail with `FileError`).
public enum TensorFileProblem: PathErrorKind {
    /// The contents are not a valid file of the format (malformed header, bad offsets, …).
    case malformed
    /// Valid, but uses a feature Sonde does not read (big-endian data, an unknown dtype, …).
    case unsupported

    public var category: ErrorCategory { .malformedInput }
}

/// A tensor file whose contents could not be read. The description starts with the file's path.
public typealias TensorFileError = PathError<TensorFileProblem>
