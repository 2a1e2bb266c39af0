import Foundation
import SondeBase
import SondeLinalg

extension LSTMModel {
    /// `<s> w₁ … wₙ` predicting `w₁ … wₙ </s>`: the end symbol is part of the sentence's
    /// probability (the model was trained with it, and without it a sentence cut short would
    /// look as likely as a whole one). Unknown words are predicted as `<unk>`, as in training.
    public func logProbabilities(_ sentences: [SentenceText], ablations: [NeuronAblation], progress: (Int) -> Void) throws -> [ScoredSentence] {
        try requireLanguageModel()
        let words = sentences.map(\.words)
        let run = continuations(
            inputs: words.map { [1] + ids($0) }, targets: words.map { ids($0) + [2] }, ablate: try ablationMap(ablations), progress: progress)
        return words.indices.map { scored(words[$0], run.logp[$0]) }
    }

    /// Both sentences of each pair, the words they share at the start run once: the bad
    /// sentence continues from the good one's state before its last shared word (the
    /// predictions up to there are the same), so a pair costs about one sentence plus the rest
    /// of the other. Equal to scoring each sentence alone, to Float rounding.
    public func pairLogProbabilities(
        _ pairs: [(good: SentenceText, bad: SentenceText)], ablations: [NeuronAblation], progress: (Int) -> Void
    ) throws -> [(good: ScoredSentence, bad: ScoredSentence)] {
        try pairLogProbabilities(pairs, chunk: 4096, ablations: ablations, progress: progress)
    }

    func pairLogProbabilities(
        _ pairs: [(good: SentenceText, bad: SentenceText)], chunk size: Int, ablations: [NeuronAblation] = [], progress: (Int) -> Void = { _ in }
    ) throws -> [(good: ScoredSentence, bad: ScoredSentence)] {
        try requireLanguageModel()
        let ablate = try ablationMap(ablations)
        // In chunks: each pair's saved state (h and c of every layer, 4 kB at 2 × 256) would
        // otherwise grow with the pairs file, forty times its text.
        var result: [(good: ScoredSentence, bad: ScoredSentence)] = []
        result.reserveCapacity(pairs.count)
        for start in stride(from: 0, to: pairs.count, by: size) {
            let chunk = pairs[start..<min(pairs.count, start + size)]
            let good = chunk.map(\.good.words), bad = chunk.map(\.bad.words)
            let shared = good.indices.map { i in zip(good[i], bad[i]).prefix { $0 == $1 }.count }
            let first = continuations(
                inputs: good.map { [1] + ids($0) }, targets: good.map { ids($0) + [2] }, capture: shared.map { $0 > 0 ? $0 - 1 : nil },
                ablate: ablate
            ) { progress(start + $0 / 2) }
            // The bad sentence from its last shared word on (from <s> when it shares none).
            let second = continuations(
                inputs: bad.indices.map { shared[$0] > 0 ? ids(Array(bad[$0][(shared[$0] - 1)...])) : [1] + ids(bad[$0]) },
                targets: bad.indices.map { ids(Array(bad[$0][shared[$0]...])) + [2] }, initial: first.states, ablate: ablate
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
        ablate: [Int: [NeuronAblation]] = [:], progress: (Int) -> Void = { _ in }
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
            let pass = network.forward(ids: ids, steps: steps, batch: batch, ablate: ablate, generator: &none, initial: startStates)
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
