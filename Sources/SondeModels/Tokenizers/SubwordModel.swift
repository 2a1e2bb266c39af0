import Foundation

/// The subword model of a tokenizer.json: byte-pair encoding or WordPiece. A piece becomes
/// tokens, each with the range of the piece's scalars it covers.
enum SubwordModel {
    case bpe(BytePairEncoding)
    case wordPiece(vocabulary: [ExactText: Int], prefix: String, maxCharacters: Int)

    func encode(_ piece: [Unicode.Scalar], unknown: Int?) -> [(id: Int, scalars: Range<Int>)] {
        switch self {
        case .bpe(let bpe): return bpe.encode(piece, unknown: unknown)
        case .wordPiece(let vocabulary, let prefix, let maxCharacters):
            let whole = [(id: unknown ?? -1, scalars: 0..<piece.count)].filter { $0.id >= 0 }
            if piece.count > maxCharacters { return whole }
            var result: [(id: Int, scalars: Range<Int>)] = []
            var start = 0
            while start < piece.count {
                var end = piece.count
                var found: Int?
                while end > start {
                    let candidate = (start > 0 ? prefix : "") + String(String.UnicodeScalarView(piece[start..<end]))
                    if let id = vocabulary[ExactText(candidate)] { found = id; break }
                    end -= 1
                }
                guard let id = found else { return whole }
                result.append((id, start..<end))
                start = end
            }
            return result
        }
    }
}

/// Byte-pair encoding: a piece starts as its scalars and the pair with the lowest merge rank is
/// merged until none is left (the GPT-2 algorithm; ties go to the leftmost pair). SentencePiece's
/// conversions add `byte_fallback` (an unknown scalar becomes its UTF-8 bytes' `<0xNN>` tokens),
/// `fuse_unk` (a run of unknowns is one unknown token), and Llama-3's `ignore_merges` (a piece
/// in the vocabulary is one token, merges or not).
struct BytePairEncoding {
    private let vocabulary: [ExactText: Int]
    /// (left id, right id) → (rank, merged id).
    private let merges: [Int64: (rank: Int, id: Int)]
    private let continuingPrefix: String
    private let endOfWordSuffix: String
    private let byteFallback: [Int]?
    private let fuseUnknown: Bool
    private let ignoreMerges: Bool
    /// Single-scalar tokens by scalar, when no prefix or suffix decorates the first symbols.
    private let scalarIDs: [Unicode.Scalar: Int]?

    init(model: [String: Any], vocabulary: [ExactText: Int], at path: String, file: String) throws {
        self.vocabulary = vocabulary
        continuingPrefix = (model["continuing_subword_prefix"] as? String) ?? ""
        endOfWordSuffix = (model["end_of_word_suffix"] as? String) ?? ""
        fuseUnknown = (model["fuse_unk"] as? Bool) ?? false
        ignoreMerges = (model["ignore_merges"] as? Bool) ?? false
        if let dropout = model["dropout"] as? Double, dropout > 0 {
            throw ModelError(.unsupported, file, "\(path).dropout: \(dropout) makes encodings random; Sonde encodes without BPE dropout")
        }
        if (model["byte_fallback"] as? Bool) == true {
            var bytes: [Int] = []
            for b in 0..<256 {
                let name = String(format: "<0x%02X>", b)
                guard let id = vocabulary[ExactText(name)] else {
                    throw ModelError(.malformed, file, "\(path).byte_fallback: true, but the vocabulary has no \(name) token")
                }
                bytes.append(id)
            }
            byteFallback = bytes
        } else {
            byteFallback = nil
        }
        var merges: [Int64: (rank: Int, id: Int)] = [:]
        for (rank, entry) in ((model["merges"] as? [Any]) ?? []).enumerated() {
            let parts: [String]
            if let pair = entry as? [String] {
                parts = pair
            } else if let text = entry as? String {
                parts = text.split(separator: " ", maxSplits: 1).map(String.init)
            } else {
                parts = []
            }
            guard parts.count == 2, let a = vocabulary[ExactText(parts[0])], let b = vocabulary[ExactText(parts[1])] else {
                throw ModelError(.malformed, file, "\(path).merges[\(rank)]: not a pair of vocabulary tokens")
            }
            let right = parts[1].hasPrefix(continuingPrefix) ? String(parts[1].dropFirst(continuingPrefix.count)) : parts[1]
            guard let merged = vocabulary[ExactText(parts[0] + right)] else {
                throw ModelError(.malformed, file, "\(path).merges[\(rank)]: makes '\(parts[0] + right)', which is not in the vocabulary")
            }
            let key = Int64(a) << 32 | Int64(b)
            merges[key] = (rank, merged)  // a pair listed twice takes its last rank, as tokenizers' map does
        }
        self.merges = merges
        if continuingPrefix.isEmpty && endOfWordSuffix.isEmpty {
            var ids: [Unicode.Scalar: Int] = [:]
            for (token, id) in vocabulary {
                guard let text = String(bytes: token.bytes, encoding: .utf8), text.unicodeScalars.count == 1 else { continue }
                ids[text.unicodeScalars.first!] = id
            }
            scalarIDs = ids
        } else {
            scalarIDs = nil
        }
    }

