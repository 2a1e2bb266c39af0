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
        try requireLanguageModel()
        let words = sentences.map(\.words)
        let run = continuations(inputs: words.map { [1] + ids($0) }, targets: words.map { ids($0) + [2] }, progress: progress)
        return words.indices.map { scored(words[$0], run.logp[$0]) }
    }

    /// Both sentences of each pair, the words they share at the start run once: the bad
    /// sentence continues from the good one's state before its last shared word (the
    /// predictions up to there are the same), so a pair costs about one sentence plus the rest
    /// of the other. Equal to scoring each sentence alone, to Float rounding.
    public func pairLogProbabilities(
        _ pairs: [(good: SentenceText, bad: SentenceText)], progress: (Int) -> Void = { _ in }
    ) throws -> [(good: ScoredSentence, bad: ScoredSentence)] {
        try pairLogProbabilities(pairs, chunk: 4096, progress: progress)
    }

    func pairLogProbabilities(
        _ pairs: [(good: SentenceText, bad: SentenceText)], chunk size: Int, progress: (Int) -> Void = { _ in }
    ) throws -> [(good: ScoredSentence, bad: ScoredSentence)] {
        try requireLanguageModel()
        // In chunks: each pair's saved state (h and c of every layer, 4 kB at 2 × 256) would
        // otherwise grow with the pairs file, forty times its text.
        var result: [(good: ScoredSentence, bad: ScoredSentence)] = []
        result.reserveCapacity(pairs.count)
        for start in stride(from: 0, to: pairs.count, by: size) {
            let chunk = pairs[start..<min(pairs.count, start + size)]
            let good = chunk.map(\.good.words), bad = chunk.map(\.bad.words)
            let shared = good.indices.map { i in zip(good[i], bad[i]).prefix { $0 == $1 }.count }
            let first = continuations(
                inputs: good.map { [1] + ids($0) }, targets: good.map { ids($0) + [2] }, capture: shared.map { $0 > 0 ? $0 - 1 : nil }
            ) { progress(start + $0 / 2) }
            // The bad sentence from its last shared word on (from <s> when it shares none).
            let second = continuations(
                inputs: bad.indices.map { shared[$0] > 0 ? ids(Array(bad[$0][(shared[$0] - 1)...])) : [1] + ids(bad[$0]) },
                targets: bad.indices.map { ids(Array(bad[$0][shared[$0]...])) + [2] }, initial: first.states
            ) { progress(start + (chunk.count + $0) / 2) }
            result += good.indices.map { i in
                (scored(good[i], first.logp[i]), scored(bad[i], Array(first.logp[i].prefix(shared[i])) + second.logp[i]))
            }
        }
        return result
    }

    private func requireLanguageModel() throws {
        guard config.labelLevel == nil else {
            throw ModelError(.unsupported, folder, "this checkpoint is a tagger or classifier; score minimal pairs with a language model")
        }
    }

    private func scored(_ words: [String], _ logp: [Double]) -> ScoredSentence {
        ScoredSentence(tokens: words + ["</s>"], logProbabilities: logp, unknown: words.map { vocabulary.id($0) == 0 } + [false])
    }

    /// ln p of each sequence's `targets` given its `inputs` (one target per input), from its
    /// `initial` state per layer (zero when nil), in batches of one length (stable order by
    /// length, so the recurrence runs no padding); with `capture[i]`, each layer's (h, c) after
    /// that step of sequence i.
    func continuations(
        inputs: [[Int32]], targets: [[Int32]], initial: [[(hidden: [Float], cells: [Float])]?]? = nil, capture: [Int?]? = nil,
        progress: (Int) -> Void = { _ in }
    ) -> (logp: [[Double]], states: [[(hidden: [Float], cells: [Float])]?]) {
        let h = hiddenSize, layers = config.layers
        let order = inputs.indices.sorted {
            (inputs[$0].count, initial?[$0] == nil ? 0 : 1, $0) < (inputs[$1].count, initial?[$1] == nil ? 0 : 1, $1)
        }
        var logp = [[Double]](repeating: [], count: inputs.count)
        var states = [[(hidden: [Float], cells: [Float])]?](repeating: nil, count: inputs.count)
        var start = 0, done = 0
        while start < order.count {
            // Sequences of one length and one kind of start, up to batchTokens tokens.
            let steps = inputs[order[start]].count, resumed = initial?[order[start]] != nil
            var end = start + 1
            while end < order.count && inputs[order[end]].count == steps && (initial?[order[end]] != nil) == resumed
                && (end - start + 1) * steps <= max(batchTokens, steps)
            {
                end += 1
            }
            let members = Array(order[start..<end]), batch = members.count
            var ids = [Int32](repeating: 0, count: steps * batch), wanted = ids
            for (b, i) in members.enumerated() {
                for t in 0..<steps { (ids[t * batch + b], wanted[t * batch + b]) = (inputs[i][t], targets[i][t]) }
            }
            let startStates: [(hidden: [Float], cells: [Float])]? =
                resumed
                ? (0..<layers).map { k in
                    (members.flatMap { initial![$0]![k].hidden }, members.flatMap { initial![$0]![k].cells })
                } : nil
            var none: SplitMix64? = nil
            let pass = network.forward(ids: ids, steps: steps, batch: batch, generator: &none, initial: startStates)
            let scored = network.score(pass, targets: wanted)
            var rowLoss = [Double](repeating: 0, count: ids.count)
            for (k, row) in scored.rows.enumerated() { rowLoss[row] = scored.rowLosses[k] }
            for (b, i) in members.enumerated() {
                logp[i] = (0..<steps).map { -rowLoss[$0 * batch + b] }
                if let t = capture?[i] {
                    let row = (t * batch + b) * h
                    states[i] = (0..<layers).map { k in
                        (Array(pass.hidden[k][row..<(row + h)]), Array(pass.cells[k][row..<(row + h)]))
                    }
                }
            }
            done += batch
            progress(done)
            start = end
        }
        return (logp, states)
    }
}

