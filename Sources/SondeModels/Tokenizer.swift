import Foundation

/// A Hugging Face `tokenizer.json`: the normalizer, pre-tokenizer and subword model that turn a
/// word into token ids — byte-level BPE (GPT-2, Pythia, RoBERTa) or WordPiece (BERT). Treebank
/// words are encoded one at a time, as transformers does for pre-split input
/// (`is_split_into_words`), so every subword belongs to exactly one word.
public final class Tokenizer {
    public let path: String
    /// Token string → id, the model's vocabulary plus the added (special) tokens.
    public let ids: [String: Int]
    private let normalizers: [Normalizer]
    private let preTokenizers: [PreTokenizer]
    private let model: SubwordModel
    private let unknownID: Int?
    private let postProcessorSpecials: (prefix: [Int], suffix: [Int])?
    private var cache: [String: [Int]] = [:]

    public static func read(_ path: String) throws -> Tokenizer {
        try Tokenizer(json: try readJSONObject(path, missing: "cannot read the tokenizer; pass --tokenizer PATH/tokenizer.json"), path: path)
    }

    init(json: [String: Any], path: String) throws {
        self.path = path
        func fail(_ message: String) -> ModelError { ModelError(.malformed, path, message) }
        guard let modelJSON = json["model"] as? [String: Any], let vocab = modelJSON["vocab"] as? [String: Int] else {
            throw fail("no model.vocab object")
        }
        var ids = vocab
        for case let added as [String: Any] in (json["added_tokens"] as? [Any]) ?? [] {
            if let content = added["content"] as? String, let id = added["id"] as? Int { ids[content] = id }
        }
        if let (token, id) = ids.first(where: { $0.value < 0 }) {
            throw fail("token \(token.debugDescription) has the negative id \(id)")
        }
        self.ids = ids
        normalizers = try Normalizer.parse(json["normalizer"], path: path)
        preTokenizers = try PreTokenizer.parse(json["pre_tokenizer"], path: path)
        let unknown = modelJSON["unk_token"] as? String
        unknownID = unknown.flatMap { ids[$0] }
        switch modelJSON["type"] as? String {
        case "BPE":
            if (modelJSON["byte_fallback"] as? Bool) == true {
                throw ModelError(.unsupported, path, "BPE with byte_fallback (SentencePiece-style) is not supported")
            }
            model = .bpe(try BytePairEncoding(model: modelJSON, vocabulary: vocab, path: path))
        case "WordPiece":
            model = .wordPiece(
                vocabulary: vocab, prefix: (modelJSON["continuing_subword_prefix"] as? String) ?? "##",
                maxCharacters: (modelJSON["max_input_chars_per_word"] as? Int) ?? 100)
        case let other:
            throw ModelError(.unsupported, path, "tokenizer model '\(other ?? "none")' is not supported (BPE, WordPiece)")
        }
        postProcessorSpecials = try Self.specials(of: json["post_processor"], ids: ids, path: path)
    }

