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
