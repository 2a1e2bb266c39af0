import Foundation
import SondeBase
import SondeLinalg

/// A sentence to score: its text (what a subword tokenizer reads, whole) and its words (what a
/// word-level model reads, split as its treebank was).
public struct SentenceText: Sendable {
    public let text: String
    public let words: [String]
    public init(text: String, words: [String]) { (self.text, self.words) = (text, words) }
}

/// A sentence's log-probability under a causal language model, token by token.
public struct ScoredSentence: Sendable, Equatable {
    /// The tokens predicted, in order: a word-level LSTM's words as written (an unknown word
    /// too, though the model reads `<unk>`) and `</s>`; a transformer's subword ids (in decimal)
    /// after its start token. Two sentences differ where these differ.
    public let tokens: [String]
    /// ln p(token | the start and every token before it).
    public let logProbabilities: [Double]
    /// Tokens the model reads as its unknown token (out-of-vocabulary words of an LSTM).
    public let unknown: [Bool]

    public var total: Double { logProbabilities.reduce(0, +) }
}

extension LSTMModel {
    /// `<s> w₁ … wₙ` predicting `w₁ … wₙ </s>`: the end symbol is part of the sentence's
    /// probability (the model was trained with it, and without it a sentence cut short would
    /// look as likely as a whole one). Unknown words are predicted as `<unk>`, as in training.
    public func logProbabilities(_ sentences: [SentenceText], progress: (Int) -> Void = { _ in }) throws -> [ScoredSentence] {
        guard config.labelLevel == nil else {
            throw ModelError(.unsupported, folder, "this checkpoint is a tagger or classifier; score minimal pairs with a language model")
        }
        let words = sentences.map(\.words)
        var result: [ScoredSentence] = []
        result.reserveCapacity(sentences.count)
        for batch in batches(words) {
            var none: SplitMix64? = nil
            let pass = network.forward(ids: batch.ids, steps: batch.steps, batch: batch.count, generator: &none)
            let lengths = (0..<batch.count).map { words[batch.first + $0].count }
            let targets = Self.nextWordTargets(batch.ids, steps: batch.steps, batch: batch.count, lengths: lengths)
            let scored = network.score(pass, targets: targets)
            var rowLoss = [Int: Double]()
            for (k, row) in scored.rows.enumerated() { rowLoss[row] = scored.rowLosses[k] }
            for b in 0..<batch.count {
                let steps = 0...lengths[b]
                let tokens = words[batch.first + b] + ["</s>"]
                result.append(
                    ScoredSentence(
                        tokens: tokens, logProbabilities: steps.map { -rowLoss[$0 * batch.count + b]! },
                        unknown: steps.map { $0 < lengths[b] && vocabulary.id(words[batch.first + b][$0]) == 0 }))
            }
            progress(batch.first + batch.count)
        }
        return result
    }
}

extension ActivationExtractor {
    /// The text's tokens after the tokenizer's `<|endoftext|>` (GPT-2's and GPT-NeoX's start of
    /// a document, as lm-evaluation-harness and BLiMP's GPT-2 runs score): every token of the
    /// sentence is predicted, the first from the start token alone. Causal models only.
    public func logProbabilities(_ sentences: [SentenceText], progress: (Int) -> Void = { _ in }) throws -> [ScoredSentence] {
        guard !model.config.architecture.isEncoder, case .languageModel = model.head else {
            throw ModelError(
                .unsupported, model.folder,
                "minimal pairs are scored by a causal language model's log-probabilities (GPT-2, GPT-NeoX, a sonde-lstm); this checkpoint is not one")
        }
        guard let start = tokenizer.ids["<|endoftext|>"] else {
            throw ModelError(.unsupported, tokenizer.path, "no <|endoftext|> token to start a sentence with")
        }
        var result: [ScoredSentence] = []
        var next = 0
        while next < sentences.count {
            var sequences: [[Int]] = []
            var tokens = 0
            while next < sentences.count && (sequences.isEmpty || tokens < batchTokens) {
                let text = sentences[next].text
                let chunks = text.split(separator: " ")
                guard chunks.count <= InputLimits.sentenceWords.value, chunks.allSatisfy({ $0.utf8.count <= InputLimits.wordBytes.value }) else {
                    throw ModelError(
                        .unsupported, "the sentence \"\(text.prefix(60))…\"",
                        InputLimits.wordBytes.message("a word or the sentence is too long to encode"))
                }
                let ids = try tokenizer.encode(word: text)
                guard ids.count + 1 <= model.window else {
                    throw ModelError(
                        .unsupported, "the sentence \"\(text.prefix(60))…\"", "\(ids.count) tokens exceed the model's window of \(model.window)")
                }
                sequences.append([start] + ids)
                tokens += ids.count + 1
                next += 1
            }
            var rows: [Int] = [], targets: [Int] = []
            var offset = 0
            for s in sequences {
                for i in 1..<s.count { rows.append(offset + i - 1); targets.append(s[i]) }
                offset += s.count
            }
            let last = try model.hiddenStates(sequences).last!
            guard let logits = model.headLogits(last, rows: rows) else {
                throw ModelError(.unsupported, model.folder, "the checkpoint has no language-model head")
            }
            var logProbabilities = [Double](repeating: 0, count: rows.count)
            logits.withUnsafeBufferPointer { p in
                let width = logits.columns
                for (i, t) in targets.enumerated() {
                    let row = p.baseAddress! + i * width
                    var top = row[0]
                    for j in 1..<width where row[j] > top { top = row[j] }
                    var sum = 0.0
                    for j in 0..<width { sum += exp(Double(row[j] - top)) }
                    logProbabilities[i] = Double(row[t] - top) - log(sum)
                }
            }
            var k = 0
            for s in sequences {
                let n = s.count - 1
                result.append(
                    ScoredSentence(
                        tokens: s.dropFirst().map(String.init), logProbabilities: Array(logProbabilities[k..<(k + n)]),
                        unknown: Array(repeating: false, count: n)))
                k += n
            }
            progress(next)
        }
        return result
    }
}

/// Minimal-pair scoring for whichever family `model` is.
public func sentenceLogProbabilities(
    _ model: any LanguageModel, _ sentences: [SentenceText], progress: (Int) -> Void = { _ in }
) throws -> [ScoredSentence] {
    switch model {
    case let lstm as LSTMModel: return try lstm.logProbabilities(sentences, progress: progress)
    case let transformer as ActivationExtractor: return try transformer.logProbabilities(sentences, progress: progress)
    default: throw ModelError(.unsupported, model.folder, "this model family does not score sentences")
    }
}
