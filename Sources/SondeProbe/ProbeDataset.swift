import SondeLinalg

/// Activations (tokens × neurons, row-major Float) with one class per row.
public struct ProbeDataset: Sendable {
    public let x: Matrix<Float>
    /// The class of each row, an index into `classes`; -1 for a label the probe has not seen
    /// in training (such rows always count as errors, and are reported).
    public let labels: [Int]
    public let classes: [String]

    public init(x: Matrix<Float>, labels: [Int], classes: [String]) {
        precondition(labels.count == x.rows, "\(labels.count) labels for \(x.rows) rows")
        precondition(labels.allSatisfy { $0 >= -1 && $0 < classes.count }, "label index out of range")
        self.x = x
        self.labels = labels
        self.classes = classes
    }

    /// Encodes string labels. With `classes` nil the classes are the sorted distinct labels;
    /// otherwise labels outside `classes` become -1 and are counted in `unseen`.
    public init(x: Matrix<Float>, labels: [String], classes: [String]? = nil) {
        let classList = classes ?? Array(Set(labels)).sorted()
        var index: [String: Int] = [:]
        for (i, c) in classList.enumerated() { index[c] = i }
        self.init(x: x, labels: labels.map { index[$0] ?? -1 }, classes: classList)
    }

    public var count: Int { labels.count }
    public var neurons: Int { x.columns }
    /// Rows whose label is not one of `classes`.
    public var unseenCount: Int { labels.reduce(0) { $0 + ($1 < 0 ? 1 : 0) } }

    /// Rows per class.
    public var classCounts: [Int] {
        var counts = [Int](repeating: 0, count: classes.count)
        for y in labels where y >= 0 { counts[y] += 1 }
        return counts
    }

    /// Each class's mean row (classes × neurons, Double; a class without rows has zeros) and the
    /// rows per class: what mean-difference rankings and erasers start from.
    public func classMeans() -> (means: Matrix<Double>, counts: [Int]) {
        let (c, d) = (classes.count, neurons)
        var sums = Matrix<Double>(rows: c, columns: d)
        sums.withUnsafeMutableBufferPointer { s in
            x.withUnsafeBufferPointer { a in
                for (i, y) in labels.enumerated() where y >= 0 {
                    for j in 0..<d { s[y * d + j] += Double(a[i * d + j]) }
                }
            }
        }
        let counts = classCounts
        for y in 0..<c where counts[y] > 0 {
            for j in 0..<d { sums[y, j] /= Double(counts[y]) }
        }
        return (sums, counts)
    }
}
