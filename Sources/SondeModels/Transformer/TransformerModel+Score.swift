import Foundation
import SondeBase
import SondeLinalg

extension TransformerModel {
    /// Scores the model on `sentences` with `ablations` applied inside the forward pass.
    /// Masked models mask 15% of each sentence's tokens (at least one), chosen by `seed`, and
    /// replace them by the mask token; the same seed masks the same tokens, so an ablated and an
    /// unablated run are compared on the same predictions. Tokens are scored once, in the window
    /// that holds them (see `windows`); a classifier reads each sentence's first window.
    public func score(
        _ sentences: [[String]], labels: [[String]]? = nil, ablations: [NeuronAblation] = [], seed: UInt64 = 2026, words: [[Bool]]? = nil,
        progress: (Int) -> Void = { _ in }
    ) throws -> ModelScore {
        let masked = network.config.architecture.isEncoder
        if let words {
            guard case .languageModel = network.head else {
                throw ModelError(.unsupported, network.folder, "only a language model's predictions can be counted by word")
            }
            guard words.count == sentences.count, zip(words, sentences).allSatisfy({ $0.count == $1.count }) else {
                throw ModelError(.unsupported, network.folder, "one flag per word of every sentence is needed to count predictions by word")
            }
        }
        var maskID: Int?
        var classIndex: [String: Int] = [:]
        let sentenceLabels = labels?.map { $0.first ?? "" }
        switch network.head {
        case .none:
            throw ModelError(.unsupported, network.folder, "the checkpoint has no language-model or classification head to score")
        case .sequenceClassifier(let classes):
            guard let labels = sentenceLabels, labels.count == sentences.count else {
                throw ModelError(
                    .unsupported, network.folder,
                    "a classifier is scored against one label per sentence; give the property that holds them (e.g. --property genre)")
            }
            for (i, c) in classes.enumerated() { classIndex[c] = i }
            if let unknown = labels.first(where: { classIndex[$0] == nil }) {
                throw ModelError(
                    .malformed, network.folder, "the label '\(unknown)' is not one of the classifier's classes (\(classes.joined(separator: ", ")))")
            }
        case .languageModel:
            if masked {
                maskID = tokenizer.ids["[MASK]"] ?? tokenizer.ids["<mask>"]
                guard maskID != nil else { throw ModelError(.unsupported, tokenizer.path, "a masked language model needs a [MASK] or <mask> token") }
            }
        }
        var total = 0.0, correct = 0, count = 0
        var next = 0
        while next < sentences.count {
            // One batch: sentences packed up to batchTokens, each with the rows its predictions read.
            var sequences: [[Int]] = []
            var targets: [(row: Int, target: Int)] = []
            var tokens = 0
            var starts: [Int] = []
            while next < sentences.count && (sequences.isEmpty || tokens < batchTokens) {
                var encoded = try encode(sentences[next])
                let original = encoded.tokens
                // With `words`: the tokens whose predictions count (those of the flagged words).
                var counted: [Bool]?
                if let flags = words?[next] {
                    var tokenFlags = [Bool](repeating: false, count: original.count)
                    for (w, range) in encoded.words.enumerated() where flags[w] { for t in range { tokenFlags[t] = true } }
                    counted = tokenFlags
                }
                var maskedPositions: [Int] = []
                if let maskID {
                    var generator = SplitMix64(seed: seed ^ UInt64(next))
                    let n = original.count
                    maskedPositions = Array(generator.shuffled(Array(0..<n)).prefix(max(1, Int((Double(n) * 0.15).rounded())))).sorted()
                    var tokensMasked = original
                    for p in maskedPositions { tokensMasked[p] = maskID }
                    encoded = EncodedSentence(tokens: tokensMasked, words: encoded.words)
                }
                let (own, source) = windows(encoded)
                let first = sequences.count
                for s in own { starts.append(tokens); tokens += s.count }
                sequences += own
                switch network.head {
                case .sequenceClassifier:
                    let range = starts[first]..<(starts[first] + own[0].count)
                    targets.append((network.pooledRow(of: range), classIndex[sentenceLabels![next]]!))
                case .languageModel where masked:
                    for p in maskedPositions where counted?[p] ?? true {
                        targets.append((starts[first + source[p].sequence] + source[p].position, original[p]))
                    }
                default:
                    for t in 0..<original.count where source[t].position > 0 && counted?[t] ?? true {
                        targets.append((starts[first + source[t].sequence] + source[t].position - 1, original[t]))
                    }
                }
                next += 1
            }
            let last = try network.hiddenStates(sequences, ablations: ablations).last!
            guard !targets.isEmpty, let logits = network.headLogits(last, rows: targets.map(\.row)) else { progress(next); continue }
            logits.withUnsafeBufferPointer { p in
                let width = logits.columns
                for (i, t) in targets.enumerated() {
                    let row = p.baseAddress! + i * width
                    var top = row[0], best = 0
                    for j in 1..<width where row[j] > top { top = row[j]; best = j }
                    var sum = 0.0
                    for j in 0..<width { sum += exp(Double(row[j] - top)) }
                    total += log(sum) - Double(row[t.target] - top)
                    if best == t.target { correct += 1 }
                }
                count += targets.count
            }
            progress(next)
        }
        let task: String
        switch network.head {
        case .sequenceClassifier: task = "classification"
        default: task = masked ? "masked-token" : "next-token"
        }
        guard count > 0 else {
            if words != nil { throw ModelError(.unsupported, network.folder, "nothing to score: no \(task) prediction falls on the chosen words") }
            throw ModelError(
                .unsupported, network.folder, "nothing to score: every sentence is a single token (\(task) predictions need at least two)")
        }
        let loss = total / Double(count)
        return ModelScore(task: task, predictions: count, loss: loss, perplexity: exp(loss), accuracy: Double(correct) / Double(count))
    }

    /// The mean of each neuron of `layer` over every token of `sentences` (unablated): the
    /// values mean-ablation substitutes.
    public func tokenMeans(_ sentences: [[String]], layer: Int) throws -> [Float] {
        let h = network.config.hiddenSize
        var sums = [Double](repeating: 0, count: h)
        var count = 0
        var next = 0
        while next < sentences.count {
            var sequences: [[Int]] = []
            var tokens = 0
            while next < sentences.count && (sequences.isEmpty || tokens < batchTokens) {
                let own = windows(try encode(sentences[next])).sequences
                sequences += own
                tokens += own.reduce(0) { $0 + $1.count }
                next += 1
            }
            let state = try network.hiddenStates(sequences)[layer]
            state.withUnsafeBufferPointer { p in
                for r in 0..<state.rows { for j in 0..<h { sums[j] += Double(p[r * h + j]) } }
            }
            count += state.rows
        }
        return sums.map { Float($0 / Double(max(count, 1))) }
    }
}