extension ActivationExtractor {
    /// The text's tokens after the tokenizer's `<|endoftext|>` (GPT-2's and GPT-NeoX's start of
    /// a document, as lm-evaluation-harness and BLiMP's GPT-2 runs score): every token of the
    /// sentence is predicted, the first from the start token alone. Causal models only.
    public func logProbabilities(_ sentences: [SentenceText], progress: (Int) -> Void = { _ in }) throws -> [ScoredSentence] {
        var result: [ScoredSentence] = []
        try predictions(sentences.map(\.text), progress: progress) { sequences, targets, _, logits in
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
        let (v, h) = (model.config.vocabularySize, model.config.hiddenSize)
        var gradient = Matrix<Float>(rows: v, columns: h)
        var index = 0  // sentences seen: even = good (+), odd = bad (−)
        try predictions(pairs.flatMap { [$0.good, $0.bad] }) { sequences, targets, states, logits in
            var d = logits
            let width = d.columns
            precondition(width == v, "a language-model head over the vocabulary")
            var row = 0
            d.withUnsafeMutableBufferPointer { p in
                for s in sequences {
                    let sign: Float = index % 2 == 0 ? 1 : -1
                    for _ in 1..<s.count {
                        let r = p.baseAddress! + row * width
                        var top = r[0]
                        for j in 1..<width where r[j] > top { top = r[j] }
                        var sum: Float = 0
                        for j in 0..<width { r[j] = Foundation.exp(r[j] - top); sum += r[j] }
                        for j in 0..<width { r[j] = -sign * r[j] / sum }
                        r[targets[row]] += sign
                        row += 1
                    }
                    index += 1
                }
            }
            gradient.addProduct(d, states, transposeA: true)
        }
        return gradient.elements
    }

    /// Runs `texts` (after `<|endoftext|>`) in batches and hands each batch's sequences, the
    /// target of each prediction row, the top states of those rows and their logits to `body`.
    func predictions(
        _ texts: [String], progress: (Int) -> Void = { _ in },
        _ body: (_ sequences: [[Int]], _ targets: [Int], _ states: Matrix<Float>, _ logits: Matrix<Float>) throws -> Void
    ) throws {
        guard !model.config.architecture.isEncoder, case .languageModel = model.head else {
            throw ModelError(
                .unsupported, model.folder,
                "minimal pairs are scored by a causal language model's log-probabilities (GPT-2, GPT-NeoX, a sonde-lstm); this checkpoint is not one")
        }
        guard let start = tokenizer.ids["<|endoftext|>"] else {
            throw ModelError(.unsupported, tokenizer.path, "no <|endoftext|> token to start a sentence with")
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
            try body(sequences, targets, last.rows(rows), logits)
            progress(next)
        }
    }
}

/// Both sentences of each pair under `model`: an LSTM shares their common start
/// (`pairLogProbabilities`); a transformer scores each sentence whole.
public func pairLogProbabilities(
    _ model: any LanguageModel, _ pairs: [(good: SentenceText, bad: SentenceText)], progress: (Int) -> Void = { _ in }
) throws -> [(good: ScoredSentence, bad: ScoredSentence)] {
    if let lstm = model as? LSTMModel { return try lstm.pairLogProbabilities(pairs, progress: progress) }
    let scored = try sentenceLogProbabilities(model, pairs.flatMap { [$0.good, $0.bad] }) { progress($0 / 2) }
    return pairs.indices.map { (scored[2 * $0], scored[2 * $0 + 1]) }
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
