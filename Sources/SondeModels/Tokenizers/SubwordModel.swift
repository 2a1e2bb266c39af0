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
            if merges[key] == nil { merges[key] = (rank, merged) }
        }
        self.merges = merges
    }

    func encode(_ piece: [Unicode.Scalar], unknown: Int?) -> [(id: Int, scalars: Range<Int>)] {
        if ignoreMerges, let id = vocabulary[ExactText(piece[...])] { return [(id, 0..<piece.count)] }
        var symbols: [(id: Int, scalars: Range<Int>)] = []
        symbols.reserveCapacity(piece.count)
        var lastUnknown = false
        for (i, s) in piece.enumerated() {
            var text = String(s)
            if i > 0 { text = continuingPrefix + text }
            if i == piece.count - 1 { text += endOfWordSuffix }
            if let id = vocabulary[ExactText(text)] {
                symbols.append((id, i..<(i + 1)))
                lastUnknown = false
            } else if let byteFallback {
                for b in String(s).utf8 { symbols.append((byteFallback[Int(b)], i..<(i + 1))) }
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
        while symbols.count > 1 {
            var best: (rank: Int, at: Int, id: Int)?
            for i in 0..<(symbols.count - 1) {
                if let merge = merges[Int64(symbols[i].id) << 32 | Int64(symbols[i + 1].id)], merge.rank < (best?.rank ?? .max) {
                    best = (merge.rank, i, merge.id)
                }
            }
            guard let best else { break }
            // Merge every occurrence of the best pair, left to right, without overlaps.
            let (left, right) = (symbols[best.at].id, symbols[best.at + 1].id)
            var merged: [(id: Int, scalars: Range<Int>)] = []
            merged.reserveCapacity(symbols.count)
            var i = 0
            while i < symbols.count {
                if i + 1 < symbols.count && symbols[i].id == left && symbols[i + 1].id == right {
                    merged.append((best.id, symbols[i].scalars.lowerBound..<symbols[i + 1].scalars.upperBound))
                    i += 2
                } else {
                    merged.append(symbols[i])
                    i += 1
                }
            }
            symbols = merged
        }
        return symbols
    }
}
