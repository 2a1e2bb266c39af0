/// A token of tokenizer.json's `added_tokens`: found in the text before the subword model runs
/// (in the raw text, or in the normalised text when `normalized`), leftmost and longest first;
/// `lstrip`/`rstrip` take the whitespace beside it into the token, `single_word` only matches it
/// between non-word characters.
struct AddedToken {
    let id: Int
    let content: String
    /// What is matched: the content, normalised for a `normalized` token (`normalizing(with:)`).
    private(set) var scalars: [Unicode.Scalar]
    let normalized: Bool
    let leftStrip: Bool
    let rightStrip: Bool
    let singleWord: Bool

    /// The longest added token a tokenizer.json may hold (published ones are under 100 characters).
    static let maximumLength = 1024

    init(json: Any, at path: String, file: String) throws {
        guard let object = json as? [String: Any], let id = object["id"] as? Int, let content = object["content"] as? String else {
            throw ModelError(.malformed, file, "\(path): expected an object with an integer id and a content string")
        }
        guard !content.isEmpty, content.unicodeScalars.count <= Self.maximumLength else {
            throw ModelError(.malformed, file, "\(path).content: empty or longer than \(Self.maximumLength) characters")
        }
        (self.id, self.content, scalars) = (id, content, Array(content.unicodeScalars))
        let special = (object["special"] as? Bool) ?? false
        normalized = (object["normalized"] as? Bool) ?? !special
        leftStrip = (object["lstrip"] as? Bool) ?? false
        rightStrip = (object["rstrip"] as? Bool) ?? false
        singleWord = (object["single_word"] as? Bool) ?? false
    }

    /// A `normalized` token as it appears in normalised text: its content through `normalizers`
    /// (NFC makes "cafe\u{301}" match "café").
    func normalizing(with normalizers: [Normalizer]) -> AddedToken {
        guard normalized else { return self }
        var text = AlignedText(content.unicodeScalars)
        for step in normalizers { text = step.apply(text) }
        var token = self
        if !text.isEmpty { token.scalars = text.scalars }
        return token
    }

    enum Segment {
        case text(AlignedText)
        case added(AddedToken, characters: Range<Int>)
    }

    /// Added tokens by their first scalar, longest first: what `split` looks for at a position.
    static func index(_ tokens: [AddedToken]) -> [Unicode.Scalar: [AddedToken]] {
        Dictionary(grouping: tokens.sorted { $0.scalars.count > $1.scalars.count }, by: { $0.scalars[0] })
    }

    /// `text` cut at the added tokens of `tokens` (an `index`) it holds.
    static func split(_ text: AlignedText, by tokens: [Unicode.Scalar: [AddedToken]]) -> [Segment] {
        guard !tokens.isEmpty, !text.isEmpty else { return text.isEmpty ? [] : [.text(text)] }
        let s = text.scalars
        var segments: [Segment] = []
        var (start, i) = (0, 0)
        func isWord(_ k: Int) -> Bool { k >= 0 && k < s.count && isWordCharacter(s[k]) }
        while i < s.count {
            // Leftmost-longest, as tokenizers' automaton: a single_word token beside a word
            // character is no match, and the search goes on after it.
            guard
                let token = tokens[s[i]]?.first(where: { t in i + t.scalars.count <= s.count && s[i..<(i + t.scalars.count)].elementsEqual(t.scalars)
                })
            else {
                i += 1
                continue
            }
            if token.singleWord && (isWord(i - 1) || isWord(i + token.scalars.count)) {
                i += token.scalars.count
                continue
            }
            var (lower, upper) = (i, i + token.scalars.count)
            if token.leftStrip { while lower > start, s[lower - 1].properties.isWhitespace { lower -= 1 } }
            if token.rightStrip { while upper < s.count, s[upper].properties.isWhitespace { upper += 1 } }
            if lower > start { segments.append(.text(text[start..<lower])) }
            segments.append(.added(token, characters: text.origin(of: lower..<upper)))
            (start, i) = (upper, upper)
        }
        if start < s.count { segments.append(.text(text[start..<s.count])) }
        return segments
    }
}