    /// Checks, once, that every id this tokenizer can produce (its vocabulary, added tokens and
    /// post-processor specials) indexes a row of a `vocabularySize`-row embedding matrix; the
    /// forward pass then trusts the ids.
    public func validate(vocabularySize: Int) throws {
        if let (token, id) = ids.first(where: { $0.value >= vocabularySize }) {
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
        if let hit = cache[word] { return hit }
        var text = word
        for normalizer in normalizers { text = normalizer.apply(text) }
        var pieces = [text]
        for step in preTokenizers { pieces = pieces.flatMap(step.split) }
        var result: [Int] = []
        for piece in pieces where !piece.isEmpty {
            switch model {
            case .bpe(let bpe): result += bpe.encode(piece, unknown: unknownID)
            case .wordPiece(let vocabulary, let prefix, let maxCharacters):
                result += Self.wordPiece(piece, vocabulary: vocabulary, prefix: prefix, maxCharacters: maxCharacters, unknown: unknownID)
            }
        }
        if result.isEmpty {
            guard let unknownID else {
                throw ModelError(.unsupported, path, "the word \(word.debugDescription) gives no tokens and the tokenizer has no unknown token")
            }
            result = [unknownID]
        }
        cache[word] = result
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

    private static func specials(of value: Any?, ids: [String: Int], path: String) throws -> (prefix: [Int], suffix: [Int])? {
        guard let json = value as? [String: Any] else { return nil }
        func pair(_ key: String) -> Int? { ((json[key] as? [Any])?.last as? Int) }
        switch json["type"] as? String {
        case "BertProcessing", "RobertaProcessing":
            guard let cls = pair("cls"), let sep = pair("sep") else { throw ModelError(.malformed, path, "post_processor without cls/sep") }
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
            for step in (json["processors"] as? [Any]) ?? [] {
                if let found = try specials(of: step, ids: ids, path: path) { return found }
            }
            return nil
        default:
            return nil
        }
    }

    private static func wordPiece(_ piece: String, vocabulary: [String: Int], prefix: String, maxCharacters: Int, unknown: Int?) -> [Int] {
        let characters = Array(piece)
        if characters.count > maxCharacters { return unknown.map { [$0] } ?? [] }
        var result: [Int] = []
        var start = 0
        while start < characters.count {
            var end = characters.count
            var found: Int?
            while end > start {
                let candidate = (start > 0 ? prefix : "") + String(characters[start..<end])
                if let id = vocabulary[candidate] { found = id; break }
                end -= 1
            }
            guard let id = found else { return unknown.map { [$0] } ?? [] }
            result.append(id)
            start = end
        }
        return result
    }
}

private enum SubwordModel {
    case bpe(BytePairEncoding)
    case wordPiece(vocabulary: [String: Int], prefix: String, maxCharacters: Int)
}

/// Byte-pair encoding: a piece starts as its characters and the pair with the lowest merge rank
/// is merged until none is left (the GPT-2 algorithm; ties go to the leftmost pair).
struct BytePairEncoding {
    private let vocabulary: [String: Int]
    /// (left id, right id) → (rank, merged id).
    private let merges: [Int64: (rank: Int, id: Int)]
    private let continuingPrefix: String
    private let endOfWordSuffix: String

    init(model: [String: Any], vocabulary: [String: Int], path: String) throws {
        self.vocabulary = vocabulary
        continuingPrefix = (model["continuing_subword_prefix"] as? String) ?? ""
        endOfWordSuffix = (model["end_of_word_suffix"] as? String) ?? ""
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
            guard parts.count == 2, let a = vocabulary[parts[0]], let b = vocabulary[parts[1]] else {
                throw ModelError(.malformed, path, "merge \(rank + 1) is not a pair of vocabulary tokens")
            }
            let right = parts[1].hasPrefix(continuingPrefix) ? String(parts[1].dropFirst(continuingPrefix.count)) : parts[1]
            guard let merged = vocabulary[parts[0] + right] else {
                throw ModelError(.malformed, path, "merge \(rank + 1) makes '\(parts[0] + right)', which is not in the vocabulary")
            }
            let key = Int64(a) << 32 | Int64(b)
            if merges[key] == nil { merges[key] = (rank, merged) }
        }
        self.merges = merges
    }

    func encode(_ piece: String, unknown: Int?) -> [Int] {
        let characters = Array(piece)
        var symbols: [Int] = []
        symbols.reserveCapacity(characters.count)
        for (i, c) in characters.enumerated() {
            var text = String(c)
            if i > 0 { text = continuingPrefix + text }
            if i == characters.count - 1 { text += endOfWordSuffix }
            if let id = vocabulary[text] { symbols.append(id) } else if let unknown { symbols.append(unknown) }
        }
        while symbols.count > 1 {
            var best: (rank: Int, at: Int, id: Int)?
            for i in 0..<(symbols.count - 1) {
                if let merge = merges[Int64(symbols[i]) << 32 | Int64(symbols[i + 1])], merge.rank < (best?.rank ?? .max) {
                    best = (merge.rank, i, merge.id)
                }
            }
            guard let best else { break }
            // Merge every occurrence of the best pair, left to right, without overlaps.
            let (left, right) = (symbols[best.at], symbols[best.at + 1])
            var merged: [Int] = []
            merged.reserveCapacity(symbols.count)
            var i = 0
            while i < symbols.count {
                if i + 1 < symbols.count && symbols[i] == left && symbols[i + 1] == right {
                    merged.append(best.id)
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
