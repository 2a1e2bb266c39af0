import ArgumentParser
import Foundation
import SondeBase
import SondeCorpus
import SondeStudy

/// `sonde corpus …`: read, check, convert treebanks and export their labels.
struct CorpusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "corpus",
        abstract: "Read, validate and convert treebanks; export per-word labels of a property.",
        discussion: """
            Formats: CoNLL-U, Penn Treebank brackets (.mrg/.ptb/.psd), TIGER-XML, Alpino XML (a file \
            or a folder of them), and plain text (NeuroX: one sentence per line). The format is \
            recognised from the contents; --format overrides it. A folder is read in natural name \
            order.
            """,
        subcommands: [Stats.self, Validate.self, Convert.self, Labels.self, Generate.self])
}

/// Options every corpus command shares.
struct CorpusInput: ParsableArguments {
    @Argument(help: "Treebank files or folders.")
    var paths: [String]

    @Option(help: "The input format (\(CorpusFormat.allCases.map(\.rawValue).joined(separator: ", "))); default: the one the extension names (.conllu, .mrg/.ptb/.psd, .tiger, .xml, .txt), else recognised from the contents.")
    var format: CorpusFormat?

    @Flag(help: "Go on past invalid sentences, and report each one skipped (default: stop at the first).")
    var skipInvalid = false

    func read() throws -> ReadResult {
        let result = try CorpusReader.read(paths, format: format, skipInvalid: skipInvalid)
        reportSkippedFiles(result)
        if !result.skipped.isEmpty {
            var message = "sonde: skipped \(result.skipped.count) invalid sentence\(result.skipped.count == 1 ? "" : "s"):\n"
            for e in result.skipped { message += "  \(e)\n" }
            writeMessage(message)
        }
        return result
    }
}

extension CorpusFormat: ExpressibleByArgument {}

extension CorpusCommand {
    struct Stats: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Count sentences, words and surface tokens; with --property, the label distribution.")

        @OptionGroup var input: CorpusInput
        @Option(help: "A property whose label counts to list (see `sonde corpus labels --help`).")
        var property: String?
        @OptionGroup var output: OutputOptions

        struct Report: Encodable {
            let corpus: CorpusSummary
            let property: String?
            let labels: [String: Int]?
        }

