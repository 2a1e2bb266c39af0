/// What kind of failure an error is, so that a caller (the command line's one exit-status
/// mapping) can act on it without knowing every module's error types.
public enum ErrorCategory: Sendable, Equatable, CaseIterable {
    /// The request names what the inputs do not have (a layer, a task, a measure).
    case usage
    /// An input is there but wrong: a malformed file, data a computation cannot use.
    case malformedInput
    /// An input is not there or cannot be read.
    case missingInput
    /// A program Sonde relies on failed (sbatch).
    case service
    /// The job needs more memory than it may use.
    case resources
    /// An output cannot be written.
    case output
}

/// An error that says what kind of failure it is; its description is the whole message.
public protocol CategorizedError: Error, CustomStringConvertible {
    var category: ErrorCategory { get }
}

/// The kind of a `PathError`, which decides its category.
public protocol PathErrorKind: Sendable, Equatable {
    var category: ErrorCategory { get }
}
