/// Text on its way through a tokenizer: Unicode scalars, each with the range of the original
/// text's scalars it came from, so that every token can say which characters it covers (what
/// `tokenizers` reports as offsets, in characters).
struct AlignedText {
    var scalars: [Unicode.Scalar]
    var origins: [Range<Int>]

    init(scalars: [Unicode.Scalar], origins: [Range<Int>]) {
        precondition(scalars.count == origins.count)
        (self.scalars, self.origins) = (scalars, origins)
    }

    /// The original text: each scalar comes from itself.
    init<S: Sequence>(_ scalars: S) where S.Element == Unicode.Scalar {
        self.scalars = Array(scalars)
        origins = self.scalars.indices.map { $0..<($0 + 1) }
    }

    var isEmpty: Bool { scalars.isEmpty }
    var string: String { String(String.UnicodeScalarView(scalars)) }

    subscript(range: Range<Int>) -> AlignedText { AlignedText(scalars: Array(scalars[range]), origins: Array(origins[range])) }

    /// The original characters behind `range` of this text (empty ranges where nothing is).
    func origin(of range: Range<Int>) -> Range<Int> {
        var (lower, upper) = (Int.max, Int.min)
        for k in range where !origins[k].isEmpty {
            lower = min(lower, origins[k].lowerBound)
            upper = max(upper, origins[k].upperBound)
        }
        guard lower <= upper else { return range.isEmpty || origins.isEmpty ? 0..<0 : origins[range.lowerBound] }
        return lower..<upper
    }

    /// Each grapheme cluster replaced by `transform` of it alone; its output scalars come from
    /// all of its input (Unicode normalisation and case mapping act within clusters).
    func mappingCharacters(_ transform: (String) -> String) -> AlignedText {
        var result = AlignedText(scalars: [], origins: [])
        var start = 0
        for character in string {
            let count = character.unicodeScalars.count
            let origin = self.origin(of: start..<(start + count))
            for s in transform(String(character)).unicodeScalars {
                result.scalars.append(s)
                result.origins.append(origin)
            }
            start += count
        }
        return result
    }

    /// Each scalar replaced by `transform` of it (nil: removed, several: all from it).
    func mappingScalars(_ transform: (Unicode.Scalar) -> [Unicode.Scalar]?) -> AlignedText {
        var result = AlignedText(scalars: [], origins: [])
        for (s, origin) in zip(scalars, origins) {
            for t in transform(s) ?? [] {
                result.scalars.append(t)
                result.origins.append(origin)
            }
        }
        return result
    }

    /// The ranges (in scalars) where `pattern` matches, left to right, without overlaps.
    func matches(of pattern: TextPattern) -> [Range<Int>] {
        switch pattern {
        case .literal(let literal):
            guard !literal.isEmpty, literal.count <= scalars.count else { return [] }
            var found: [Range<Int>] = []
            var i = 0
            while i + literal.count <= scalars.count {
                if scalars[i] == literal[0] && Array(scalars[i..<(i + literal.count)]) == literal {
                    found.append(i..<(i + literal.count))
                    i += literal.count
                } else {
                    i += 1
                }
            }
            return found
        case .known(let split):
            return split.ranges(scalars)
        case .regex(let regex):
            let text = string
            let view = text.unicodeScalars
            var found: [Range<Int>] = []
            var position = view.startIndex, offset = 0
            for match in text.matches(of: regex) where !match.range.isEmpty {
                let lower = offset + view.distance(from: position, to: match.range.lowerBound)
                let upper = lower + view.distance(from: match.range.lowerBound, to: match.range.upperBound)
                found.append(lower..<upper)
                (position, offset) = (match.range.upperBound, upper)
            }
            return found
        }
    }

