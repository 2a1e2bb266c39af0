import Foundation

/// A Hugging Face `tokenizer.json`: added tokens, normalizer, pre-tokenizer, subword model and
/// post-processor — byte-level BPE (GPT-2, Pythia, RoBERTa, Llama-3, Qwen2), SentencePiece-style
/// BPE with byte fallback (Llama-2, Mistral, Gemma) or WordPiece (BERT). `encode(text:)` gives a
/// sentence's ids with the range of characters each covers, as `tokenizers`' `encode(text)`
/// does; `encode(word:)` one word alone, as transformers encodes pre-split input
/// (`is_split_into_words`). Anything in the file Sonde does not implement is an error naming its
/// JSON path, never a silent difference.
public final class Tokenizer {
    public let path: String
    /// Token string → id, the model's vocabulary plus the added (special) tokens.
    public let ids: [String: Int]
    private let normalizers: [Normalizer]
    private let preTokenizers: [PreTokenizer]
    private let model: SubwordModel
    private let unknownID: Int?
    /// Added tokens matched in the raw text, and in the normalised text (`AddedToken.index`).
    private let rawAddedTokens: [Unicode.Scalar: [AddedToken]]
    private let normalizedAddedTokens: [Unicode.Scalar: [AddedToken]]
    private let postProcessorSpecials: (prefix: [Int], suffix: [Int])?
    /// The largest id of the vocabulary and the added tokens.
    private let largestID: (token: String, id: Int)?
    /// Pre-tokenised pieces already encoded (the same words recur), by their exact scalars.
    private var cache: [[Unicode.Scalar]: [(id: Int, scalars: Range<Int>)]] = [:]

    /// A token of a sentence: its id and the characters (Unicode scalars) of the text it covers
    /// (empty for the post-processor's special tokens).
    public struct Token: Sendable, Equatable {
        public let id: Int
        public let characters: Range<Int>
    }

    public static func read(_ path: String) throws -> Tokenizer {
        try Tokenizer(json: try readJSONObject(path, missing: "cannot read the tokenizer; pass --tokenizer PATH/tokenizer.json"), path: path)
    }

    init(json: [String: Any], path: String) throws {
        self.path = path
        func fail(_ message: String) -> ModelError { ModelError(.malformed, path, message) }
        guard let modelJSON = json["model"] as? [String: Any], let vocabJSON = modelJSON["vocab"] as? NSDictionary else {
            throw fail("model.vocab: missing (a BPE or WordPiece vocabulary object)")
        }
        // Keys compared byte for byte from here on (Swift's String equality is canonical
        // equivalence; tokenizers compares bytes). Foundation's JSON reader has already merged
        // two canonically equal keys ("é" and "e\u{301}") into one, losing an id: the gap check
        // below refuses such a vocabulary rather than encode one of the two with the other's id.
        var vocab: [ExactText: Int] = [:]
        var ids: [String: Int] = [:]
        var largest: (token: String, id: Int)?
        for (key, value) in vocabJSON {
            guard let token = key as? String, let id = value as? Int else { throw fail("model.vocab: \(key) is not a token with an integer id") }
            guard id >= 0 else { throw fail("token \(token.debugDescription) has the negative id \(id)") }
            vocab[ExactText(token)] = id
            ids[token] = id
            if id > largest?.id ?? -1 { largest = (token, id) }
        }
        var added: [AddedToken] = []
        for (k, entry) in ((json["added_tokens"] as? [Any]) ?? []).enumerated() {
            let token = try AddedToken(json: entry, at: "added_tokens[\(k)]", file: path)
            ids[token.content] = token.id
            added.append(token)
            if token.id > largest?.id ?? -1 { largest = (token.content, token.id) }
        }
        largestID = largest
        if let (token, id) = ids.first(where: { $0.value < 0 }) {
            throw fail("token \(token.debugDescription) has the negative id \(id)")
        }
        // Published vocabularies number their tokens 0…N−1 (added tokens included).
        let used = Set(vocab.values).union(added.map(\.id))
        if let top = used.max(), used.count != top + 1 {
            // Some id in 0…count is missing (count + 1 ids, count used): the scan is bounded.
            let missing = (0...used.count).first { !used.contains($0) } ?? 0
            throw fail(
                "model.vocab: no token has id \(missing) though ids run to \(top); two tokens that are the same text in different Unicode forms (é and e + ◌́) read as one here, or the file lost a token"
            )
        }
        self.ids = ids
        normalizers = try Normalizer.parse(json["normalizer"], at: "normalizer", file: path)
        rawAddedTokens = AddedToken.index(added.filter { !$0.normalized })
        normalizedAddedTokens = AddedToken.index(added.filter(\.normalized).map { [normalizers] in $0.normalizing(with: normalizers) })
        preTokenizers = try PreTokenizer.parse(json["pre_tokenizer"], at: "pre_tokenizer", file: path)
        let unknown = modelJSON["unk_token"] as? String
        unknownID = unknown.flatMap { ids[$0] }
        switch modelJSON["type"] as? String {
        case "BPE":
            model = .bpe(try BytePairEncoding(model: modelJSON, vocabulary: vocab, at: "model", file: path))
        case "WordPiece":
            model = .wordPiece(
                vocabulary: vocab, prefix: (modelJSON["continuing_subword_prefix"] as? String) ?? "##",
                maxCharacters: (modelJSON["max_input_chars_per_word"] as? Int) ?? 100)
        case let other:
            throw ModelError(.unsupported, path, "model.type: '\(other ?? "none")' is not supported (BPE, WordPiece)")
        }
        postProcessorSpecials = try Self.specials(of: json["post_processor"], ids: ids, at: "post_processor", path: path)
    }

