import Foundation
import SondeModels

/// Tokenising EWT train (each sentence's `# text` line) in the five styles of
/// Tests/Fixtures/tokenizers against the `tokenizers` Rust library on one thread, in the same
/// run; both start with an empty cache (best of 3) and agree on every id's sum.
func tokenizers(_ options: Options) throws {
    let text = try String(contentsOfFile: options.shared + "/corpora/ud-english-ewt/en_ewt-ud-train.conllu", encoding: .utf8)
    let lines = text.split(separator: "\n").filter { $0.hasPrefix("# text = ") }.map { String($0.dropFirst("# text = ".count)) }
    let list = options.data + "/tokenize-lines.txt"
    try lines.joined(separator: "\n").write(toFile: list, atomically: true, encoding: .utf8)
    let fixtures = URL(fileURLWithPath: options.peers).deletingLastPathComponent().deletingLastPathComponent().path + "/Tests/Fixtures/tokenizers"
    say("tokenizers: EWT train, \(lines.count) sentences, one thread (sentences/s)")
    row("", "Sonde", "tokenizers", "ratio")
    for style in ["llama3", "qwen2", "llama2", "gemma", "mistral"] {
        let path = fixtures + "/\(style)/tokenizer.json"
        var ids = 0, checksum = 0
        let seconds = try best(3) {
            let tokenizer = try Tokenizer.read(path)
            (ids, checksum) = (0, 0)
            for line in lines {
                let tokens = tokenizer.encode(text: line)
                ids += tokens.count
                checksum += tokens.reduce(0) { $0 + $1.id }
            }
        }
        let peer = try runPeer(options, "tokenizers_peer.py", [path, list])
        let peerSeconds = peer["seconds"] as! Double
        let agree = peer["ids"] as! Int == ids && peer["checksum"] as! Int == checksum
        row(
            "\(style)\(agree ? "" : " (IDS DIFFER)")", String(format: "%.0f", Double(lines.count) / seconds),
            String(format: "%.0f", Double(lines.count) / peerSeconds), String(format: "%.2f×", peerSeconds / seconds))
    }
}
