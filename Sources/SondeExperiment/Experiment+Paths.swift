import Foundation

extension Experiment {
    /// `path` relative to the experiment file's folder (`.` for the folder itself), so that a
    /// study's results do not depend on where its folder is; names that are not paths
    /// (`sonde:default`) and relative paths are kept as they are.
    public func relative(_ path: String) -> String {
        guard path.hasPrefix("/") else { return path }
        let from = folder.split(separator: "/"), to = path.split(separator: "/")
        let common = zip(from, to).prefix { $0 == $1 }.count
        let parts = Array(repeating: "..", count: from.count - common) + to.dropFirst(common).map(String.init)
        return parts.isEmpty ? "." : parts.joined(separator: "/")
    }

    /// This experiment with every path relative to its file's folder, as results.json records it.
    public var portable: Experiment {
        var e = self
        e.output = relative(output)
        e.corpus = corpus.map(relative)
        if var m = models {
            m.checkpoints = m.checkpoints.map(relative)
            (m.reference, m.finetuned, m.tokenizer) = (m.reference.map(relative), m.finetuned.map(relative), m.tokenizer.map(relative))
            e.models = m
        }
        if var t = taskSpace {
            t.pairs = relative(t.pairs)
            e.taskSpace = t
        }
        return e
    }
}
