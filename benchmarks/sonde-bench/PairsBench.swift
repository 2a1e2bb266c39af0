import Foundation
import SondeCorpus
import SondeModels
import SondeStudy

/// Every BLiMP pair (67,000) scored by the zoo's GPT-2 at step 1200: Sonde against transformers
/// (peers/blimp_scores.py) in the same run, margins compared pair for pair and accuracy per
/// paradigm.
func pairsBlimp(_ options: Options) throws {
    let name = "gpt-step1200"
    let tasks = try MinimalPairs.read(options.shared + "/corpora/blimp/data")
    let model = try loadLanguageModel(options.shared + "/zoo/" + name, tokenizer: options.shared + "/zoo/tokenizer/tokenizer.json")
    let start = Date()
    let scores = try PairScoring.score(model, tasks: tasks)
    let seconds = Date().timeIntervalSince(start)
    let peer = try runPeer(options, "blimp_scores.py", [options.shared, name])
    let theirs = peer["margins"] as! [Double], peerSeconds = peer["seconds"] as! Double
    // Pairs in the same order; identical sentences (7) are left out by Sonde, kept (margin 0) by the peer.
    var k = 0, worst = 0.0, signs = 0, compared = 0, sameAccuracy = 0
    for (task, score) in zip(tasks, scores) {
        var mine = score.margins.makeIterator()
        var correct = 0, kept = 0
        for pair in task.pairs {
            defer { k += 1 }
            if pair.good == pair.bad { continue }
            let m = mine.next()!, t = theirs[k]
            worst = max(worst, abs(m - t))
            if (m > 0) != (t > 0) { signs += 1 }
            compared += 1
            kept += 1
            if t > 0 { correct += 1 }
        }
        if abs(Double(correct) / Double(max(kept, 1)) - score.accuracy) < 1e-12 { sameAccuracy += 1 }
    }
    let sentences = Double(2 * compared)
    say("pairs-blimp: \(compared) BLiMP pairs under zoo \(name), 2 threads; seconds (sentences/s)")
    row("", "Sonde", "transformers", "ratio")
    row(
        "score every pair", String(format: "%.1f (%.0f/s)", seconds, sentences / seconds),
        String(format: "%.1f (%.0f/s)", peerSeconds, sentences / peerSeconds),
        String(format: "%.2f×", peerSeconds / seconds))
    say(
        "largest |Δ margin| \(String(format: "%.2e", worst)) nats; pairs on opposite sides of 0: \(signs); paradigms with the same accuracy: \(sameAccuracy)/\(tasks.count)"
    )
}
