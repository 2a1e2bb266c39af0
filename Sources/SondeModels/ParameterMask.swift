import SondeBase

/// Which parameters a gradient-differential update may change: indices into the flat parameter
/// vector, ascending.
public struct ParameterMask: Sendable, Equatable {
    public let indices: [Int]
    /// Parameters in all.
    public let parameters: Int

    public var share: Double { Double(indices.count) / Double(max(parameters, 1)) }

    /// The `share` largest |Δg| (at least one): over all parameters, or `perTensor` the same share
    /// of each tensor. Ties are broken by the lower index (a stable sort by |Δg| descending).
    public static func top(_ gradient: [Float], share: Double, perTensor: [Range<Int>]? = nil) -> ParameterMask {
        func chosen(_ range: Range<Int>) -> [Int] {
            let k = max(1, min(range.count, Int((share * Double(range.count)).rounded())))
            if k == range.count { return Array(range) }
            // The k-th largest magnitude, then every index above it and, in index order, as many
            // of those equal to it as fit (a sort of plain Floats: far cheaper than of indices).
            var magnitudes = range.map { abs(gradient[$0]) }
            let threshold = kthLargest(&magnitudes, k)
            let above = range.filter { abs(gradient[$0]) > threshold }
            return above + range.lazy.filter { abs(gradient[$0]) == threshold }.prefix(k - above.count)
        }
        let picked = (perTensor ?? [0..<gradient.count]).flatMap(chosen)
        return ParameterMask(indices: picked.sorted(), parameters: gradient.count)
    }

    /// The k-th largest of `values` (k from 1), by quickselect (it reorders `values`): linear
    /// time, where sorting 3 million magnitudes per mask took a second.
    static func kthLargest(_ values: inout [Float], _ k: Int) -> Float {
        var (low, high, target) = (0, values.count - 1, k - 1)
        var generator = SplitMix64(seed: 1)
        while low < high {
            let pivot = values[low + generator.below(high - low + 1)]
            var (i, j) = (low, high)
            while i <= j {
                while values[i] > pivot { i += 1 }
                while values[j] < pivot { j -= 1 }
                if i <= j { values.swapAt(i, j); i += 1; j -= 1 }
            }
            if target <= j { high = j } else if target >= i { low = i } else { return values[target] }
        }
        return values[target]
    }

    /// `count` parameters drawn uniformly without replacement (the random-mask null).
    public static func random(count: Int, parameters: Int, seed: UInt64) -> ParameterMask {
        var generator = SplitMix64(seed: seed)
        return ParameterMask(indices: Array(generator.shuffled(Array(0..<parameters)).prefix(count)).sorted(), parameters: parameters)
    }

    public static func all(_ parameters: Int) -> ParameterMask { ParameterMask(indices: Array(0..<parameters), parameters: parameters) }
}
