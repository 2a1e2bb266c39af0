// How much two rankings, sets of neurons or lists of numbers agree, and how concentrated a
// vector is: the small statistics the comparator, the task spaces and the models share.

/// |A ∩ B| / |A ∪ B|; 1 for two empty sets.
public func jaccard<T: Hashable>(_ a: Set<T>, _ b: Set<T>) -> Double {
    let union = a.union(b).count
    return union == 0 ? 1 : Double(a.intersection(b).count) / Double(union)
}

/// The Jaccard overlap of the first `k` entries of two orderings.
public func jaccard(_ a: [Int], _ b: [Int], k: Int) -> Double { jaccard(Set(a.prefix(k)), Set(b.prefix(k))) }

/// Pearson's correlation of two equally long lists; NaN for fewer than two values or a
/// constant list.
public func pearson(_ x: [Double], _ y: [Double]) -> Double {
    let n = Double(x.count)
    guard x.count > 1 else { return .nan }
    let mx = x.reduce(0, +) / n, my = y.reduce(0, +) / n
    var (sxy, sxx, syy) = (0.0, 0.0, 0.0)
    for (a, b) in zip(x, y) { sxy += (a - mx) * (b - my); sxx += (a - mx) * (a - mx); syy += (b - my) * (b - my) }
    return sxx > 0 && syy > 0 ? sxy / (sxx * syy).squareRoot() : .nan
}

/// 1-based ranks, ties given their mean rank.
public func midRanks(_ x: [Double]) -> [Double] {
    let order = x.indices.sorted { x[$0] < x[$1] }
    var result = [Double](repeating: 0, count: x.count)
    var i = 0
    while i < order.count {
        var j = i
        while j + 1 < order.count && x[order[j + 1]] == x[order[i]] { j += 1 }
        for k in i...j { result[order[k]] = Double(i + j) / 2 + 1 }
        i = j + 1
    }
    return result
}

/// Spearman's rank correlation: Pearson's of the mid-ranks, which without ties is the closed
/// form 1 − 6 Σ dᵢ² / (n (n² − 1)) (used then: exact in the common case of two orderings).
/// NaN for fewer than two values or a constant list.
public func spearman(_ x: [Double], _ y: [Double]) -> Double {
    let (rx, ry) = (midRanks(x), midRanks(y))
    let n = Double(x.count)
    guard x.count > 1, Set(rx).count == x.count, Set(ry).count == y.count else { return pearson(rx, ry) }
    let squares = zip(rx, ry).reduce(0.0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }
    return 1 - 6 * squares / (n * (n * n - 1))
}

/// Spearman's rank correlation of two complete orderings of the same items 0..<n (each lists
/// every item once, first = rank 1); 1 for fewer than two items.
public func rankCorrelation(orderings a: [Int], _ b: [Int]) -> Double {
    precondition(a.count == b.count)
    guard a.count > 1 else { return 1 }
    var rankA = [Double](repeating: 0, count: a.count), rankB = rankA
    for (r, item) in a.enumerated() { rankA[item] = Double(r) }
    for (r, item) in b.enumerated() { rankB[item] = Double(r) }
    return spearman(rankA, rankB)
}

/// How concentrated a vector is: ‖x‖₂ / ‖x‖₁, from 1/√n (spread evenly over n entries) to 1
/// (one entry); 0 for the zero vector. Accumulated in Double, in order.
@inlinable
public func concentration<S: Sequence>(_ x: S) -> Double where S.Element == Float {
    var l1 = 0.0, l2 = 0.0
    for v in x {
        let d = Double(v)
        l1 += abs(d)
        l2 += d * d
    }
    return l1 > 0 ? l2.squareRoot() / l1 : 0
}
