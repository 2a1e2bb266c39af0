import Foundation
import SondeCorpus

/// A new empty folder under the system's temporary folder, named `prefix-UUID`.
func temporaryFolder(_ prefix: String) -> String {
    let path = NSTemporaryDirectory() + "\(prefix)-\(UUID().uuidString)"
    try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

/// A one-layer LSTM study of `sentences` generated sentences (seed `seed`), written as c.conllu
/// in `folder`: `lstm` adds to its [lstm] table, `more` follows its [probe] table (one seed).
func tinyStudy(
    in folder: String, output: String = "out", seed: UInt64, sentences: Int = 60, steps: Int = 4, checkpoints: [Int] = [0, 4],
    properties: [String] = ["upos"], lstm: String = "", more: String = ""
) throws -> String {
    var generator = TreebankGenerator(seed: seed)
    try ConlluWriter.write(generator.corpus(sentences: sentences), to: folder + "/c.conllu")
    return """
        output = "\(output)"
        [corpus]
        paths = ["c.conllu"]
        [lstm]
        hidden = 8
        layers = 1
        steps = \(steps)
        checkpoints = [\(checkpoints.map(String.init).joined(separator: ", "))]
        batch_size = 8
        \(lstm)
        [probe]
        properties = [\(properties.map { "\"\($0)\"" }.joined(separator: ", "))]
        seeds = [1]
        \(more)

        """
}
