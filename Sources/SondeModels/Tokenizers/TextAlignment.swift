/// Words encoded as the text they make (`--alignment text`): the sentence is the words joined by
/// a space (none where the treebank says `SpaceAfter=No`), encoded whole as the model saw text in
/// training, and each word gets the tokens whose first non-space character falls inside it (a
/// token of spaces alone goes with the next word) — a word inside another word's token (a
/// contraction merged across the boundary) shares that token.
public struct TextAlignment: Sendable, Equatable {
    /// The sentence's tokens, the post-processor's special tokens included.
    public let tokens: [Tokenizer.Token]
    /// Each word's tokens, as a range of `tokens`.
    public let words: [Range<Int>]
    public let text: String

    /// - Parameter specials: with the post-processor's special tokens (as `tokenizers` encodes).
    public init(words: [String], spaceAfter: [Bool], tokenizer: Tokenizer, specials: Bool = true) {
        precondition(words.count == spaceAfter.count)
        var text = ""
        var ranges: [Range<Int>] = []
        var position = 0
        for (k, word) in words.enumerated() {
            let count = word.unicodeScalars.count
            ranges.append(position..<(position + count))
            text += word
            position += count
            if spaceAfter[k] && k < words.count - 1 {
                text += " "
                position += 1
            }
        }
        let scalars = Array(text.unicodeScalars)
        let tokens = tokenizer.encode(text: text, specials: specials)
        // Each token's word: the one holding its first non-space character, or the next word
        // for a token of spaces alone (BPE without a merge for " :" gives " " and ":").
        var owner = [Int?](repeating: nil, count: tokens.count)
        var w = 0
        for (t, token) in tokens.enumerated() where !token.characters.isEmpty && !ranges.isEmpty {
            let first = token.characters.first { !scalars[$0].properties.isWhitespace } ?? token.characters.upperBound
            while w < ranges.count - 1 && first >= ranges[w].upperBound { w += 1 }
            owner[t] = w
        }
        // Owners never decrease along the tokens: each word's own tokens are one run.
        var own = [Range<Int>?](repeating: nil, count: ranges.count)
        for (t, o) in owner.enumerated() {
            if let o { own[o] = (own[o]?.lowerBound ?? t)..<(t + 1) }
        }
        self.words = ranges.enumerated().map { k, range in
            if let span = own[k] { return span }
            // No token starts in this word: the token covering its first character.
            guard let covering = tokens.indices.first(where: { tokens[$0].characters.contains(range.lowerBound) }) else { return 0..<0 }
            return covering..<(covering + 1)
        }
        self.tokens = tokens
        self.text = text
    }
}