    /// Checks, once, that every id this tokenizer can produce (its vocabulary, added tokens and
    /// post-processor specials) indexes a row of a `vocabularySize`-row embedding matrix; the
    /// forward pass then trusts the ids.
    public func validate(vocabularySize: Int) throws {
        if let (token, id) = largestID, id >= vocabularySize {
            throw ModelError(
                .malformed, path,
                "token \(token.debugDescription) has id \(id), outside the model's vocabulary of \(vocabularySize); is this the model's tokenizer?")
        }
        let specials = (postProcessorSpecials?.prefix ?? []) + (postProcessorSpecials?.suffix ?? [])
        if let bad = specials.first(where: { !(0..<vocabularySize).contains($0) }) {
            throw ModelError(.malformed, path, "post_processor special token id \(bad) is outside the model's vocabulary of \(vocabularySize)")
        }
    }

    /// The ids of one word: normalised, pre-tokenised and split into subwords. A word that
    /// normalises to nothing (a lone control character) becomes the unknown token, so every word
    /// keeps a vector.
    public func encode(word: String) throws -> [Int] {
        let result = encodeWithoutSpecials(word).map(\.id)
        if result.isEmpty {
            guard let unknownID else {
                throw ModelError(.unsupported, path, "the word \(word.debugDescription) gives no tokens and the tokenizer has no unknown token")
            }
            return [unknownID]
        }
        return result
    }

    /// A sentence's tokens as `tokenizers`' `encode(text)` gives them: added tokens found in the
    /// text, the rest normalised, pre-tokenised and split into subwords, the post-processor's
    /// special tokens around them (`specials`), each token with the characters it covers.
    public func encode(text: String, specials: Bool = true) -> [Token] {
        let tokens = encodeWithoutSpecials(text)
        guard specials, let (prefix, suffix) = postProcessorSpecials else { return tokens }
        return prefix.map { Token(id: $0, characters: 0..<0) } + tokens + suffix.map { Token(id: $0, characters: 0..<0) }
    }

    private func encodeWithoutSpecials(_ text: String) -> [Token] {
        var result: [Token] = []
        for segment in AddedToken.split(AlignedText(text.unicodeScalars), by: rawAddedTokens) {
            switch segment {
            case .added(let token, let characters): result.append(Token(id: token.id, characters: characters))
            case .text(let part):
                var normalized = part
                for step in normalizers { normalized = step.apply(normalized) }
                for inner in AddedToken.split(normalized, by: normalizedAddedTokens) {
                    switch inner {
                    case .added(let token, let characters): result.append(Token(id: token.id, characters: characters))
                    case .text(let rest): result += encodeNormalized(rest)
                    }
                }
            }
        }
        return result
    }

