import Foundation
import SondeBase
import SondeLinalg

extension TransformerModel {
    /// The text's tokens after the tokenizer's `<|endoftext|>` (GPT-2's and GPT-NeoX's start of
    /// a document, as lm-evaluation-harness and BLiMP's GPT-2 runs score), or the decoder
    /// families' `bos_token_id`: every token of the
    /// sentence is predicted, the first from the start token alone. Causal models only.
    public func logProbabilities(_ sentences: [SentenceText], ablations: [NeuronAblation], progress: (Int) -> Void) throws -> [ScoredSentence] {
        var result: [ScoredSentence] = []
        try predictions(sentences.map(\.text), ablations: ablations, progress: progress) { sequences, targets, _, logits in
            var logProbabilities = [Double](repeating: 0, count: targets.count)
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
        }
        return result
    }

    /// A restricted gradient differential: of Σᵢ [ln p(goodᵢ) − ln p(badᵢ)] with respect to the
    /// output (unembedding) matrix alone, [vocabulary × hidden] row-major, from forward states:
    /// Σ_t ±(onehot(y_t) − softmax_t)·h_tᵀ. The full Δg needs backpropagation through every
    /// block, which Sonde's transformers do not run; wherever this is reported it says so.
    public func unembeddingMarginGradient(_ pairs: [(good: String, bad: String)]) throws -> [Float] {
        let (v, h) = (network.config.vocabularySize, network.config.hiddenSize)
        var gradient = Matrix<Float>(rows: v, columns: h)
        var index = 0  // sentences seen: even = good (+), odd = bad (−)
        try predictions(pairs.flatMap { [$0.good, $0.bad] }) { sequences, targets, states, logits in
            var d = logits
            let width = d.columns
            precondition(width == v, "a language-model head over the vocabulary")
            let softcap = network.config.decoder?.finalSoftcap.map { Float($0) }
            var row = 0
            d.withUnsafeMutableBufferPointer { p in
                for s in sequences {
                    let sign: Float = index % 2 == 0 ? 1 : -1
                    for _ in 1..<s.count {
                        Self.logProbabilityGradient(p.baseAddress! + row * width, width: width, target: targets[row], sign: sign, softcap: softcap)
                        row += 1
                    }
                    index += 1
                }
            }
            gradient.addProduct(d, states, transposeA: true)
        }
        return gradient.elements
    }

    /// Replaces a row of head logits ℓ by ±∂ ln softmax(ℓ)_target / ∂z, z the logits before
    /// Gemma-2's soft-capping ℓ = cap·tanh(z/cap) (whose derivative is 1 − (ℓ/cap)²), or ℓ itself.
    static func logProbabilityGradient(_ r: UnsafeMutablePointer<Float>, width: Int, target: Int, sign: Float, softcap: Float?) {
        let capped = softcap.map { cap in (0..<width).map { 1 - (r[$0] / cap) * (r[$0] / cap) } }
        var top = r[0]
        for j in 1..<width where r[j] > top { top = r[j] }
        var sum: Float = 0
        for j in 0..<width { r[j] = Foundation.exp(r[j] - top); sum += r[j] }
        for j in 0..<width { r[j] = -sign * r[j] / sum }
        r[target] += sign
        if let capped { for j in 0..<width { r[j] *= capped[j] } }
    }

    /// Runs `texts` (after the start token) in batches and hands each batch's sequences, the
    /// target of each prediction row, the top states of those rows and their logits to `body`.
    func predictions(
        _ texts: [String], ablations: [NeuronAblation] = [], progress: (Int) -> Void = { _ in },
        _ body: (_ sequences: [[Int]], _ targets: [Int], _ states: Matrix<Float>, _ logits: Matrix<Float>) throws -> Void
    ) throws {
        guard !network.config.architecture.isEncoder, case .languageModel = network.head else {
            throw ModelError(
                .unsupported, network.folder,
                "minimal pairs are scored by a causal language model's log-probabilities (GPT-2, GPT-NeoX, Llama and its kin, a sonde-lstm); this checkpoint is not one")
        }
        guard let start = network.config.decoder?.startToken ?? tokenizer.ids["<|endoftext|>"] else {
            throw ModelError(
                .unsupported, tokenizer.path, "no <|endoftext|> token to start a sentence with (and no bos_token_id in the model's config.json)")
        }
        var next = 0
        while next < texts.count {
            var sequences: [[Int]] = []
            var tokens = 0
            while next < texts.count && (sequences.isEmpty || tokens < batchTokens) {
                let text = texts[next]
                let chunks = text.split(separator: " ")
                guard chunks.count <= InputLimits.sentenceWords.value, chunks.allSatisfy({ $0.utf8.count <= InputLimits.wordBytes.value }) else {
                    throw ModelError(
                        .unsupported, "the sentence \"\(text.prefix(60))…\"",
                        InputLimits.wordBytes.message("a word or the sentence is too long to encode"))
                }
                let ids = try tokenizer.encode(word: text)
                guard ids.count + 1 <= network.window else {
                    throw ModelError(
                        .unsupported, "the sentence \"\(text.prefix(60))…\"", "\(ids.count) tokens exceed the model's window of \(network.window)")
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
            let last = try network.hiddenStates(sequences, ablations: ablations).last!
            guard let logits = network.headLogits(last, rows: rows) else {
                throw ModelError(.unsupported, network.folder, "the checkpoint has no language-model head")
            }
            try body(sequences, targets, last.rows(rows), logits)
            progress(next)
        }
    }
}
