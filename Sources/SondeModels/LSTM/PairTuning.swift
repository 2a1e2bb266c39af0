import Foundation
import SondeBase
import SondeLinalg

/// How a copy of a native LSTM is tuned on one phenomenon's minimal pairs (FTGD: fine-tuning
/// via gradient differentials, after Weber, Jumelet, Bruni & Hupkes 2024; their settings are
/// not published, so these are documented choices, not a reproduction).
public struct PairTuningSettings: Codable, Sendable, Equatable {
    public enum Objective: String, Codable, Sendable, CaseIterable {
        /// Ascend Σ mᵢ, the summed gradient differentials (unbounded: the margin can grow
        /// without limit, so few epochs and a small rate).
        case margin
        /// Ascend Σ ln σ(mᵢ): each pair's push fades as its margin grows (bounded).
        case logistic
        /// Plain LM fine-tuning on the good sentences (mean next-word loss): the baseline FTGD
        /// is compared with, under the same mask and budget.
        case languageModel = "lm"
    }
    public var objective = Objective.margin
    /// The share of parameters updated, by |Δg| over the train pairs (1 = dense).
    public var mask = 0.01
    /// The share per tensor instead of over all parameters.
    public var perTensor = false
    /// Recompute the mask from each mini-batch's Δg (same share) instead of fixing it once.
    public var remask = false
    public var optimizer = LSTMTrainingSettings.Optimizer.adam
    public var learningRate = 1e-3
    public var epochs = 1
    /// Pairs per update.
    public var batchSize = 16
    /// Rescale each update's gradient to at most this norm (0 = never).
    public var clip = 1.0
    /// Orders the pairs (one seeded shuffle per epoch).
    public var seed: UInt64 = 1

    public init() {}
}

extension LSTMModel {
    /// A pair as word ids (unknown words as `<unk>`, as the model reads them).
    func ids(_ words: [String]) -> [Int32] { words.map { vocabulary.id($0) } }

    /// The tensors' ranges in the flat parameter vector (for per-tensor masks).
    public var parameterTensors: [(name: String, range: Range<Int>)] {
        network.tensors.map { ($0.name, $0.offset..<($0.offset + $0.shape.reduce(1, *))) }
    }

    public var parameterCount: Int { network.count }

    /// Margins mᵢ = ln p(goodᵢ) − ln p(badᵢ) and the gradient differential Δg = Σᵢ ∇θ mᵢ of
    /// pairs of word lists, in the layout of the checkpoint's tensors.
    public func marginGradient(_ pairs: [(good: [String], bad: [String])]) -> (margins: [Double], gradient: [Float]) {
        network.marginGradient(good: pairs.map { ids($0.good) }, bad: pairs.map { ids($0.bad) })
    }

    /// The mask of `settings`: the top share of |Δg| over `pairs`, or every parameter at 1.
    public func mask(for pairs: [(good: [String], bad: [String])], settings: PairTuningSettings) -> ParameterMask {
        if settings.mask >= 1 { return .all(network.count) }
        return ParameterMask.top(
            marginGradient(pairs).gradient, share: settings.mask, perTensor: settings.perTensor ? parameterTensors.map(\.range) : nil)
    }

    /// A copy tuned on `pairs`: for each mini-batch (a seeded order per epoch) one optimiser
    /// step on the parameters in `mask` (or, with `remask`, in the batch's own top share) along
    /// the batch's summed objective gradient; every other parameter keeps its bits.
    /// `progress` gets (steps done, steps).
    public func tuned(
        on pairs: [(good: [String], bad: [String])], mask: ParameterMask, settings: PairTuningSettings, progress: (Int, Int) -> Void = { _, _ in }
    ) -> LSTMModel {
        var network = self.network
        var first = [Float](repeating: 0, count: network.count), second = first
        let batches = (pairs.count + settings.batchSize - 1) / max(settings.batchSize, 1)
        var step = 0
        for epoch in 0..<settings.epochs {
            var generator = SplitMix64(seed: settings.seed &+ UInt64(epoch) &* 0x9E37_79B9_7F4A_7C15)
            let order = generator.shuffled(Array(pairs.indices))
            for b in 0..<batches {
                let chosen = order[(b * settings.batchSize)..<min(order.count, (b + 1) * settings.batchSize)].map { pairs[$0] }
                var gradient: [Float]
                switch settings.objective {
                case .margin, .logistic:
                    let logistic = settings.objective == .logistic
                    gradient =
                        network.marginGradient(good: chosen.map { ids($0.good) }, bad: chosen.map { ids($0.bad) }) { m in
                            logistic ? 1 / (1 + exp(m)) : 1  // d ln σ(m)/dm = 1 − σ(m) = σ(−m)
                        }.gradient
                    for i in gradient.indices { gradient[i] = -gradient[i] }  // ascend
                case .languageModel:
                    let sentences = chosen.map { ids($0.good) }
                    let steps = sentences.map(\.count).max()! + 1, count = sentences.count
                    var input = [Int32](repeating: 0, count: steps * count)
                    for (k, s) in sentences.enumerated() {
                        input[k] = 1
                        for (i, w) in s.enumerated() { input[(i + 1) * count + k] = w }
                    }
                    var none: SplitMix64? = nil
                    let pass = network.forward(ids: input, steps: steps, batch: count, generator: &none)
                    let scored = network.score(
                        pass, targets: Self.nextWordTargets(input, steps: steps, batch: count, lengths: sentences.map(\.count)))
                    gradient = network.backward(pass, ids: input, scored: scored)
                }
                step += 1
                let active =
                    settings.remask
                    ? ParameterMask.top(
                        gradient, share: settings.mask, perTensor: settings.perTensor ? parameterTensors.map(\.range) : nil)
                    : mask
                applyOptimizerStep(
                    gradient, to: &network.values, first: &first, second: &second, step: step, optimizer: settings.optimizer,
                    rate: Float(settings.learningRate), clip: settings.clip,
                    indices: active.indices.count == network.count ? nil : active.indices)
                progress(step, batches * settings.epochs)
            }
        }
        return LSTMModel(network: network, vocabulary: vocabulary, folder: folder + " (tuned)", fingerprint: nil)
    }
}
