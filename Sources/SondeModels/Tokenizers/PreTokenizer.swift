/// One step of a tokenizer's pre-tokenizer: splits aligned text into the pieces the subword
/// model sees.
enum PreTokenizer {
    /// GPT-2's: optional prefix space, the GPT-2 split pattern, bytes mapped to printable characters.
    case byteLevel(addPrefixSpace: Bool, useRegex: Bool)
    /// BERT's: split on whitespace, every punctuation character a piece of its own.
    case bert
    /// `\w+|[^\w\s]+`.
    case whitespace
    case whitespaceSplit
    /// Llama-3's and Qwen2's regex splits, and any other pattern.
    case split(TextPattern, behavior: SplitBehavior, invert: Bool)
    /// SentencePiece's: spaces become the replacement, which also starts the text (`always`, or
    /// `first`: only the text's first piece), and the text splits before each replacement.
    case metaspace(replacement: Unicode.Scalar, prependFirst: Bool, prependAll: Bool, split: Bool)
    /// Runs of digits (or each digit) as pieces of their own.
    case digits(individually: Bool)

    /// What happens to a split pattern's matches (`tokenizers`' SplitDelimiterBehavior).
    enum SplitBehavior: String {
        case removed, isolated, contiguous
        case mergedWithPrevious = "merged_with_previous"
        case mergedWithNext = "merged_with_next"
    }

    static let supported = "ByteLevel, BertPreTokenizer, Whitespace, WhitespaceSplit, Split, Metaspace, Digits, Sequence"

    static func parse(_ value: Any?, at path: String, file: String) throws -> [PreTokenizer] {
        guard let json = value as? [String: Any] else { return [] }
        switch json["type"] as? String {
        case "ByteLevel":
            return [.byteLevel(addPrefixSpace: (json["add_prefix_space"] as? Bool) ?? true, useRegex: (json["use_regex"] as? Bool) ?? true)]
        case "BertPreTokenizer": return [.bert]
        case "Whitespace": return [.whitespace]
        case "WhitespaceSplit": return [.whitespaceSplit]
        case "Split":
            let name = (json["behavior"] as? String) ?? "Isolated"
            let snake = name.reduce(into: "") { out, c in out += c.isUppercase ? (out.isEmpty ? "" : "_") + c.lowercased() : String(c) }
            guard let behavior = SplitBehavior(rawValue: snake) else {
                throw ModelError(
                    .unsupported, file,
                    "\(path).behavior: '\(name)' is not supported (Removed, Isolated, MergedWithPrevious, MergedWithNext, Contiguous)")
            }
            return [
                .split(
                    try TextPattern(json: json["pattern"], at: path + ".pattern", file: file), behavior: behavior,
                    invert: (json["invert"] as? Bool) ?? false)
            ]
        case "Metaspace":
            let replacement = (json["replacement"] as? String) ?? "▁"
            guard replacement.unicodeScalars.count == 1, let r = replacement.unicodeScalars.first else {
                throw ModelError(.unsupported, file, "\(path).replacement: \(replacement.debugDescription) is not one character")
            }
            let scheme = (json["prepend_scheme"] as? String) ?? (((json["add_prefix_space"] as? Bool) ?? true) ? "always" : "never")
            guard ["always", "first", "never"].contains(scheme) else {
                throw ModelError(.unsupported, file, "\(path).prepend_scheme: '\(scheme)' is not always, first or never")
            }
            return [
                .metaspace(replacement: r, prependFirst: scheme == "first", prependAll: scheme == "always", split: (json["split"] as? Bool) ?? true)
            ]
        case "Digits": return [.digits(individually: (json["individual_digits"] as? Bool) ?? false)]
        case "Sequence":
            return try ((json["pretokenizers"] as? [Any]) ?? []).enumerated().flatMap {
                try parse($1, at: path + ".pretokenizers[\($0)]", file: file)
            }
        case let other:
            throw ModelError(.unsupported, file, "\(path).type: '\(other ?? "?")' is not supported (\(supported))")
        }
    }

