import Foundation
import Testing

@testable import SondeModels

let tokenizerFixtures = repositoryRoot + "/Tests/Fixtures/tokenizers"

/// Tokenizers in the styles of Llama-3, Qwen2, Llama-2, Gemma and Mistral, trained with the
/// `tokenizers` library (benchmarks/references/tokenizer_styles.py): Sonde's `encode(text:)` gives
/// the library's ids for awkward crafted lines and for every sentence of EWT dev (its `# text`
/// line; compared by FNV-1a of the ids, the sentences staying in ../shared).
struct TokenizerStyleTests {
    static let styles = ["llama3", "qwen2", "llama2", "gemma", "mistral", "splits"]

    private func expected(_ style: String) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: tokenizerFixtures + "/\(style)/expected.json")))
            as! [String: Any]
    }

    @Test(arguments: styles)
    func craftedLines(style: String) throws {
        let tokenizer = try Tokenizer.read(tokenizerFixtures + "/\(style)/tokenizer.json")
        for case let pair as [Any] in try expected(style)["crafted"] as! [Any] {
            let (line, ids) = (pair[0] as! String, pair[1] as! [Int])
            #expect(tokenizer.encode(text: line).map(\.id) == ids, "\(style): \(line.debugDescription)")
        }
    }

    @Test(.enabled(if: zooAvailable, Comment(rawValue: zooMissing)), arguments: styles)
    func everyDevSentence(style: String) throws {
        let tokenizer = try Tokenizer.read(tokenizerFixtures + "/\(style)/tokenizer.json")
        let dev = try expected(style)["dev"] as! [String: Any]
        let text = try String(contentsOfFile: sharedFolder + "/corpora/ud-english-ewt/en_ewt-ud-dev.conllu", encoding: .utf8)
        let lines = text.split(separator: "\n").filter { $0.hasPrefix("# text = ") }.map { String($0.dropFirst("# text = ".count)) }
        let hashes = dev["fnv"] as! [String]
        #expect(lines.count == hashes.count)
        var mismatches: [String] = []
        var total = 0
        for (line, hash) in zip(lines, hashes) {
            let ids = tokenizer.encode(text: line).map(\.id)
            total += ids.count
            if Self.fnv(ids) != hash { mismatches.append(line) }
        }
        #expect(mismatches.isEmpty, "\(style): \(mismatches.count) sentences differ, the first: \(mismatches.first ?? "")")
        #expect(total == dev["ids"] as! Int)
    }

    /// FNV-1a (64-bit) over the ids' decimal strings joined by spaces, as the script hashes them.
    static func fnv(_ ids: [Int]) -> String {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in ids.map(String.init).joined(separator: " ").utf8 { h = (h ^ UInt64(byte)) &* 0x100_0000_01b3 }
        let hex = String(h, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }
}