    /// Every match of `pattern` replaced by `content`, which comes from the matched characters.
    func replacing(_ pattern: TextPattern, with content: [Unicode.Scalar]) -> AlignedText {
        var result = AlignedText(scalars: [], origins: [])
        var last = 0
        for match in matches(of: pattern) {
            result.scalars += scalars[last..<match.lowerBound]
            result.origins += origins[last..<match.lowerBound]
            let origin = self.origin(of: match)
            result.scalars += content
            result.origins += content.map { _ in origin }
            last = match.upperBound
        }
        result.scalars += scalars[last...]
        result.origins += origins[last...]
        return result
    }
}

/// A `Split` or `Replace` pattern of tokenizer.json: `{"String": …}` or `{"Regex": …}` (matched
/// Unicode scalar by Unicode scalar, as Oniguruma matches code points).
enum TextPattern {
    case literal([Unicode.Scalar])
    /// A published split pattern, matched by hand (`KnownSplit`).
    case known(KnownSplit)
    case regex(Regex<AnyRegexOutput>)

    /// The longest pattern a tokenizer.json may give (the published ones are under 200 characters).
    static let maximumLength = 4096

    init(json: Any?, at path: String, file: String) throws {
        guard let object = json as? [String: Any] else { throw ModelError(.malformed, file, "\(path): expected {\"String\": …} or {\"Regex\": …}") }
        if let literal = object["String"] as? String {
            guard literal.unicodeScalars.count <= Self.maximumLength else {
                throw ModelError(.malformed, file, "\(path).String: longer than \(Self.maximumLength) characters")
            }
            self = .literal(Array(literal.unicodeScalars))
        } else if let source = object["Regex"] as? String {
            guard source.unicodeScalars.count <= Self.maximumLength else {
                throw ModelError(.malformed, file, "\(path).Regex: longer than \(Self.maximumLength) characters")
            }
            if let known = KnownSplit(source) {
                self = .known(known)
                return
            }
            if Self.hasNestedQuantifier(source) {
                throw ModelError(
                    .unsupported, file,
                    "\(path).Regex: \(source.debugDescription) repeats a group that repeats (like (a+)+), which can take exponential time on a stranger's text; Sonde refuses such patterns"
                )
            }
            do {
                self = .regex(try Regex(source).matchingSemantics(.unicodeScalar))
            } catch {
                throw ModelError(.malformed, file, "\(path).Regex: \(source.debugDescription) does not compile (\(error))")
            }
        } else {
            throw ModelError(.malformed, file, "\(path): expected {\"String\": …} or {\"Regex\": …}")
        }
    }

    /// Whether a quantified group holds a quantifier (`(a+)+`, `(?:x*y)*`, `(a|b+){2,}`): the
    /// shape of the patterns whose backtracking is exponential. Escapes and classes are skipped.
    static func hasNestedQuantifier(_ source: String) -> Bool {
        let s = Array(source.unicodeScalars)
        var groups: [Bool] = []  // per open group: whether it holds a quantifier
        var i = 0
        func quantifierFollows(_ k: Int) -> Bool {
            k < s.count && (s[k] == "+" || s[k] == "*" || (s[k] == "{" && k + 1 < s.count && s[k + 1].properties.numericType != nil))
        }
        while i < s.count {
            switch s[i] {
            case "\\": i += 1
            case "[":
                i += 1
                if i < s.count && s[i] == "^" { i += 1 }
                if i < s.count && s[i] == "]" { i += 1 }
                while i < s.count && s[i] != "]" { if s[i] == "\\" { i += 1 }; i += 1 }
            case "(": groups.append(false)
            case ")":
                let inner = groups.popLast() ?? false
                if inner && quantifierFollows(i + 1) { return true }
                if inner || quantifierFollows(i + 1), !groups.isEmpty { groups[groups.count - 1] = true }
            case "+", "*", "{":
                if s[i] != "{" || (i + 1 < s.count && s[i + 1].properties.numericType != nil), !groups.isEmpty { groups[groups.count - 1] = true }
            default: break
            }
            i += 1
        }
        return false
    }
}
