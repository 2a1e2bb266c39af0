import ArgumentParser
import Foundation
import SondeBase
import SondeCorpus
import SondeModels

/// `sonde tokenize`: a tokenizer's ids for text or a treebank, as `tokenizers` gives them.
struct TokenizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokenize",
        abstract: "Encode text or a treebank's sentences with a tokenizer.json, to check it against the model's own.",
        discussion: """
            --text FILE: one sentence per line, each line taken exactly as it is (leading and trailing \
            spaces count); ids as tokenizers' encode(text).ids gives them, special tokens included. \
            --corpus TREEBANK: each sentence's words joined by a space (none after SpaceAfter=No), and \
            each word's token span (the tokens whose first non-space character falls in the word).
            """)

    @Option(help: "The tokenizer.json.") var tokenizer: String
    @Option(help: "A text file: one sentence per line.") var text: String?
    @Option(help: "A treebank (any format Sonde reads).") var corpus: String?
    @OptionGroup var output: OutputOptions

    struct Sentence: Encodable {
        let ids: [Int]
        let characters: [[Int]]
        let text: String?
        /// Each word's tokens as [first, end) indices into `ids` (treebanks only).
        let words: [[Int]]?
    }

    struct Report: Encodable {
        let tokenizer: String
        let sentences: [Sentence]
    }

    func validate() throws {
        guard (text == nil) != (corpus == nil) else { throw ValidationError("give --text FILE or --corpus TREEBANK (one of them)") }
    }

    func run() throws {
        let model = try Tokenizer.read(tokenizer)
        var sentences: [Sentence] = []
        if let text {
            // Through MappedFile: regular files only (a FIFO would block the read forever).
            guard let data = try? MappedFile.data(text), let content = String(data: data, encoding: .utf8) else {
                throw ModelError(.missing, text, "cannot read the text file (UTF-8, one sentence per line)")
            }
            var lines = content.components(separatedBy: "\n")
            if lines.last == "" { lines.removeLast() }
            for line in lines {
                let tokens = model.encode(text: line)
                sentences.append(
                    Sentence(
                        ids: tokens.map(\.id), characters: tokens.map { [$0.characters.lowerBound, $0.characters.upperBound] }, text: nil, words: nil)
                )
            }
        } else if let corpus {
            for sentence in try readTreebank([corpus], limit: nil).sentences {
                let words = sentence.words.map(\.form)
                let spaceAfter = sentence.words.map { !($0.misc ?? "").split(separator: "|").contains("SpaceAfter=No") }
                let aligned = TextAlignment(words: words, spaceAfter: spaceAfter, tokenizer: model)
                sentences.append(
                    Sentence(
                        ids: aligned.tokens.map(\.id), characters: aligned.tokens.map { [$0.characters.lowerBound, $0.characters.upperBound] },
                        text: aligned.text, words: aligned.words.map { [$0.lowerBound, $0.upperBound] }))
            }
        }
        if output.json {
            try printJSON(Report(tokenizer: tokenizer, sentences: sentences))
        } else {
            let tokens = sentences.reduce(0) { $0 + $1.ids.count }
            print(
                "\(tokenizer): \(sentences.count) sentences, \(tokens) tokens (\(String(format: "%.1f", Double(tokens) / Double(max(sentences.count, 1)))) a sentence)"
            )
            for s in sentences.prefix(5) { print("  " + s.ids.map(String.init).joined(separator: " ")) }
        }
    }
}
