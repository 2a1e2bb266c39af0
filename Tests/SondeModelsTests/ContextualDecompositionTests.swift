import Foundation
import SondeBase
import Testing

@testable import SondeModels

/// Contextual decomposition of the native LSTM: exact against the forward pass, the empty and
/// whole spans, additivity on a linear network, and interdependence.
struct ContextualDecompositionTests {
    /// A 2-layer LSTM with weights of every sign and size (seeded PyTorch initialisation, then
    /// biases pushed far from 0 so that the bias terms matter).
    static func network(hidden: Int = 6, vocabulary: Int = 12, seed: UInt64 = 5, scale: Float = 6) -> LSTMNetwork<Float> {
        var net = LSTMNetwork<Float>(config: LSTMConfig(vocabularySize: vocabulary, hiddenSize: hidden, layers: 2))
        net.initialize(seed: seed)
        for t in net.tensors where t.name.hasPrefix("rnn.bias") || t.name == "encoder.weight" {
            for i in t.offset..<(t.offset + t.shape.reduce(1, *)) { net.values[i] *= scale }
        }
        return net
    }

    let ids: [Int32] = [1, 4, 7, 2, 9, 11, 5, 3]

    @Test(arguments: [Set<Int>(), [3], [1, 2], [2, 6, 7], Set(0..<8)])
    func relevantPlusIrrelevantIsTheForwardPass(span: Set<Int>) {
        let net = Self.network()
        var none: SplitMix64? = nil
        let pass = net.forward(ids: ids, steps: ids.count, batch: 1, generator: &none)
        let d = net.decompose(ids: ids, spans: [span])
        for k in 0..<2 {
            for i in pass.hidden[k].indices {
                #expect(abs(d.relevantHidden[k][i] + d.irrelevantHidden[k][i] - pass.hidden[k][i]) < 1e-5)
                #expect(abs(d.relevantCells[k][i] + d.irrelevantCells[k][i] - pass.cells[k][i]) < 1e-5)
            }
        }
        if span.isEmpty { #expect((d.relevantHidden + d.relevantCells).allSatisfy { $0.allSatisfy { abs($0) < 1e-7 } }) }
    }

    /// A span of every position leaves γ the bias-only terms: at the first position γ_c is
    /// σ(b_i)·tanh(b_g) exactly (bias × bias), and γ_h its share of tanh(c); after it, γ is what
    /// those terms become through the recurrence — with every bias zero, γ is 0 everywhere.
    @Test func theWholeSpanLeavesOnlyTheBiases() {
        var net = Self.network()
        var none: SplitMix64? = nil
        let pass = net.forward(ids: ids, steps: ids.count, batch: 1, generator: &none)
        let d = net.decompose(ids: ids, spans: [Set(0..<ids.count)])
        let h = 6
        let (bih, bhh) = (net.offset("rnn.bias_ih_l0"), net.offset("rnn.bias_hh_l0"))
        func bias(_ j: Int) -> Double { Double(net.values[bih + j] + net.values[bhh + j]) }
        for j in 0..<h {
            let gamma = 1 / (1 + exp(-bias(j))) * tanh(bias(2 * h + j))
            #expect(abs(Double(d.irrelevantCells[0][j]) - gamma) < 1e-6)
            let (c, o) = (Double(pass.cells[0][j]), Double(pass.gates[0][3 * h + j]))
            #expect(abs(Double(d.irrelevantHidden[0][j]) - o * (tanh(gamma) + tanh(c) - tanh(c - gamma)) / 2) < 1e-6)
        }
        for t in net.tensors where t.name.hasPrefix("rnn.bias") { for i in t.offset..<(t.offset + t.shape.reduce(1, *)) { net.values[i] = 0 } }
        let unbiased = net.decompose(ids: ids, spans: [Set(0..<ids.count)])
        #expect((unbiased.irrelevantHidden + unbiased.irrelevantCells).allSatisfy { $0.allSatisfy { abs($0) < 1e-6 } })
    }

    /// With σ and tanh the identity and the gates' weights zero (constant gates), the network is
    /// affine and the decomposition additive: every pair's interaction is 0. (The identity
    /// alone is not enough: i·g and f·c multiply what two words contribute.) With the gates and
    /// the nonlinearities back, it is not.
    @Test func aLinearNetworkHasNoInteractions() {
        let gated = Self.network()
        // PyTorch's scale of biases: a forget "gate" b_f < 1 keeps the linear network's states bounded.
        var net = Self.network(scale: 1)
        let h = 6
        for k in 0..<2 {
            for name in ["rnn.weight_ih_l\(k)", "rnn.weight_hh_l\(k)"] {
                let o = net.offset(name)
                for row in 0..<(4 * h) where row < 2 * h || row >= 3 * h { for c in 0..<h { net.values[o + row * h + c] = 0 } }
            }
        }
        func largestInteraction(_ net: LSTMNetwork<Float>, identity: Bool) -> Float {
            let pairs = [(1, 3), (2, 6), (4, 5)]
            let spans = pairs.flatMap { [Set([$0.0]), Set([$0.1]), Set([$0.0, $0.1])] }
            let d = net.decompose(ids: ids, spans: spans, identity: identity)
            var largest: Float = 0
            for (p, (_, later)) in pairs.enumerated() {
                for k in 0..<2 {
                    for t in later..<ids.count {
                        for j in 0..<h {
                            func beta(_ s: Int) -> Float { d.relevantHidden[k][(t * spans.count + 3 * p + s) * h + j] }
                            largest = max(largest, abs(beta(2) - beta(0) - beta(1)) / max(1, abs(beta(2))))
                        }
                    }
                }
            }
            return largest
        }
        #expect(largestInteraction(net, identity: true) < 1e-5)
        #expect(largestInteraction(gated, identity: false) > 1e-4)
    }

    /// Against CD written again in PyTorch, position by position (benchmarks/references/
    /// cd_reference.py, torch 2.13, float32; its nn.LSTM's own h equals β + γ there): per
    /// sentence, span and layer, Σβ_h, Σβ_h² and β_h at the last position's neuron 0.
    @Test func matchesAnIndependentImplementation() {
        let sentences = [
            ["From", "the", "AP", "comes", "this", "story", ":"],
            ["A", "la", "guerre", "c'est", "comme", "a", "la", "guerre", "!"],
            ["In", "Ramadi", ",", "there", "was", "a", "big", "demonstration", "."],
        ]
        var words = Vocabulary.specials
        for w in sentences.joined() where !words.contains(w) { words.append(w) }
        var net = LSTMNetwork<Float>(config: LSTMConfig(vocabularySize: words.count, hiddenSize: 8, layers: 2))
        for k in net.values.indices { net.values[k] = Float(0.5 * sin(0.37 * Double(k) + 0.1)) }
        for i in 0..<(words.count * 8) { net.values[i] *= 3 }
        let model = LSTMModel(network: net, vocabulary: Vocabulary(words: words), folder: "memory")
        let reference: [(Int, [Int], Int, Double, Double, Double)] = [
            (0, [0], 1, -1.3575205, 0.70424949, 0.0259813089), (0, [0], 2, -0.124742116, 0.0639842024, -0.00080857327),
            (0, [2, 3], 1, -4.4140205, 1.91863906, -0.0320679769), (0, [2, 3], 2, -0.0355334204, 0.264619037, -0.0106962398),
            (0, Array(0..<7), 1, -13.619935, 6.98201461, -0.0749296769), (0, Array(0..<7), 2, -1.10188771, 1.13874276, -0.0334373936),
            (1, [1], 1, -2.20405099, 1.48082169, 0.0047681625), (1, [1], 2, -0.471016037, 0.100008672, 0.00228168443),
            (1, [1, 6], 1, -5.1028149, 2.83800385, 0.0201611854), (1, [1, 6], 2, -0.634153795, 0.240637598, -0.0157051738),
            (1, [3, 4, 5], 1, -2.67187424, 1.19508563, 0.0126689756), (1, [3, 4, 5], 2, -0.480939036, 0.115864082, 0.0126711344),
            (2, [7], 1, -1.44320035, 0.666274647, -0.177553445), (2, [7], 2, 0.0784790194, 0.0303452449, -0.00924473163),
            (2, [0, 8], 1, -3.21310934, 1.92297157, 0.117306016), (2, [0, 8], 2, -0.294992663, 0.0966985624, -0.00959900394),
            (2, [2], 1, -0.994583477, 0.352928711, -0.017513603), (2, [2], 2, -0.0764008608, 0.016861823, -0.00105263374),
        ]
        for (s, span, layer, sum, squares, last) in reference {
            let beta = model.decompose(sentences[s], spans: [span])[0][layer - 1].relevantHidden
            let values = beta.elements.map(Double.init)
            #expect(abs(values.reduce(0, +) - sum) < 1e-5 * max(1, abs(sum)), "\(s) \(span) \(layer)")
            #expect(abs(values.reduce(0) { $0 + $1 * $1 } - squares) < 1e-5 * max(1, squares))
            #expect(abs(Double(beta[beta.rows - 1, 0]) - last) < 1e-6)
        }
    }

    /// The model-level interdependence from the same decomposition computed by hand.
    @Test func interdependenceOfWordPairs() {
        let net = Self.network(hidden: 6, vocabulary: 9)
        let model = LSTMModel(network: net, vocabulary: Vocabulary(words: Vocabulary.specials + ["a", "b", "c", "d", "e"]), folder: "memory")
        let words = ["a", "b", "c", "d", "e", "a"]
        // A row budget that splits the batch: the three sentences run in two decompositions.
        let three = model.interdependence([words, ["e", "d"], Array(words.prefix(4))], maxDistance: 2, layers: [1, 2], rows: 80)
        let all = three[0]
        #expect(three[1].count == 2 && three[2].count == (3 + 2) * 2)
        #expect(all.count == (5 + 4) * 2 && all.allSatisfy { $0.second - $0.first <= 2 && $0.value > 0 && $0.value.isFinite })
        let pair = all.first { $0.first == 1 && $0.second == 3 && $0.layer == 2 }!
        let d = model.decompose(words, spans: [[1], [3], [1, 3]])
        let row = 4  // the later word's position (word 3 after <s>)
        var interaction = 0.0, joint = 0.0, state = 0.0
        for j in 0..<6 {
            let b = (0..<3).map { Double(d[$0][1].relevantHidden[row, j]) }
            interaction += (b[2] - b[0] - b[1]) * (b[2] - b[0] - b[1])
            joint += b[2] * b[2]
            let whole = Double(d[0][1].relevantHidden[row, j] + d[0][1].irrelevantHidden[row, j])
            state += whole * whole
        }
        #expect(abs(pair.value - (interaction / joint).squareRoot()) < 1e-6)
        #expect(abs(pair.relativeToState - (interaction / state).squareRoot()) < 1e-6)
        // Two single words as sets: the same pair; a word and a span: read after both by default.
        let sets = model.interdependence(words, between: [1], and: [3])
        #expect(sets.count == 2 && abs(sets[1].value - pair.value) < 1e-6 && sets[1].read == 3)
        let span = model.interdependence(words, between: [0], and: [2, 3, 4])
        #expect(span.allSatisfy { $0.read == 4 && $0.value > 0 && $0.value.isFinite })
    }
}
