import Foundation
import Testing

/// `sonde tokenize`: lines taken exactly as they are; a treebank's words with their token spans.
struct TokenizeCLITests {
    let tokenizer = repositoryRoot + "/Tests/Fixtures/tokenizers/llama3/tokenizer.json"

    @Test func textLinesKeepTheirSpaces() throws {
        try withTemporaryFolder { folder in
            try " leading\ntrailing \nno change\n".write(toFile: folder + "/lines.txt", atomically: true, encoding: .utf8)
            let run = try SondeRun("tokenize", "--tokenizer", tokenizer, "--text", folder + "/lines.txt", "--json")
            #expect(run.status == 0, "\(run.stderr)")
            let json = try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as! [String: Any]
            let sentences = json["sentences"] as! [[String: Any]]
            #expect(sentences.count == 3)
            let ids = sentences.map { $0["ids"] as! [Int] }
            // The Llama-3 style's BOS first; " leading" is not "leading".
            let expected =
                try JSONSerialization.jsonObject(
                    with: Data(contentsOf: URL(fileURLWithPath: repositoryRoot + "/Tests/Fixtures/tokenizers/llama3/expected.json")))
                as! [String: Any]
            let bos = ((expected["crafted"] as! [[Any]])[0][1] as! [Int])[0]
            #expect(ids.allSatisfy { $0.first == bos })
            let plain = try SondeRun("tokenize", "--tokenizer", tokenizer, "--text", folder + "/lines.txt")
            #expect(plain.stdout.contains("3 sentences"))
        }
    }

    @Test func treebankWordsGetTokenSpans() throws {
        let run = try SondeRun("tokenize", "--tokenizer", tokenizer, "--corpus", repositoryRoot + "/corpora/default.conllu", "--json")
        #expect(run.status == 0, "\(run.stderr)")
        let json = try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as! [String: Any]
        let first = (json["sentences"] as! [[String: Any]])[0]
        let words = first["words"] as! [[Int]], ids = first["ids"] as! [Int]
        #expect(!words.isEmpty && words.allSatisfy { $0[0] < $0[1] && $0[1] <= ids.count })
        #expect(words.first![0] == 1, "the first word starts after the BOS")
        let both = try SondeRun("tokenize", "--tokenizer", tokenizer)
        #expect(both.status != 0 && both.stderr.contains("give --text FILE or --corpus TREEBANK"))
    }
}
