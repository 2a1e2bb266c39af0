import Foundation
import Testing

@testable import SondeModels

let tokenizerFixtures = repositoryRoot + "/Tests/Fixtures/tokenizers"

/// Tokenizers in the styles of Llama-3, Qwen2, Llama-2, Gemma and Mistral, trained with the
/// `tokenizers` library (benchmarks/references/tokenizer_styles.py): Sonde's `encode(text:)` gives
/// the library's ids for awkward crafted lines and for every sentence of EWT dev (its `# text`
/// line; compared by FNV-1a of the ids, the sentences staying in ../shared).
struct TokenizerStyleTests {
    static let styles = ["llama3", "qwen2", "llama2", "gemma", "mistral"]

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
    }
}
