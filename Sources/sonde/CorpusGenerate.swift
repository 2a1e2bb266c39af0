import ArgumentParser
import Foundation
import SondeCorpus

extension CorpusCommand {
    struct Generate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Generate the embedded default treebank (a seeded probabilistic grammar).",
            discussion: """
                Writes the same sentences as default.conllu, default.ptb and default.tiger.xml into the \
                folder: gold constituency trees, PTB tags and UPOS, agreement morphology and UD \
                dependencies, in documents with a topic. The defaults reproduce corpora/ byte for byte.
                """)

        @Option(help: "The random seed.")
        var seed: UInt64 = TreebankGenerator.defaultSeed
        @Option(help: "The number of sentences.")
        var sentences: Int = TreebankGenerator.defaultSentences
        @Option(name: .shortAndLong, help: "The folder to write into.")
        var output: String = "corpora"
        @OptionGroup var options: OutputOptions

        func validate() throws {
            guard sentences > 0 else { throw ValidationError("--sentences must be positive") }
        }

        func run() throws {
            var generator = TreebankGenerator(seed: seed)
            let corpus = generator.corpus(sentences: sentences)
            let files = TreebankGenerator.fileNames.map { output + "/" + $0 }
            try FileManager.default.createDirectory(atPath: output, withIntermediateDirectories: true)
            try ConlluWriter.write(corpus, to: files[0])
            try PennTreebankWriter.write(corpus, to: files[1])
            try TigerWriter.write(corpus, to: files[2])
            if options.json { return try printJSON(["files": files]) }
            FileHandle.standardError.write(
                Data("wrote \(corpus.sentences.count) sentences (\(corpus.wordCount) words) to \(files.joined(separator: ", "))\n".utf8))
        }
    }
}

func parseProperty(_ name: String) throws -> Property {
    guard let p = Property(name: name) else {
        let base = String(name.prefix { $0 != "=" })
        let hint = Property.nearest(base, in: Property.builtInNames.filter { !$0.contains("<") }).map { " (did you mean \($0)?)" } ?? ""
        throw ValidationError(
            "unknown property '\(name)'\(hint); properties: \(Property.builtInNames.joined(separator: ", ")), each also as NAME=VALUE[,VALUE…] for one value against the rest"
        )
    }
    return p
}
