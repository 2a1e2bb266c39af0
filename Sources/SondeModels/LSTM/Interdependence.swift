import SondeLinalg

/// One layer's contextual decomposition for one span of a sentence (`LSTMModel.decompose`):
/// [positions × H] matrices, position 0 being `<s>` and position i + 1 the word i.
public struct SpanDecomposition: Sendable {
    public let relevantHidden: Matrix<Float>
    public let irrelevantHidden: Matrix<Float>
    public let relevantCells: Matrix<Float>
    public let irrelevantCells: Matrix<Float>
}

/// The decompositional interdependence of two words (Saphra & Lopez 2020): the part of their
/// joint contribution to a state that neither contributes alone, relative to their joint
/// contribution,
///   DI(x, y) = ‖β({x, y}) − β({x}) − β({y})‖₂ / ‖β({x, y})‖₂,
/// β the contextual decomposition's relevant part of layer `layer`'s output h at the position
/// read — the later word's, after the model has read both (Saphra's code, `nsaphra/acd`,
/// `lm_syntactic_decomposition.py`: the interaction over the pair's relevant part, read at the
/// later word; the paper's own text could not be checked here). `relativeToState` divides by
/// ‖h‖₂ instead: the interaction's share of the whole state.
public struct WordInteraction: Codable, Sendable, Equatable {
    /// Word indices in the sentence, first < second.
    public var first: Int
    public var second: Int
    public var layer: Int
    public var value: Double
    public var relativeToState: Double
}

extension LSTMModel {
    /// The contextual decomposition of `words` (read as `<s> w₁ … wₙ`) for each span of word
    /// indices: per span, per layer 1…L, β and γ of h and c at every position.
    public func decompose(_ words: [String], spans: [[Int]]) -> [[SpanDecomposition]] {
        let ids = [Int32(1)] + words.map { vocabulary.id($0) }
        let d = network.decompose(ids: ids, spans: spans.map { Set($0.map { $0 + 1 }) })
        let (t, b, h) = (ids.count, spans.count, hiddenSize)
        func matrix(_ values: [Float], span: Int) -> Matrix<Float> {
            Matrix(rows: t, columns: h) { out in for p in 0..<t { for j in 0..<h { out[p * h + j] = values[(p * b + span) * h + j] } } }
        }
        return (0..<b).map { span in
            (0..<layerCount).map { k in
                SpanDecomposition(
                    relevantHidden: matrix(d.relevantHidden[k], span: span), irrelevantHidden: matrix(d.irrelevantHidden[k], span: span),
                    relevantCells: matrix(d.relevantCells[k], span: span), irrelevantCells: matrix(d.irrelevantCells[k], span: span))
            }
        }
    }

    /// The interdependence of every pair of words at most `maxDistance` apart in each sentence,
    /// read at the later word's output of each layer in `layers` (1…L). Each word and each pair
    /// is one span, and the spans of several sentences (similar lengths together) run as one
    /// batched decomposition of at most about `rows` rows (positions × spans), bounding memory:
    /// a pair costs a span, not a forward pass of its own.
    public func interdependence(_ sentences: [[String]], maxDistance: Int, layers: [Int], rows: Int = 16_384) -> [[WordInteraction]] {
        let h = hiddenSize
        var result = [[WordInteraction]](repeating: [], count: sentences.count)
        /// Per sentence: its pairs, and its spans — each word alone (index i), then each pair (n + k).
        func plan(_ n: Int) -> (pairs: [(Int, Int)], spans: [Set<Int>]) {
            let pairs = (0..<n).flatMap { i in ((i + 1)..<min(n, i + maxDistance + 1)).map { (i, $0) } }
            return (pairs, (0..<n).map { Set([$0 + 1]) } + pairs.map { Set([$0.0 + 1, $0.1 + 1]) })
        }
        let order = sentences.indices.filter { sentences[$0].count >= 2 && maxDistance >= 1 }.sorted { sentences[$0].count < sentences[$1].count }
        var start = 0
        while start < order.count {
            var end = start, spanCount = 0
            while end < order.count {
                let n = sentences[order[end]].count, more = plan(n).spans.count
                if end > start && (spanCount + more) * (n + 1) > rows { break }
                spanCount += more
                end += 1
            }
            let group = order[start..<end].map { s in (s, plan(sentences[s].count)) }
            let d = network.decompose(sequences: group.map { s, p in ([Int32(1)] + sentences[s].map { vocabulary.id($0) }, p.spans) })
            let batch = spanCount
            var offset = 0  // the group's first span in the batch
            for (s, p) in group {
                let n = sentences[s].count
                for (index, (i, j)) in p.pairs.enumerated() {
                    for layer in layers where (1...layerCount).contains(layer) {
                        let (beta, gamma) = (d.relevantHidden[layer - 1], d.irrelevantHidden[layer - 1])
                        // Row of span b at the later word's position j + 1.
                        func at(_ b: Int) -> Int { ((j + 1) * batch + offset + b) * h }
                        let (pair, left, right) = (at(n + index), at(i), at(j))
                        var interaction = 0.0, joint = 0.0, state = 0.0
                        for u in 0..<h {
                            let both = Double(beta[pair + u])
                            let v = both - Double(beta[left + u]) - Double(beta[right + u])
                            interaction += v * v
                            joint += both * both
                            let whole = both + Double(gamma[pair + u])
                            state += whole * whole
                        }
                        result[s].append(
                            WordInteraction(
                                first: i, second: j, layer: layer, value: joint > 0 ? (interaction / joint).squareRoot() : 0,
                                relativeToState: state > 0 ? (interaction / state).squareRoot() : 0))
                    }
                }
                offset += p.spans.count
            }
            start = end
        }
        return result
    }
}

/// The interdependence of two sets of words — a word and a span, or two spans — at one layer:
/// ‖β(x ∪ y) − β(x) − β(y)‖ / ‖β(x ∪ y)‖ at the state read, and over ‖h‖.
public struct SpanInteraction: Codable, Sendable, Equatable {
    public var layer: Int
    /// The word index whose state is read.
    public var read: Int
    public var value: Double
    public var relativeToState: Double
}

extension LSTMModel {
    /// The interdependence of word sets `x` and `y` (indices into `words`, disjoint) at every
    /// layer, read at word `read` (default: the last word of either set — the state after both).
    public func interdependence(_ words: [String], between x: [Int], and y: [Int], read: Int? = nil) -> [SpanInteraction] {
        precondition(Set(x).isDisjoint(with: y) && (x + y).allSatisfy { words.indices.contains($0) }, "x and y: disjoint words of the sentence")
        let position = read ?? ((x + y).max() ?? 0)
        precondition(words.indices.contains(position), "read: a word of the sentence")
        let d = decompose(words, spans: [x, y, Array(Set(x + y))])
        return (0..<layerCount).map { k in
            var interaction = 0.0, joint = 0.0, state = 0.0
            for u in 0..<hiddenSize {
                let (a, b, both) = (Double(d[0][k].relevantHidden[position + 1, u]), Double(d[1][k].relevantHidden[position + 1, u]), Double(d[2][k].relevantHidden[position + 1, u]))
                let whole = both + Double(d[2][k].irrelevantHidden[position + 1, u])
                interaction += (both - a - b) * (both - a - b)
                joint += both * both
                state += whole * whole
            }
            return SpanInteraction(
                layer: k + 1, read: position, value: joint > 0 ? (interaction / joint).squareRoot() : 0,
                relativeToState: state > 0 ? (interaction / state).squareRoot() : 0)
        }
    }
}
