import Foundation
import SondeBase
import SondeModels

/// The native LSTM against the same model in PyTorch (peers/lstm.py): vocabulary 10,000, width
/// 256, 2 layers, batches of 32 sequences of 35 tokens, Adam, 2 threads. Training tokens/s
/// through `LSTMTrainer` (batch assembly, forward, backward, clipping, Adam), extraction tokens/s
/// through `LSTMModel.extract` (every layer's states per sentence).
func lstm(_ options: Options) throws {
    let (vocabulary, hidden, layers, batch, length, steps) = (10_000, 256, 2, 32, 35, 20)
    var g = SplitMix64(seed: 1)
    // Sentences of length − 1 words (+ <s>): every batch is exactly batch × length tokens.
    let words = (0..<(vocabulary - 3)).map { "w\($0)" }
    let sentences = (0..<(batch * (steps + 1))).map { _ in (0..<(length - 1)).map { _ in words[g.below(words.count)] } }
    var settings = LSTMTrainingSettings()
    (settings.layers, settings.hidden, settings.batchSize, settings.maxLength, settings.steps) = (layers, hidden, batch, length - 1, steps)
    (settings.minCount, settings.maxVocabulary, settings.dropout, settings.checkpoints) = (1, vocabulary, 0, [steps])
    // Every word must be in the vocabulary: one sentence holding all of them, in dev only.
    let trainer = try LSTMTrainer(
        settings: settings, train: LSTMTask(sentences: sentences + [words]), dev: LSTMTask(sentences: [Array(words.prefix(10))]))
    let folder = options.data + "/lstm-bench"
    try? FileManager.default.removeItem(atPath: folder)
    var rate = 0.0
    _ = try trainer.run(into: folder) { step, _, _, tokensPerSecond in if step == steps { rate = tokensPerSecond } }
    let model = trainer.model
    model.batchTokens = batch * length
    let extractSeconds = try best(3) {
        try model.extract(Array(sentences.prefix(batch * steps)), layers: Array(0...layers), aggregate: .last) { _, _ in }
    }
    let extractRate = Double(batch * steps * (length - 1)) / extractSeconds
    let peer = try runPeer(options, "lstm.py", ["--vocab", "\(vocabulary)", "--hidden", "\(hidden)", "--layers", "\(layers)", "--batch", "\(batch)"])
    let (peerTrain, peerExtract) = (peer["train_tokens_per_s"] as! Double, peer["extract_tokens_per_s"] as! Double)
    say("lstm: V \(vocabulary), H \(hidden), \(layers) layers, batches of \(batch) × \(length) tokens, 2 threads (torch \(peer["torch"] as! String))")
    row("", "Sonde", "PyTorch", "ratio")
    row(
        "training tokens/s (Adam, clip 1)", String(format: "%.0f", rate), String(format: "%.0f", peerTrain), String(format: "%.2f×", rate / peerTrain)
    )
    row(
        "extraction tokens/s (every layer)", String(format: "%.0f", extractRate), String(format: "%.0f", peerExtract),
        String(format: "%.2f×", extractRate / peerExtract))
}