    func encode(_ piece: [Unicode.Scalar], unknown: Int?) -> [(id: Int, scalars: Range<Int>)] {
        if ignoreMerges, let id = vocabulary[ExactText(piece[...])] { return [(id, 0..<piece.count)] }
        var symbols: [(id: Int, scalars: Range<Int>)] = []
        symbols.reserveCapacity(piece.count)
        var lastUnknown = false
        for (i, s) in piece.enumerated() {
            let known: Int?
            if let scalarIDs {
                known = scalarIDs[s]
            } else {
                var text = String(s)
                if i > 0 { text = continuingPrefix + text }
                if i == piece.count - 1 { text += endOfWordSuffix }
                known = vocabulary[ExactText(text)]
            }
            if let id = known {
                symbols.append((id, i..<(i + 1)))
                lastUnknown = false
            } else if let byteFallback {
                let decorated = (i > 0 ? continuingPrefix : "") + String(s) + (i == piece.count - 1 ? endOfWordSuffix : "")
                for b in decorated.utf8 { symbols.append((byteFallback[Int(b)], i..<(i + 1))) }
                lastUnknown = false
            } else if let unknown {
                if fuseUnknown && lastUnknown {
                    symbols[symbols.count - 1].scalars = symbols[symbols.count - 1].scalars.lowerBound..<(i + 1)
                } else {
                    symbols.append((unknown, i..<(i + 1)))
                }
                lastUnknown = true
            }
        }
        return merge(symbols)
    }

    /// Applies the merges lowest rank first, ties to the leftmost pair (as `tokenizers` does),
    /// with the symbols in a linked list and the candidate pairs in a heap: O(n log n) for a
    /// SentencePiece-style sentence that is one piece of a hundred symbols.
    private func merge(_ initial: [(id: Int, scalars: Range<Int>)]) -> [(id: Int, scalars: Range<Int>)] {
        var symbols = initial
        let n = symbols.count
        guard n > 1 else { return symbols }
        var next = Array(1...n), previous = Array(-1..<(n - 1))
        var alive = [Bool](repeating: true, count: n)
        var heap = MergeHeap()
        func candidate(_ left: Int) {
            let right = next[left]
            guard right < n, let merge = merges[Int64(symbols[left].id) << 32 | Int64(symbols[right].id)] else { return }
            heap.push((merge.rank, left, symbols[left].id, symbols[right].id))
        }
        for k in 0..<(n - 1) { candidate(k) }
        while let (_, left, leftID, rightID) = heap.pop() {
            // Stale entries: either side merged away or changed since the pair was pushed.
            guard alive[left], symbols[left].id == leftID, next[left] < n else { continue }
            let right = next[left]
            guard alive[right], symbols[right].id == rightID, let merge = merges[Int64(leftID) << 32 | Int64(rightID)] else { continue }
            symbols[left] = (merge.id, symbols[left].scalars.lowerBound..<symbols[right].scalars.upperBound)
            alive[right] = false
            next[left] = next[right]
            if next[right] < n { previous[next[right]] = left }
            if previous[left] >= 0 { candidate(previous[left]) }
            candidate(left)
        }
        var result: [(id: Int, scalars: Range<Int>)] = []
        var k = 0
        while k < n {
            result.append(symbols[k])
            k = next[k]
        }
        return result
    }
}

/// A binary min-heap of candidate merges ordered by (rank, left position).
private struct MergeHeap {
    private var items: [(rank: Int, left: Int, leftID: Int, rightID: Int)] = []

    private func less(_ a: Int, _ b: Int) -> Bool { (items[a].rank, items[a].left) < (items[b].rank, items[b].left) }

    mutating func push(_ item: (rank: Int, left: Int, leftID: Int, rightID: Int)) {
        items.append(item)
        var k = items.count - 1
        while k > 0, less(k, (k - 1) / 2) {
            items.swapAt(k, (k - 1) / 2)
            k = (k - 1) / 2
        }
    }

    mutating func pop() -> (rank: Int, left: Int, leftID: Int, rightID: Int)? {
        guard let top = items.first else { return nil }
        let last = items.removeLast()
        if !items.isEmpty {
            items[0] = last
            var k = 0
            while true {
                let (a, b) = (2 * k + 1, 2 * k + 2)
                var smallest = k
                if a < items.count, less(a, smallest) { smallest = a }
                if b < items.count, less(b, smallest) { smallest = b }
                if smallest == k { break }
                items.swapAt(k, smallest)
                k = smallest
            }
        }
        return top
    }
}