    func split(_ text: AlignedText) -> [AlignedText] {
        switch self {
        case .byteLevel(let addPrefixSpace, let useRegex):
            var text = text
            if addPrefixSpace && text.scalars.first != " " {
                // As tokenizers aligns it: with the first character.
                text = AlignedText(scalars: [" "] + text.scalars, origins: [text.origins.first ?? 0..<0] + text.origins)
            }
            let pieces = useRegex ? gpt2Split(text.scalars).map { text[$0] } : [text]
            return pieces.map { piece in
                var bytes = AlignedText(scalars: [], origins: [])
                bytes.scalars.reserveCapacity(piece.scalars.count)
                bytes.origins.reserveCapacity(piece.scalars.count)
                for (s, origin) in zip(piece.scalars, piece.origins) {
                    if s.isASCII {
                        bytes.scalars.append(byteAlphabet[Int(s.value)])
                        bytes.origins.append(origin)
                    } else {
                        for b in UTF8.encode(s)! {
                            bytes.scalars.append(byteAlphabet[Int(b)])
                            bytes.origins.append(origin)
                        }
                    }
                }
                return bytes
            }
        case .bert:
            return runs(text) { s in s.properties.isWhitespace ? nil : isPunctuation(s) ? -Int(s.value) - 1 : 0 }
        case .whitespace:
            return runs(text) { s in s.properties.isWhitespace ? nil : isWordCharacter(s) ? 1 : 0 }
        case .whitespaceSplit:
            return runs(text) { s in s.properties.isWhitespace ? nil : 0 }
        case .split(let pattern, let behavior, let invert):
            var segments: [(range: Range<Int>, isMatch: Bool)] = []
            var last = 0
            for match in text.matches(of: pattern) {
                if match.lowerBound > last { segments.append((last..<match.lowerBound, invert)) }
                segments.append((match, !invert))
                last = match.upperBound
            }
            if last < text.scalars.count { segments.append((last..<text.scalars.count, invert)) }
            var pieces: [Range<Int>] = []
            var pendingNext: Int?
            for (k, segment) in segments.enumerated() {
                switch (behavior, segment.isMatch) {
                case (.removed, true): continue
                case (.mergedWithPrevious, true) where !pieces.isEmpty && !segments[k - 1].isMatch:
                    pieces[pieces.count - 1] = pieces[pieces.count - 1].lowerBound..<segment.range.upperBound
                case (.mergedWithNext, true):
                    // Of a run of matches only the last joins the next piece; the others stand alone.
                    if let start = pendingNext { pieces.append(start..<segment.range.lowerBound) }
                    pendingNext = segment.range.lowerBound
                    continue
                case (.contiguous, true) where k > 0 && segments[k - 1].isMatch:
                    pieces[pieces.count - 1] = pieces[pieces.count - 1].lowerBound..<segment.range.upperBound
                default:
                    pieces.append((pendingNext ?? segment.range.lowerBound)..<segment.range.upperBound)
                    pendingNext = nil
                }
            }
            if let start = pendingNext { pieces.append(start..<text.scalars.count) }
            return pieces.map { text[$0] }
        case .metaspace(let replacement, let prependFirst, let prependAll, let split):
            var text = text.mappingScalars { $0 == " " ? [replacement] : [$0] }
            let first = text.origins.first?.lowerBound == 0
            if (prependAll || (prependFirst && first)) && !text.isEmpty && text.scalars.first != replacement {
                text = Normalizer.prepend([replacement]).apply(text)
            }
            guard split else { return [text] }
            return PreTokenizer.split(.literal([replacement]), behavior: .mergedWithNext, invert: false).split(text)
        case .digits(let individually):
            return runs(text, keepAll: true) { isNumeric($0) ? 1 : 0 }.flatMap { piece in
                individually && piece.scalars.first.map(isNumeric) == true ? piece.scalars.indices.map { piece[$0..<($0 + 1)] } : [piece]
            }
        }
    }