/// Hostile tokenizer.json files: refused with the JSON path of what is wrong, in bounded time.
struct HostileTokenizerTests {
    private func refused(_ edit: (inout [String: Any]) -> Void, style: String = "llama3") throws -> String {
        var json =
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: tokenizerFixtures + "/\(style)/tokenizer.json")))
            as! [String: Any]
        edit(&json)
        let error = try #require(throws: ModelError.self) { _ = try Tokenizer(json: json, path: "t.json") }
        return error.description
    }

    @Test func refusedWithTheirJSONPath() throws {
        #expect(
            try refused { $0["pre_tokenizer"] = ["type": "Sequence", "pretokenizers": [["type": "ByteLevel"], ["type": "Punctuation"]]] }
                .contains("t.json: pre_tokenizer.pretokenizers[1].type: 'Punctuation' is not supported"))
        #expect(
            try refused { $0["pre_tokenizer"] = ["type": "Split", "pattern": ["Regex": "(unclosed"], "behavior": "Isolated"] }
                .contains("pre_tokenizer.pattern.Regex: \"(unclosed\" does not compile"))
        #expect(
            try refused { $0["normalizer"] = ["type": "Sequence", "normalizers": [["type": "NFC"], ["type": "Precompiled"]]] }
                .contains("normalizer.normalizers[1].type: 'Precompiled' is not supported"))
        #expect(
            try refused { j in
                var m = j["model"] as! [String: Any]; m["merges"] = [["Ġzz9", "q"]]; j["model"] = m
            }
            .contains("model.merges[0]: not a pair of vocabulary tokens"))
        #expect(
            try refused(
                { j in
                    var m = j["model"] as! [String: Any]
                    var v = m["vocab"] as! [String: Int]
                    v["<0x41>"] = nil
                    m["vocab"] = v
                    j["model"] = m
                }, style: "llama2"
            ).contains("model.byte_fallback: true, but the vocabulary has no <0x41> token"))
        #expect(
            try refused { j in
                var m = j["model"] as! [String: Any]; m["dropout"] = 0.1; j["model"] = m
            }.contains("model.dropout"))
        #expect(
            try refused { $0["added_tokens"] = [["id": 5, "content": String(repeating: "x", count: 1_000_000)]] }
                .contains("added_tokens[0].content: empty or longer than 1024 characters"))
        #expect(try refused { $0["post_processor"] = ["type": "Mystery"] }.contains("post_processor.type: 'Mystery' is not supported"))
        // Two tokens that are one text in two Unicode forms ("é" precomposed and decomposed):
        // Foundation's JSON reader merges them, losing an id; the gap is refused, not encoded
        // with the wrong id.
        let twins = Data(#"{"model": {"type": "WordPiece", "unk_token": "[UNK]", "vocab": {"\#u{E9}": 0, "[UNK]": 1, "e\#u{301}": 2}}}"#.utf8)
        let json = try JSONSerialization.jsonObject(with: twins) as! [String: Any]
        #expect(throws: ModelError.self) { _ = try Tokenizer(json: json, path: "t.json") }
        #expect(
            try refused { j in
                var m = j["model"] as! [String: Any]; var v = m["vocab"] as! [String: Int]; v["Ġzz"] = 5000; m["vocab"] = v; j["model"] = m
            }
            .contains("model.vocab: no token has id"))
        // Exponential backtracking on a stranger's pattern would hang a run: nested quantifiers are refused.
        for pattern in ["(a+)+b", "(?:x*y)*z", "((ab)*c){2,}", "(\\w+\\s?)*$"] {
            #expect(
                try refused { $0["pre_tokenizer"] = ["type": "Split", "pattern": ["Regex": pattern], "behavior": "Isolated"] }
                    .contains("repeats a group that repeats"), "\(pattern)")
        }
        for pattern in ["(?i:'s|'t)|\\p{N}{1,3}|[(+*]+", "(ab)+", "a+(b)*"] {
            #expect(!TextPattern.hasNestedQuantifier(pattern), "\(pattern)")
        }
    }
}

