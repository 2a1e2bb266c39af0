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

    /// The interdependence of every pair of words at most `maxDistance` apart, read at the later
    /// word's output of each layer in `layers` (1…L). Each word and each pair is one span of
    /// one batched decomposition (spans in groups of `spansPerPass`, bounding memory); a pair
    /// costs a span, not a forward pass of its own.
    public func interdependence(_ words: [String], maxDistance: Int, layers: [Int], spansPerPass: Int = 64) -> [WordInteraction] {
        let n = words.count
        guard n >= 2, maxDistance >= 1 else { return [] }
        let ids = [Int32(1)] + words.map { vocabulary.id($0) }
        let pairs = (0..<n).flatMap { i in ((i + 1)..<min(n, i + maxDistance + 1)).map { (i, $0) } }
        // Spans: each word alone (index i), then each pair (index n + k).
        let spans = (0..<n).map { Set([$0 + 1]) } + pairs.map { Set([$0.0 + 1, $0.1 + 1]) }
        let h = hiddenSize, steps = ids.count
        // β of every span at every layer and position, kept only where a pair reads it.
        var relevant = [[Float]](repeating: [], count: spans.count)  // [span] → layers × positions × H
        var whole: [Float] = []  // h = β + γ of the first span: layers × positions × H
        for start in stride(from: 0, to: spans.count, by: spansPerPass) {
            let group = Array(spans[start..<min(spans.count, start + spansPerPass)])
            let d = network.decompose(ids: ids, spans: group)
            for (b, _) in group.enumerated() {
                var values = [Float](repeating: 0, count: layerCount * steps * h)
                for k in 0..<layerCount {
                    for p in 0..<steps { for j in 0..<h { values[(k * steps + p) * h + j] = d.relevantHidden[k][(p * group.count + b) * h + j] } }
                }
                relevant[start + b] = values
                if start + b == 0 {
                    whole = values
                    for k in 0..<layerCount {
                        for p in 0..<steps { for j in 0..<h { whole[(k * steps + p) * h + j] += d.irrelevantHidden[k][(p * group.count + b) * h + j] } }
                    }
                }
            }
        }
        var result: [WordInteraction] = []
        for (index, (i, j)) in pairs.enumerated() {
            for layer in layers where (1...layerCount).contains(layer) {
                let base = ((layer - 1) * steps + j + 1) * h
                var interaction = 0.0, joint = 0.0, state = 0.0
                for u in 0..<h {
                    let pair = Double(relevant[n + index][base + u])
                    let v = pair - Double(relevant[i][base + u]) - Double(relevant[j][base + u])
                    interaction += v * v
                    joint += pair * pair
                    state += Double(whole[base + u]) * Double(whole[base + u])
                }
                result.append(
                    WordInteraction(
                        first: i, second: j, layer: layer, value: joint > 0 ? (interaction / joint).squareRoot() : 0,
                        relativeToState: state > 0 ? (interaction / state).squareRoot() : 0))
            }
        }
        return result
    }
}