    /// Maximal runs of scalars of one class (nil: a separator, dropped unless `keepAll`);
    /// negative classes are pieces of one scalar each.
    private func runs(_ text: AlignedText, keepAll: Bool = false, _ kind: (Unicode.Scalar) -> Int?) -> [AlignedText] {
        var pieces: [AlignedText] = []
        var start = 0
        var current: Int??
        for (i, s) in text.scalars.enumerated() {
            let k = kind(s)
            if i > start, current != .some(k) || (k ?? 0) < 0 {
                if current! != nil || keepAll { pieces.append(text[start..<i]) }
                start = i
            }
            current = .some(k)
        }
        if start < text.scalars.count, current! != nil || keepAll { pieces.append(text[start..<text.scalars.count]) }
        return pieces
    }
}

/// GPT-2's split pattern, written out, as ranges of `s`:
/// `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`.
func gpt2Split(_ s: [Unicode.Scalar]) -> [Range<Int>] {
    enum Class { case letter, number, space, other }
    func kind(_ s: Unicode.Scalar) -> Class {
        if s.properties.isWhitespace { return .space }
        switch s.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter: return .letter
        case .decimalNumber, .letterNumber, .otherNumber: return .number
        default: return .other
        }
    }
    let kinds = s.map(kind)
    var pieces: [Range<Int>] = []
    var i = 0
    func take(_ end: Int) { pieces.append(i..<end); i = end }
    while i < s.count {
        if s[i] == "'" && i + 1 < s.count {
            let next = s[i + 1]
            if next == "s" || next == "t" || next == "m" || next == "d" { take(i + 2); continue }
            if i + 2 < s.count {
                let pair = String(String.UnicodeScalarView([next, s[i + 2]]))
                if pair == "re" || pair == "ve" || pair == "ll" { take(i + 3); continue }
            }
        }
        let start = s[i] == " " && i + 1 < s.count && kinds[i + 1] != .space ? i + 1 : i
        if kinds[start] != .space {
            let k = kinds[start]
            var end = start + 1
            while end < s.count && kinds[end] == k { end += 1 }
            take(end)
            continue
        }
        var end = i
        while end < s.count && kinds[end] == .space { end += 1 }
        // `\s+(?!\S)` leaves the last space to the next piece when a non-space follows.
        if end < s.count && end - i >= 2 { end -= 1 }
        take(end)
    }
    return pieces
}

/// GPT-2's byte → printable character table (`bytes_to_unicode`).
let byteAlphabet: [Unicode.Scalar] = {
    var table = [Unicode.Scalar](repeating: " ", count: 256)
    var next: UInt32 = 256
    for b in 0..<256 {
        let printable = (33...126).contains(b) || (161...172).contains(b) || (174...255).contains(b)
        if printable { table[b] = Unicode.Scalar(UInt32(b))! } else { table[b] = Unicode.Scalar(next)!; next += 1 }
    }
    return table
}()

private func isPunctuation(_ s: Unicode.Scalar) -> Bool {
    if s.isASCII { return (33...47).contains(s.value) || (58...64).contains(s.value) || (91...96).contains(s.value) || (123...126).contains(s.value) }
    switch s.properties.generalCategory {
    case .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation, .initialPunctuation, .finalPunctuation, .otherPunctuation:
        return true
    default: return false
    }
}

/// Rust regex's `\w`: Alphabetic, marks, decimal digits, connector punctuation, joiners.
func isWordCharacter(_ s: Unicode.Scalar) -> Bool {
    if s.properties.isAlphabetic || s.properties.isJoinControl { return true }
    switch s.properties.generalCategory {
    case .decimalNumber, .nonspacingMark, .spacingMark, .enclosingMark, .connectorPunctuation: return true
    default: return false
    }
}

/// Rust's `char::is_numeric`: the general categories Nd, Nl and No.
private func isNumeric(_ s: Unicode.Scalar) -> Bool {
    switch s.properties.generalCategory {
    case .decimalNumber, .letterNumber, .otherNumber: return true
    default: return false
    }
}

