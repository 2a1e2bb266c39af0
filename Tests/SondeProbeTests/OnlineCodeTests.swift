import Foundation
import SondeBase
import SondeLinalg
import Testing

@testable import SondeProbe

/// The MDL online code: its arithmetic recomputed by hand (the order, the blocks, the uniform
/// first block, each block's −log₂ of the ε-mixed softmax of a probe trained on the rows before
/// it), and what it must say of labels that the activations do and do not encode.
struct OnlineCodeTests {
    let settings = ProbeSettings(penalty: .elasticNet(lambda: 1e-2, alpha: 0.5))

    /// 60 rows, 3 neurons, 3 classes; the class is the largest of the first two neurons unless
    /// the third is high (class 2), so every class is in the data and not all in the first block.
    func data(randomLabels: Bool = false, rows: Int = 60) -> ProbeDataset {
        var g = SplitMix64(seed: 11)
        var x = Matrix<Float>(rows: rows, columns: 3)
        var labels: [Int] = []
        for i in 0..<rows {
            for j in 0..<3 { x[i, j] = Float(g.unit() * 2 - 1) }
            let planted = x[i, 2] > 0.6 ? 2 : (x[i, 0] > x[i, 1] ? 0 : 1)
            labels.append(randomLabels ? g.below(3) : planted)
        }
        return ProbeDataset(x: x, labels: labels, classes: ["a", "b", "c"])
    }

    @Test func arithmeticByHand() {
        let d = data()
        let escape = 1e-3
        let code = OnlineCode.measure(d, settings: settings, shares: [0.1, 0.3, 1.0], seed: 5, escape: escape)
        var g = SplitMix64(seed: 5)
        let order = g.shuffled(Array(0..<60))
        #expect(code.blocks.map(\.start) == [0, 6, 18] && code.blocks.map(\.end) == [6, 18, 60])
        var expected = [6 * log2(3.0)]
        for (start, end) in [(6, 18), (18, 60)] {
            let present = Array(Set(order[0..<start].map { d.labels[$0] })).sorted()
            let train = ProbeDataset(
                x: d.x.rows(Array(order[0..<start])), labels: order[0..<start].map { present.firstIndex(of: d.labels[$0])! },
                classes: present.map { d.classes[$0] })
            let probe = FittedProbe.fit(train, settings: settings)
            var bits = 0.0
            for r in order[start..<end] {
                let z = probe.logits(d.x.rows([r]))
                let e = (0..<z.columns).map { exp(Double(z[0, $0])) }
                let p = present.firstIndex(of: d.labels[r]).map { e[$0] / e.reduce(0, +) } ?? 0
                bits += -log2((1 - escape) * p + escape / 3)
            }
            expected.append(bits)
        }
        for (block, bits) in zip(code.blocks, expected) { #expect(abs(block.bits - bits) < 1e-6 * max(1, bits), "\(block) vs \(bits)") }
        #expect(abs(code.uniformBits - 60 * log2(3.0)) < 1e-9 && abs(code.onlineBits - expected.reduce(0, +)) < 1e-6)
        #expect(abs(code.compression - code.uniformBits / code.onlineBits) < 1e-12)
    }

    /// A class absent from the first block costs log₂(K/ε) bits when it first comes.
    @Test func anUnseenClassCostsTheEscape() {
        var x = Matrix<Float>(rows: 20, columns: 1)
        for i in 0..<20 { x[i, 0] = Float(i) }
        let d = ProbeDataset(x: x, labels: (0..<20).map { $0 < 10 ? 0 : 1 }, classes: ["a", "b"])
        // The first block is one row: the next is coded by a probe that has seen one class,
        // p = 1 − ε + ε/K for that class and ε/K for the other.
        let code = OnlineCode.measure(d, settings: settings, shares: [0.05, 1.0], seed: 3, escape: 0.01)
        var g = SplitMix64(seed: 3)
        let first = g.shuffled(Array(0..<20))[0]
        let seen = d.labels[first]
        let expected = (0..<20).filter { $0 != first }.reduce(0.0) { sum, r in sum - log2((d.labels[r] == seen ? 0.99 : 0) + 0.01 / 2) }
        #expect(code.blocks.count == 2 && abs(code.blocks[1].bits - expected) < 1e-9)
    }

    @Test func encodedLabelsCompressAndRandomOnesDoNot() {
        let planted = OnlineCode.measure(data(rows: 2000), settings: settings, seed: 2)
        let random = OnlineCode.measure(data(randomLabels: true, rows: 2000), settings: settings, seed: 2)
        #expect(planted.blocks.count == 11 && planted.blocks.last!.end == 2000)
        #expect(planted.compression > 2, "\(planted.compression)")
        #expect(random.compression < 1.05 && random.compression > 0.8, "\(random.compression)")
    }
}