        func run() throws {
            let property = try self.property.map(parseProperty)
            let result = try input.read()
            let distribution = try property.map { p in try LabelledCorpus(result.corpus, property: p).distribution }
            let report = Report(corpus: CorpusSummary(result), property: property?.name, labels: distribution)
            if output.json { return try printJSON(report) }
            let c = report.corpus
            var lines = [
                "\(c.files.count) file\(c.files.count == 1 ? "" : "s"): \(c.sentences) sentences, \(c.words) words, \(c.tokens) surface tokens",
                "multiword tokens \(c.multiwordTokens), empty nodes \(c.emptyNodes), sentences with a constituency tree \(c.trees)",
            ]
            if let distribution, let name = report.property {
                lines.append("\(name): \(distribution.count) labels")
                let rows = distribution.sorted { ($1.value, $0.key) < ($0.value, $1.key) }
                lines += formatTable(
                    [["label", "words", "share"]]
                        + rows.map { [$0.key, String($0.value), String(format: "%.2f%%", 100 * Double($0.value) / Double(max(c.words, 1)))] })
            }
            print(lines.joined(separator: "\n"))
        }
    }

    struct Validate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check treebanks and list every error as path:line:column: what is wrong.",
            discussion: "Exit status 0 when every sentence is valid, 65 otherwise. All errors are listed, not just the first.")

        @Argument(help: "Treebank files or folders.")
        var paths: [String]
        @Option(help: "The input format; default: the one the extension names, else recognised from the contents.")
        var format: CorpusFormat?
        @OptionGroup var output: OutputOptions

        struct Report: Encodable {
            let valid: Bool
            let sentences: Int
            let errors: [String]
        }

        func run() throws {
            let result = try CorpusReader.read(paths, format: format, skipInvalid: true)
            reportSkippedFiles(result)
            let report = Report(valid: result.skipped.isEmpty, sentences: result.corpus.sentences.count, errors: result.skipped.map(\.description))
            if output.json {
                try printJSON(report)
            } else if report.valid {
                print("valid: \(report.sentences) sentences")
            } else {
                // Errors on stderr, as every command's messages (the list is JSON with --json).
                writeMessage(report.errors.joined(separator: "\n") + "\n")
                writeMessage("sonde: \(report.errors.count) invalid sentence\(report.errors.count == 1 ? "" : "s"), \(report.sentences) valid\n")
            }
            if !report.valid { throw ExitCode(.malformedInput) }
        }
    }

    struct Convert: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Convert treebanks to CoNLL-U, Penn brackets or TIGER-XML.",
            discussion: """
                Sentences without a constituency tree are written to PTB and TIGER as flat trees over \
                their words. The output is written atomically: on any error there is no output file.
                """)

        enum Target: String, ExpressibleByArgument, CaseIterable { case conllu, ptb, tiger }

        @OptionGroup var input: CorpusInput
        @Option(help: "The output format: conllu, ptb or tiger.")
        var to: Target
        @Option(name: .shortAndLong, help: "The output file.")
        var output: String
        @OptionGroup var options: OutputOptions

        func run() throws {
            let result = try input.read()
            switch to {
            case .conllu: try ConlluWriter.write(result.corpus, to: output)
            case .ptb: try PennTreebankWriter.write(result.corpus, to: output)
            case .tiger: try TigerWriter.write(result.corpus, to: output)
            }
            let summary = CorpusSummary(result)
            if options.json { return try printJSON(["output": output, "format": to.rawValue]) }
            FileHandle.standardError.write(Data("wrote \(summary.sentences) sentences (\(summary.words) words) to \(output)\n".utf8))
        }
    }

    struct Labels: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Export each word's label of a property, for probing here or in other tools.",
            discussion: """
                Properties: \(Property.builtInNames.joined(separator: ", ")). A word without the \
                annotation gets "none". With --tokens and --labels, writes NeuroX's text format (one \
                sentence per line, space-separated, in two parallel files); otherwise prints word<TAB>label \
                lines with a blank line between sentences (or JSON).
                """)

        @OptionGroup var input: CorpusInput
        @Option(help: "The property, e.g. upos, feats.Number, deprel.base, tree.chunk.")
        var property: String
        @Option(help: "A tag-set mapping applied to the labels (e.g. annotations/ptb-upos.tsv).")
        var map: String?
        @Option(help: "Write the sentences here (NeuroX text format).")
        var tokens: String?
        @Option(help: "Write the labels here (NeuroX text format), parallel to --tokens.")
        var labels: String?
        @OptionGroup var output: OutputOptions

        func validate() throws {
            if (tokens == nil) != (labels == nil) { throw ValidationError("--tokens and --labels go together") }
        }

        func run() throws {
            let property = try parseProperty(self.property)
            let mapping = try map.map { path in try TagMapping(path: path) }
            let result = try input.read()
            let rows = try LabelledCorpus(result.corpus, property: property, mapping: mapping).labels
            let sentences = result.corpus.sentences
            if let tokens, let labels {
                try LabelFile.writeNeuroX(result.corpus, labels: rows, tokens: tokens, labels: labels)
                if output.json { try printJSON(["tokens": tokens, "labels": labels, "property": property.name]) }
                return
            }
            if output.json {
                struct Row: Encodable { let id: String?; let words: [String]; let labels: [String] }
                return try printJSON(zip(sentences, rows).map { Row(id: $0.id, words: $0.words.map(\.form), labels: $1) })
            }
            var out = ""
            for (s, r) in zip(sentences, rows) {
                for (w, l) in zip(s.words, r) { out += "\(w.form)\t\(l)\n" }
                out += "\n"
            }
            FileHandle.standardOutput.write(Data(out.utf8))
        }
    }
}