    /// Pre-tokenises normalised text and encodes each piece (cached by the piece's text).
    private func encodeNormalized(_ text: AlignedText) -> [Token] {
        var pieces = [text]
        for step in preTokenizers { pieces = pieces.flatMap(step.split) }
        var result: [Token] = []
        for piece in pieces where !piece.isEmpty {
            let key = piece.scalars
            let encoded = cache[key] ?? model.encode(piece.scalars, unknown: unknownID)
            if cache.count < 1_000_000 { cache[key] = encoded }
            result += encoded.map { Token(id: $0.id, characters: piece.origin(of: $0.scalars)) }
        }
        return result
    }

    /// The special tokens around a sentence: what the post-processor adds, or, when it adds none
    /// (byte-level tokenizers shared by encoders and decoders), `[CLS] … [SEP]` (or `<s> … </s>`)
    /// for encoders and nothing for decoders.
    public func specialTokens(for architecture: Architecture) throws -> (prefix: [Int], suffix: [Int]) {
        if let specials = postProcessorSpecials, !(specials.prefix.isEmpty && specials.suffix.isEmpty) { return specials }
        guard architecture.isEncoder else { return ([], []) }
        for (open, close) in [("[CLS]", "[SEP]"), ("<s>", "</s>")] {
            if let a = ids[open], let b = ids[close] { return ([a], [b]) }
        }
        throw ModelError(.unsupported, path, "an encoder needs [CLS]/[SEP] or <s>/</s>, and this tokenizer has neither")
    }

    private static func specials(of value: Any?, ids: [String: Int], at jsonPath: String, path: String) throws -> (prefix: [Int], suffix: [Int])? {
        guard let json = value as? [String: Any] else { return nil }
        func pair(_ key: String) -> Int? { ((json[key] as? [Any])?.last as? Int) }
        switch json["type"] as? String {
        case "BertProcessing", "RobertaProcessing":
            guard let cls = pair("cls"), let sep = pair("sep") else { throw ModelError(.malformed, path, "\(jsonPath): no cls/sep") }
            return ([cls], [sep])
        case "TemplateProcessing":
            var prefix: [Int] = [], suffix: [Int] = []
            var seenSequence = false
            let table = json["special_tokens"] as? [String: Any] ?? [:]
            for case let item as [String: Any] in (json["single"] as? [Any]) ?? [] {
                if item["Sequence"] != nil { seenSequence = true; continue }
                guard let special = item["SpecialToken"] as? [String: Any], let name = special["id"] as? String else { continue }
                let tokenIDs = ((table[name] as? [String: Any])?["ids"] as? [Int]) ?? ids[name].map { [$0] } ?? []
                if seenSequence { suffix += tokenIDs } else { prefix += tokenIDs }
            }
            return (prefix, suffix)
        case "Sequence":
            for (k, step) in ((json["processors"] as? [Any]) ?? []).enumerated() {
                if let found = try specials(of: step, ids: ids, at: jsonPath + ".processors[\(k)]", path: path) { return found }
            }
            return nil
        case "ByteLevel":
            return nil  // offsets only
        case let other:
            throw ModelError(
                .unsupported, path,
                "\(jsonPath).type: '\(other ?? "?")' is not supported (BertProcessing, RobertaProcessing, TemplateProcessing, ByteLevel, Sequence)")
        }
    }
}

/// A token's text compared byte for byte, as `tokenizers` compares it (Swift's String equality
/// is canonical equivalence: "é" == "e\u{301}").
struct ExactText: Hashable {
    let bytes: [UInt8]
    init(_ text: String) { bytes = Array(text.utf8) }
    init(_ scalars: ArraySlice<Unicode.Scalar>) { bytes = Array(String(String.UnicodeScalarView(scalars)).utf8) }
}
