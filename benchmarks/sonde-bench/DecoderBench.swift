import Foundation
import SondeCorpus
import SondeLinalg
import SondeModels

/// The rotary decoder families at real shapes (random weights, `peers/decoders_make.py`):
/// word-aligned extraction of every layer for EWT train sentences against transformers + PyTorch
/// batched (32 a batch, padded, same threads), the zoo tokenizer on both sides; and the peak
/// resident memory of this process against the F32 weights.
func decoders(_ options: Options) throws {
    let folder = options.data + "/decoders"
    _ = try runPeer(options, "decoders_make.py", [folder])
    let tokenizerPath = options.shared + "/zoo/tokenizer/tokenizer.json"
    let corpus = try CorpusReader.read([options.shared + "/corpora/ud-english-ewt/en_ewt-ud-train.conllu"]).corpus
    say("decoders: all layers, last subword per word, 2 threads (words/s), random weights of real shapes")
    row("", "Sonde", "PyTorch batched", "ratio")
    for (name, count) in [("llama-12x768-gqa", 1000), ("qwen2.5-0.5b-shape", 300)] {
        let model = try TransformerModel(network: try TransformerNetwork(folder: folder + "/" + name), tokenizer: try Tokenizer.read(tokenizerPath))
        let sentences = Array(corpus.sentences.prefix(count).map { $0.words.map(\.form) })
        let list = options.data + "/decoder-sentences.txt"
        try sentences.map { $0.joined(separator: "\t") }.joined(separator: "\n").write(toFile: list, atomically: true, encoding: .utf8)
        let layers = Array(0...model.network.config.layers)
        var checksum = 0.0, words = 0
        let seconds = try best(1) {
            checksum = 0
            words = 0
            try model.extract(sentences, layers: layers, aggregate: .last) { _, vectors in
                words += vectors[0].rows
                checksum += vectors.last!.elements.reduce(0.0) { $0 + Double($1) }
            }
        }
        let weights = try FileManager.default.attributesOfItem(atPath: folder + "/\(name)/model.safetensors")[.size] as! Int
        var usage = rusage()
        getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
        let peakGB = Double(usage.ru_maxrss) * 1024 / 1e9
        let peer = try runPeer(
            options, "extract.py", ["--model", folder + "/" + name, "--tokenizer", tokenizerPath, "--sentences", list, "--mode", "batched"])
        let peerSeconds = peer["seconds"] as! Double
        let agree = abs((peer["checksum"] as! Double) - checksum) <= 1e-3 * Double(words)
        row(
            "\(name), \(words) words\(agree ? "" : " (CHECKSUM DIFFERS)")", String(format: "%.0f", Double(words) / seconds),
            String(format: "%.0f", Double(words) / peerSeconds), String(format: "%.2f×", peerSeconds / seconds))
        row("  peak RSS so far (GB) / F32 weights (GB)", String(format: "%.2f", peakGB), String(format: "%.2f", Double(weights) / 1e9), "")
    }
}