/// The split patterns of the published tokenizers, matched by hand (Swift's Regex took twice as
/// long as the whole `tokenizers` library did): each splits text into ranges as Oniguruma's
/// leftmost-first alternation does, which the tests check against `tokenizers` on every EWT dev
/// sentence. Other patterns go through Regex.
enum KnownSplit {
    case gpt2
    /// Llama-3 (`\p{N}{1,3}`) and Qwen2 (`\p{N}`): the same pattern but for digit runs.
    case llama3(digits: Int)

    static let sources: [String: KnownSplit] = [
        #"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"#: .gpt2,
        #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#: .llama3(digits: 3),
        #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#: .llama3(digits: 1),
    ]

    init?(_ source: String) {
        guard let known = Self.sources[source] else { return nil }
        self = known
    }

    func ranges(_ s: [Unicode.Scalar]) -> [Range<Int>] {
        switch self {
        case .gpt2: return gpt2Split(s)
        case .llama3(let digits): return llama3Split(s, digits: digits)
        }
    }
}

/// `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,D}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`.
func llama3Split(_ s: [Unicode.Scalar], digits: Int) -> [Range<Int>] {
    func isLetter(_ c: Unicode.Scalar) -> Bool {
        switch c.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter: return true
        default: return false
        }
    }
    func isNumber(_ c: Unicode.Scalar) -> Bool {
        switch c.properties.generalCategory {
        case .decimalNumber, .letterNumber, .otherNumber: return true
        default: return false
        }
    }
    func isSpace(_ c: Unicode.Scalar) -> Bool { c.properties.isWhitespace }
    func isNewline(_ c: Unicode.Scalar) -> Bool { c == "\r" || c == "\n" }
    let n = s.count
    var pieces: [Range<Int>] = []
    var i = 0
    while i < n {
        var end: Int?
        // (?i:'s|'t|'re|'ve|'m|'ll|'d)
        if s[i] == "'", i + 1 < n {
            let a = String(s[i + 1]).lowercased()
            if ["s", "t", "m", "d"].contains(a) {
                end = i + 2
            } else if i + 2 < n, ["re", "ve", "ll"].contains(a + String(s[i + 2]).lowercased()) {
                end = i + 3
            }
        }
        // [^\r\n\p{L}\p{N}]?\p{L}+
        if end == nil {
            var k = i
            if !isLetter(s[k]) && !isNumber(s[k]) && !isNewline(s[k]) && k + 1 < n && isLetter(s[k + 1]) { k += 1 }
            if isLetter(s[k]) {
                while k < n && isLetter(s[k]) { k += 1 }
                end = k
            }
        }
        // \p{N}{1,D}
        if end == nil, isNumber(s[i]) {
            var k = i
            while k < n && k - i < digits && isNumber(s[k]) { k += 1 }
            end = k
        }
        //  ?[^\s\p{L}\p{N}]+[\r\n]*
        if end == nil {
            var k = i
            if s[k] == " " && k + 1 < n { k += 1 }
            func other(_ c: Unicode.Scalar) -> Bool { !isSpace(c) && !isLetter(c) && !isNumber(c) }
            if other(s[k]) {
                while k < n && other(s[k]) { k += 1 }
                while k < n && isNewline(s[k]) { k += 1 }
                end = k
            }
        }
        if end == nil, isSpace(s[i]) {
            var j = i
            while j < n && isSpace(s[j]) { j += 1 }
            if let last = (i..<j).last(where: { isNewline(s[$0]) }) {
                end = last + 1  // \s*[\r\n]+
            } else if j == n || j - 1 > i {
                end = j == n ? j : j - 1  // \s+(?!\S)
            } else {
                end = j  // \s+
            }
        }
        let stop = end ?? i + 1
        pieces.append(i..<stop)
        i = stop
    }
    return pieces
}
