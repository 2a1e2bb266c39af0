import Foundation
import SondeCorpus
import SondeLinalg
import SondeModels

/// Word-aligned extraction of every layer for 2,000 EWT train sentences: Sonde against
/// transformers + PyTorch on the CPU with the same thread count and model, both sentence by
/// sentence (NeuroX's way) and in padded batches of 32. Models: the zoo's BERT and GPT-2
/// (4 × 128) and all-MiniLM-L6-v2 (6 × 384) when benchmarks/run.sh has unpacked it.
func extract(_ options: Options) throws {
    let ewt = options.shared + "/corpora/ud-english-ewt/en_ewt-ud-train.conllu"
    let zoo = options.shared + "/zoo"
    var models = [
        ("zoo bert-step1200", zoo + "/bert-step1200", zoo + "/tokenizer/tokenizer.json"),
        ("zoo gpt-step1200", zoo + "/gpt-step1200", zoo + "/tokenizer/tokenizer.json"),
    ]
    let minilm = options.data + "/minilm"
    if FileManager.default.fileExists(atPath: minilm + "/config.json") {
        models.append(("all-MiniLM-L6-v2", minilm, minilm + "/tokenizer.json"))
    }
    let corpus = try CorpusReader.read([ewt]).corpus
    say("extract: all layers, last subword per word, 2 threads (words/s)")
    row("", "Sonde", "PyTorch", "ratio")
    for (name, folder, tokenizerPath) in models {
        let extractor = try TransformerModel(network: try TransformerNetwork(folder: folder), tokenizer: try Tokenizer.read(tokenizerPath))
        // The first 2,000 sentences that fit the window, the same list for both sides.
        var sentences: [[String]] = []
        for s in corpus.sentences where sentences.count < 2000 {
            let words = s.words.map(\.form)
            if extractor.windowCount(try extractor.encode(words)) == 1 { sentences.append(words) }
        }
        let list = options.data + "/extract-sentences.txt"
        try sentences.map { $0.joined(separator: "\t") }.joined(separator: "\n").write(toFile: list, atomically: true, encoding: .utf8)
        let layers = Array(0...extractor.network.config.layers)
        var checksum = 0.0, words = 0
        let seconds = try best(2) {
            checksum = 0; words = 0
            try extractor.extract(sentences, layers: layers, aggregate: .last) { _, vectors in
                words += vectors[0].rows
                checksum += vectors.last!.elements.reduce(0.0) { $0 + Double($1) }
            }
        }
        for mode in ["single", "batched"] {
            let peer = try runPeer(options, "extract.py", ["--model", folder, "--tokenizer", tokenizerPath, "--sentences", list, "--mode", mode])
            let peerSeconds = peer["seconds"] as! Double
            let agree = abs((peer["checksum"] as! Double) - checksum) <= 1e-3 * Double(words)
            precondition(peer["words"] as! Int == words, "the peer saw \(peer["words"]!) words, Sonde \(words)")
            row(
                "\(name), \(words) words, PyTorch \(mode)\(agree ? "" : " (CHECKSUM DIFFERS)")",
                String(format: "%.0f", Double(words) / seconds), String(format: "%.0f", Double(words) / peerSeconds),
                String(format: "%.2f×", peerSeconds / seconds))
        }
    }
}
