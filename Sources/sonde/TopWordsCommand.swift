import ArgumentParser
import Foundation
import SondeBase
import SondeCorpus
import SondeLinalg
import SondeModels
import SondeProbe
import SondeReport
import SondeStudy

/// `sonde top-words`: what chosen neurons respond to, in words and sentences.
struct TopWordsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "top-words",
        abstract: "The words (in their sentences) on which chosen neurons fire most and least, with the labels among them.",
        discussion: """
            For each neuron (--neurons, or a saved probe's top --k), the --count words with the \
            highest and the lowest activations, each shown in its sentence with the word marked, \
            and — with --property — how many of the top words carry each label against the label's \
            share of the corpus ("12/20 NOUN, corpus 22%"). --html writes a self-contained page with \
            every word coloured by the neuron's activation (NeuroX's visualize_activations).
            """)

    @Argument(help: "An activation file extracted from --corpus (`sonde extract`).") var activations: String
    @Option(help: "The layer: 2 or layer2 (a tensor of the file).") var layer: String
    @Option(help: "The treebank the file was extracted from.") var corpus: String
    @Option(help: "Neurons, comma-separated (e.g. 12,40,97).") var neurons: String?
    @Option(help: "A saved probe (`sonde probe --save`): describe its top --k ranked neurons.") var probe: String?
    @Option(help: "How many of the probe's top neurons.") var k = 5
    @Option(help: "A property whose labels are counted among the top words, e.g. upos or upos=NOUN.") var property: String?
    @Option(help: "A tag-set mapping applied to the property's labels.") var map: String?
    @Option(help: "How many top (and bottom) words per neuron.") var count = 20
    @Option(help: "Write a self-contained HTML view here.") var html: String?
    @OptionGroup var output: OutputOptions

    func validate() throws {
        if (neurons == nil) == (probe == nil) { throw ValidationError("choose the neurons with --neurons N,N,… or --probe FILE --k K") }
        if k < 1 || count < 1 { throw ValidationError("--k and --count must be at least 1") }
    }

    func run() throws {
        let x = try loadActivations(activations, layer: layer)
        let treebank = try alignedTreebank(corpus, for: activations)
        var chosen: [Int]
        if let neurons {
            chosen = try neurons.split(separator: ",").map { item in
                guard let n = Int(item), (0..<x.columns).contains(n) else {
                    throw ValidationError("--neurons: '\(item)' is not a neuron of 0…\(x.columns - 1)")
                }
                return n
            }
        } else {
            let saved = try ProbeFile.read(probe!)
            guard saved.neurons == x.columns else { throw CLIError("\(probe!) is a probe of \(saved.neurons) neurons; the layer has \(x.columns)") }
            let ranking = Rankings.neuronOrdering(saved.standardizedWeights)
            chosen = Array(ranking.ordering.prefix(min(k, ranking.ranked)))
            if chosen.isEmpty { throw CLIError("\(probe!) ranks no neuron (every weight is zero)") }
        }
        var labels: [String]?
        if let property {
            let parsed = try parseProperty(property)
            labels = try LabelledCorpus(treebank, property: parsed, mapping: try map.map { try TagMapping(path: $0) }).flatLabels
        }
        let result = TopActivations.find(
            x, sentenceWords: treebank.sentences.map(\.words.count), forms: treebank.sentences.flatMap { $0.words.map(\.form) }, labels: labels,
            neurons: chosen, count: min(count, x.rows))
        let layerName = layerNumber(layer).map { ActivationFile.layerName($0) } ?? layer
        if let html {
            let page = ActivationView.html(result, title: "\((activations as NSString).lastPathComponent), \(layerName): top-activating words")
            try AtomicFile.write(to: html) { try $0.write(Array(page.utf8)) }
        }
        if output.json { return try printJSON(result) }
        for neuron in result.neurons {
            print("neuron \(neuron.neuron) (\(layerName)): mean \(format(neuron.mean)), largest |activation| \(format(neuron.maxMagnitude))")
            if !neuron.topLabels.isEmpty {
                print(
                    "  labels among the top \(neuron.top.count): "
                        + neuron.topLabels.prefix(6).map {
                            "\($0.count)/\(neuron.top.count) \($0.label) (corpus \(Int(($0.corpusShare * 100).rounded()))%)"
                        }.joined(separator: ", "))
            }
            for (heading, list) in [("highest", neuron.top), ("lowest", neuron.bottom)] {
                print("  \(heading):")
                for o in list {
                    print(
                        "    \(format(o.activation).padding(toLength: 9, withPad: " ", startingAt: 0)) \(context(o, result.sentences[o.sentence] ?? [o.form]))"
                    )
                }
            }
        }
        if let html { writeMessage("wrote \(html)\n") }
    }

    /// The sentence around the word, the word in brackets, at most eight words either side.
    private func context(_ o: TopActivations.Occurrence, _ words: [String]) -> String {
        let from = max(0, o.word - 8), to = min(words.count, o.word + 9)
        let shown = (from..<to).map { $0 == o.word ? "[\(words[$0])]" : words[$0] }
        return terminalSafe(
            (from > 0 ? "… " : "") + shown.joined(separator: " ") + (to < words.count ? " …" : "") + (o.label.map { "  (\($0))" } ?? ""))
    }

    private func format(_ x: Float) -> String { String(format: "%.3f", x) }
}