/// Words tied to tokens by character offsets (`TextAlignment`), with the treebank's SpaceAfter=No.
struct TextAlignmentTests {
    /// Every EWT dev sentence in the Llama-3 and Llama-2 styles: each word has tokens, the
    /// words' spans run in order, and together they hold every non-special token exactly once
    /// (a word sharing its neighbour's token is the only overlap).
    @Test(.enabled(if: zooAvailable, Comment(rawValue: zooMissing)), arguments: ["llama3", "llama2"])
    func spansCoverEveryTokenInOrder(style: String) throws {
        let tokenizer = try Tokenizer.read(tokenizerFixtures + "/\(style)/tokenizer.json")
        let text = try String(contentsOfFile: sharedFolder + "/corpora/ud-english-ewt/en_ewt-ud-dev.conllu", encoding: .utf8)
        var checked = 0
        var shared = 0
        var wordCount = 0
        for block in text.components(separatedBy: "\n\n") {
            var words: [String] = [], spaceAfter: [Bool] = []
            for line in block.split(separator: "\n") {
                let c = line.split(separator: "\t", omittingEmptySubsequences: false)
                guard c.count == 10, Int(c[0]) != nil else { continue }
                words.append(String(c[1]))
                spaceAfter.append(!c[9].split(separator: "|").contains("SpaceAfter=No"))
            }
            guard !words.isEmpty else { continue }
            let aligned = TextAlignment(words: words, spaceAfter: spaceAfter, tokenizer: tokenizer)
            wordCount += words.count
            let special = aligned.tokens.indices.filter { aligned.tokens[$0].characters.isEmpty }
            var covered: [Int] = []
            for span in aligned.words {
                #expect(!span.isEmpty)
                if let last = covered.last, span.lowerBound <= last {
                    shared += 1
                    #expect(span == last..<(last + 1), "a shared token is the previous word's last")
                } else {
                    covered += Array(span)
                }
            }
            #expect(covered == aligned.tokens.indices.filter { !special.contains($0) }, "\(style): \(aligned.text)")
            checked += 1
        }
        #expect(checked == 2001)
        // Words inside another's token (e.g. "'s" merged into "it's" by a SentencePiece vocabulary).
        #expect(shared * 20 < wordCount, "\(shared) of \(wordCount) words share a token")
    }

    /// "don't" is the words "do" + "n't" with SpaceAfter=No: encoded as one written word; with a
    /// space the tokens differ, as they would for a model reading "do n't".
    @Test func spaceAfterMatters() throws {
        let tokenizer = try Tokenizer.read(tokenizerFixtures + "/llama3/tokenizer.json")
        let joined = TextAlignment(words: ["I", "do", "n't", "know", "."], spaceAfter: [true, false, true, false, true], tokenizer: tokenizer)
        let spaced = TextAlignment(words: ["I", "do", "n't", "know", "."], spaceAfter: [true, true, true, true, true], tokenizer: tokenizer)
        #expect(joined.text == "I don't know.")
        #expect(spaced.text == "I do n't know .")
        #expect(joined.tokens.map(\.id) == tokenizer.encode(text: "I don't know.").map(\.id))
        #expect(joined.tokens.map(\.id) != spaced.tokens.map(\.id))
        #expect(joined.words.count == 5 && joined.words.allSatisfy { !$0.isEmpty })
    }
}

/// Behaviours a review found differing from `tokenizers`, each against the library's own output
/// (tokenizers 0.23.3's Python binding, the calls written beside each expectation).
struct TokenizerReferenceCaseTests {
    private func pieces(_ step: PreTokenizer, _ text: String) -> [String] { step.split(AlignedText(text.unicodeScalars)).map(\.string) }
    private func normalized(_ step: Normalizer, _ text: String) -> String { step.apply(AlignedText(text.unicodeScalars)).string }

