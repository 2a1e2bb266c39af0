import Foundation
import SondeBase
import SondeCorpus
import SondeModels
import SondeSimilarity
import SondeStudy

/// One transfer space — 11 grammar tasks (reflexive-number left out: its reflexives are not in
/// the default treebank's vocabulary), 500 train and 500 test pairs each, 3 seeds, FTGD with a 1%
/// mask — of a 2 × 256 LSTM trained on the default treebank, built by Sonde and by the PyTorch
/// reimplementation (peers/taskspace.py) on the same splits in the same run.
func taskspace(_ options: Options) throws {
    let folder = options.data + "/taskspace-lm"
    if !FileManager.default.fileExists(atPath: folder + "/step-200/model.safetensors") {
        let corpus = try CorpusReader.read(["corpora/default.conllu"]).corpus  // run.sh runs from the repository
        let sentences = corpus.sentences.map { $0.words.map(\.form) }
        var settings = LSTMTrainingSettings()
        (settings.steps, settings.checkpoints) = (200, [200])
        let split = sentences.count * 9 / 10
        _ = try LSTMTrainer(
            settings: settings, train: LSTMTask(sentences: Array(sentences[..<split])), dev: LSTMTask(sentences: Array(sentences[split...]))
        ).run(into: folder)
    }
    let model = try LSTMModel(folder: folder + "/step-200")
    let tasks = try PairGenerator.grammar(tasks: PairGenerator.grammarTasks.map(\.id).filter { $0 != "reflexive-number" }, count: 1000, seed: 1)
    var settings = TaskSpace.Settings()
    (settings.gradient, settings.nulls, settings.seeds) = (false, false, 3)
    let splits = tasks.map { $0.split(testShare: settings.testShare, seed: settings.splitSeed) }
    let json = splits.map { s in ["train": s.train.map { [$0.good, $0.bad] }, "test": s.test.map { [$0.good, $0.bad] }] }
    let splitsPath = options.data + "/taskspace-splits.json"
    try JSONSerialization.data(withJSONObject: json).write(to: URL(fileURLWithPath: splitsPath))
    let start = Date()
    let ours = try TaskSpace.run(model: model, tasks: tasks, settings: settings)
    let seconds = Date().timeIntervalSince(start)
    let (k, train, test) = (tasks.count, splits.reduce(0) { $0 + $1.train.count }, splits.reduce(0) { $0 + $1.test.count })
    // Forward passes: eval1 and one eval per tuned copy; Δg over the train pairs; the tuning itself.
    let sentences = Double(2 * test * (1 + k * settings.seeds) + 2 * train + 2 * train * settings.seeds)
    let peer = try runPeer(options, "taskspace.py", [folder + "/step-200", splitsPath])
    let peerSeconds = peer["seconds"] as! Double, peerSentences = peer["sentences"] as! Double
    let theirs = (peer["margin"] as! [[Double]]).flatMap { $0 }, mine = ours.transfer!.margin.flatMap { $0 }
    say("taskspace: \(k) tasks × 500 test pairs, 3 seeds, 2 × 256 LSTM, FTGD mask 1%, 2 threads; seconds (sentences/s)")
    row("", "Sonde", "PyTorch", "ratio")
    row(
        "one transfer space", String(format: "%.1f (%.0f/s)", seconds, sentences / seconds),
        String(format: "%.1f (%.0f/s)", peerSeconds, peerSentences / peerSeconds), String(format: "%.2f×", peerSeconds / seconds))
    say("T from Sonde and from PyTorch: Pearson \(String(format: "%.4f", pearson(mine, theirs))) over all \(k * k) cells")
}
