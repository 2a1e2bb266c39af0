/// A pointer handed to parallel workers that each touch their own part of the buffer (disjoint
/// rows or blocks), which is what makes sharing it safe.
public struct SharedBuffer<Element>: @unchecked Sendable {
    public let pointer: UnsafeMutablePointer<Element>

    public init(_ pointer: UnsafeMutablePointer<Element>) { self.pointer = pointer }
    public init(_ pointer: UnsafePointer<Element>) { self.pointer = UnsafeMutablePointer(mutating: pointer) }
}
