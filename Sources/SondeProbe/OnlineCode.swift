import Foundation
import SondeBase
import SondeLinalg

/// Minimum description length of the labels given the activations, by the online code of Voita
/// & Titov (2020, "Information-Theoretic Probing with Minimum Description Length"): the rows in
/// a seeded random order; the first block sent with the uniform code (log₂ K bits a label); each
/// next block sent with a probe trained on every row before it. A property the activations
/// encode well costs few bits beyond the first blocks; compression = uniform / online bits.
///
/// A block's probe knows only the classes its training rows hold. So that a class it never saw
/// costs a finite number of bits, each probability is mixed with the uniform distribution,
/// p = (1 − ε)·p_probe + ε/K (ε = `escape`, default 10⁻³): a valid code that costs at most
/// −log₂(1 − ε) ≈ 0.0014 bits a label more than the probe's own, and log₂(K/ε) for an unseen class.
public struct OnlineCode: Codable, Sendable, Equatable {
    /// One transmitted block: rows `start..<end` of the shuffled order, sent with a probe
    /// trained on rows `0..<start` (the first block, start 0, with the uniform code).
    public struct Block: Codable, Sendable, Equatable {
        public var start: Int
        public var end: Int
        public var bits: Double
    }

    /// Voita & Titov's block boundaries, as shares of the rows (0.1% … 100%).
    public static let defaultShares = [0.001, 0.002, 0.004, 0.008, 0.016, 0.032, 0.0625, 0.125, 0.25, 0.5, 1.0]

    public var rows: Int
    public var classes: Int
    public var escape: Double
    public var blocks: [Block]
    /// Bits to send every label: uniformly (rows · log₂ K), and with the online code.
    public var uniformBits: Double
    public var onlineBits: Double
    /// uniformBits / onlineBits (above 1: the activations make the labels cheaper to send).
    public var compression: Double

    /// - Parameters: `shares`, increasing, ending at 1; rows are shuffled with `seed`.
    public static func measure(
        _ data: ProbeDataset, settings: ProbeSettings, shares: [Double] = defaultShares, seed: UInt64 = 1, escape: Double = 1e-3,
        progress: (Int, Int) -> Void = { _, _ in }
    ) -> OnlineCode {
        precondition(shares.last == 1 && zip(shares, shares.dropFirst()).allSatisfy { $0 < $1 } && (0..<1).contains(escape))
        let labelled = (0..<data.count).filter { data.labels[$0] >= 0 }
        var generator = SplitMix64(seed: seed)
        let order = generator.shuffled(labelled)
        let n = order.count, k = data.classes.count
        var ends: [Int] = []
        for share in shares {
            let end = min(n, max(1, Int((share * Double(n)).rounded())))
            if end > (ends.last ?? 0) { ends.append(end) }
        }
        let uniform = log2(Double(max(k, 1)))
        var blocks = [Block(start: 0, end: ends.first ?? 0, bits: Double(ends.first ?? 0) * uniform)]
        for (b, (start, end)) in zip(ends, ends.dropFirst()).enumerated() {
            progress(b, ends.count - 1)
            let trainRows = Array(order[0..<start])
            let present = Array(Set(trainRows.map { data.labels[$0] })).sorted()
            let local = Dictionary(uniqueKeysWithValues: present.enumerated().map { ($1, $0) })
            let train = ProbeDataset(
                x: data.x.rows(trainRows), labels: trainRows.map { local[data.labels[$0]]! }, classes: present.map { data.classes[$0] })
            let coded = Array(order[start..<end])
            var bits = 0.0
            if present.count < 2 {
                // One class seen: the probe is certain of it.
                for r in coded { bits -= log2((data.labels[r] == present.first ? 1 - escape : 0) + escape / Double(k)) }
            } else {
                let probe = FittedProbe.fit(train, settings: settings)
                let z = probe.logits(data.x.rows(coded))
                for (i, r) in coded.enumerated() {
                    var top = -Double.infinity
                    for j in 0..<z.columns { top = max(top, Double(z[i, j])) }
                    var total = 0.0
                    for j in 0..<z.columns { total += exp(Double(z[i, j]) - top) }
                    let p = local[data.labels[r]].map { exp(Double(z[i, $0]) - top) / total } ?? 0
                    bits -= log2((1 - escape) * p + escape / Double(k))
                }
            }
            blocks.append(Block(start: start, end: end, bits: bits))
        }
        progress(ends.count - 1, ends.count - 1)
        let online = blocks.reduce(0) { $0 + $1.bits }
        return OnlineCode(
            rows: n, classes: k, escape: escape, blocks: blocks, uniformBits: Double(n) * uniform, onlineBits: online,
            compression: online > 0 ? Double(n) * uniform / online : 1)
    }
}