    @Test func preTokenizersAndNormalizers() throws {
        // pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always", split=True).pre_tokenize_str("Hey   friend")
        #expect(
            pieces(.metaspace(replacement: "▁", prependFirst: false, prependAll: true, split: true), "Hey   friend") == ["▁Hey", "▁", "▁", "▁friend"])
        // pre_tokenizers.Split(",", behavior="merged_with_next").pre_tokenize_str("a,,b,,")
        #expect(pieces(.split(.literal([","]), behavior: .mergedWithNext, invert: false), "a,,b,,") == ["a", ",", ",b", ",", ","])
        // pre_tokenizers.Digits(individual_digits=False).pre_tokenize_str("x²½12")
        #expect(pieces(.digits(individually: false), "x²½12") == ["x", "²½12"])
        // pre_tokenizers.Whitespace().pre_tokenize_str("می\u200cخواهم x² Ⓐb")
        #expect(pieces(.whitespace, "می\u{200C}خواهم x² Ⓐb") == ["می\u{200C}خواهم", "x", "²", "Ⓐb"])
        // normalizers.StripAccents().normalize_str("é का") (no decomposition; spacing marks go too)
        #expect(normalized(.stripAccents, "é का") == "é क")
        // normalizers.BertNormalizer(lowercase=True).normalize_str("a\ue000b\U0002B820c")
        #expect(
            normalized(.bert(cleanText: true, chineseCharacters: true, stripAccents: true, lowercase: true), "a\u{E000}b\u{2B820}c") == "ab\u{2B820}c"
        )
    }

    private func tokenizer(_ json: [String: Any]) throws -> Tokenizer { try Tokenizer(json: json, path: "t.json") }

    @Test func modelsAndAddedTokens() throws {
        // BPE(vocab={[UNK],a,b,x,ab}, merges=[(a,b)]) + AddedToken("ab", single_word=True), AddedToken("b"):
        // encode("xab").tokens == ['x', 'ab'] (the rejected "ab" hides "b"); encode("x ab") == ['x', '[UNK]', 'ab']
        let single = try tokenizer([
            "model": ["type": "BPE", "vocab": ["[UNK]": 0, "a": 1, "b": 2, "x": 3, "ab": 4], "merges": [["a", "b"]], "unk_token": "[UNK]"],
            "added_tokens": [
                ["id": 4, "content": "ab", "single_word": true, "special": false, "normalized": true],
                ["id": 2, "content": "b", "special": false, "normalized": true],
            ],
        ])
        #expect(single.encode(text: "xab").map(\.id) == [3, 4])
        #expect(single.encode(text: "x ab").map(\.id) == [3, 0, 4])
        // BPE(vocab={a,b,c,ab,bc}, merges=[(b,c),(a,b),(b,c)]).encode("abc").tokens == ['ab', 'c']: a pair's last rank wins
        let twice = try tokenizer([
            "model": ["type": "BPE", "vocab": ["a": 0, "b": 1, "c": 2, "ab": 3, "bc": 4], "merges": [["b", "c"], ["a", "b"], ["b", "c"]]]
        ])
        #expect(twice.encode(text: "abc").map(\.id) == [3, 2])
        // BPE(vocab={a, <0x00>…<0xFF>}, continuing_subword_prefix="##", byte_fallback=True).encode("aé").tokens
        //   == ['a', '<0x23>', '<0x23>', '<0xC3>', '<0xA9>']
        var bytes: [String: Int] = ["a": 0]
        for b in 0..<256 { bytes[String(format: "<0x%02X>", b)] = b + 1 }
        let fallback = try tokenizer([
            "model": ["type": "BPE", "vocab": bytes, "merges": [Any](), "continuing_subword_prefix": "##", "byte_fallback": true]
        ])
        #expect(fallback.encode(text: "aé").map(\.id) == [0, 0x23 + 1, 0x23 + 1, 0xC3 + 1, 0xA9 + 1])
        // Prepend("▁") + Replace(" ", "▁") on "19 9": tokens ▁ 1 9 ▁ 9 at (0,1) (0,1) (1,2) (2,3) (3,4)
        let prepend = try tokenizer([
            "normalizer": [
                "type": "Sequence",
                "normalizers": [["type": "Prepend", "prepend": "▁"], ["type": "Replace", "pattern": ["String": " "], "content": "▁"]],
            ],
            "model": ["type": "BPE", "vocab": ["▁": 0, "1": 1, "9": 2, "▁1": 3, "▁9": 4, "[UNK]": 5], "merges": [Any](), "unk_token": "[UNK]"],
        ])
        let tokens = prepend.encode(text: "19 9")
        #expect(tokens.map(\.id) == [0, 1, 2, 0, 2])
        #expect(tokens.map(\.characters) == [0..<1, 0..<1, 1..<2, 2..<3, 3..<4])
    }
}
