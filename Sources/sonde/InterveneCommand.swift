import ArgumentParser
import Foundation
import SondeCorpus
import SondeLinalg
import SondeModels
import SondeProbe
import SondeStudy

extension Ablation.Fill: ExpressibleByArgument {}

struct InterveneCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "intervene",
        abstract: "Test rankings inside the model: ablate each ranker's top k neurons and compare the loss on words with a property value and without.",
        discussion: """
            The layer's activations are extracted from the model on the treebank and ranked for the \
            property value (upos=NOUN: the words tagged NOUN against the rest) by each ranker (as \
            `sparse-probe` names them). Each ranker's top k neurons are then set to zero or their \
            mean inside the forward pass, and the model's own loss is measured on the words with the \
            value and on the others: selectivity = the first change − the second. The same k random \
            neurons (--seeds draws) are the control; a ranking the model uses shows a selectivity \
            beyond random's.
            """)

    @Option(help: "A Hugging Face model folder or a native LSTM language model.") var model: String
    @Option(help: "The tokenizer.json (default: the model folder's).") var tokenizer: String?
    @Option(help: "Treebank files or folders; repeat for several.") var corpus: [String]
    @Option(help: "Read only the first N sentences.") var limit: Int?
    @Option(help: "The property value, e.g. upos=NOUN (the words with it against the rest).") var property: String
    @Option(help: "The layer (0 = embeddings, as in the activation file).") var layer: Int
    @Option(help: "The ks, comma-separated.") var k = "4,16,64"
    @Option(help: "Rankers, comma-separated (as sparse-probe).") var rankers = "lca,probeless,iou"
    @Option(help: "What ablated neurons become: zero, mean, or both (comma-separated).") var fill = "zero,mean"
    @Option(help: "Random draws of k neurons (the control).") var seeds = 3
    @OptionGroup var output: OutputOptions

    func validate() throws {
        guard property.contains("="), Property(name: property) != nil else {
            throw ValidationError("--property: a property value such as upos=NOUN (the words with it against the rest)")
        }
        if corpus.isEmpty { throw ValidationError("give the treebank with --corpus PATH") }
        guard (0...100).contains(seeds) else { throw ValidationError("--seeds must be in 0…100") }
        if k.split(separator: ",").contains(where: { Int($0).map { $0 < 1 } ?? true }) { throw ValidationError("--k: whole numbers ≥ 1, e.g. 4,16,64") }
        _ = try parsedRankers()
        _ = try parsedFills()
    }

    func parsedRankers() throws -> [SparseProbing.Ranker] { try parseRankers(rankers) }

    func parsedFills() throws -> [Ablation.Fill] {
        try fill.split(separator: ",").map { name in
            guard let f = Ablation.Fill(rawValue: String(name)) else { throw ValidationError("--fill: zero, mean or both") }
            return f
        }
    }

    struct Report: Encodable {
        let model: String
        let property: String
        let sentences: Int
        let wordsWith: Int
        let wordsWithout: Int
        let result: InterventionStudy.Result
        let warnings: [String]
    }

    func run() throws {
        let lm = try loadModel(model, tokenizer: tokenizer)
        let treebank = try readTreebank(corpus, limit: limit)
        let prop = try parseProperty(property)
        let sentences = treebank.sentences.map { $0.words.map(\.form) }
        let labels = try prop.labels(treebank)
        let flags = labels.map { $0.map { $0 != Property.other } }
        let with = flags.joined().filter { $0 }.count
        guard with > 0, with < flags.joined().count else {
            throw CLIError("\(property): \(with == 0 ? "no word" : "every word") of the treebank has it; choose a value some words have", .usage)
        }
        guard (0...lm.layerCount).contains(layer) else { throw CLIError("--layer \(layer): the model has layers 0…\(lm.layerCount)", .usage) }
        let extracting = Progress(what: "sentences (extracting layer \(layer))")
        var rows: [Float] = []
        try lm.extract(sentences, layers: [layer], aggregate: .last, ablations: [], progress: { extracting.update($0, sentences.count) }) { _, v in
            rows += v[0].elements
        }
        let x = Matrix(rows: rows.count / lm.hiddenSize, columns: lm.hiddenSize, elements: rows)
        let data = ProbeDataset(x: x, labels: labels.flatMap { $0 })
        let settings = ProbeSettings(penalty: .elasticNet(lambda: 1e-3, alpha: 0.5))
        let orderings = try parsedRankers().map { (name: $0.rawValue, neurons: try SparseProbing.ordering($0, train: data, settings: settings)) }
        let ks = k.split(separator: ",").compactMap { Int($0) }.filter { $0 <= lm.hiddenSize }
        guard !ks.isEmpty else { throw CLIError("--k: every k exceeds the layer's \(lm.hiddenSize) neurons", .usage) }
        let progress = Progress(what: "forward passes")
        let result = try InterventionStudy.run(
            lm, layer: layer, sentences: sentences, flags: flags, orderings: orderings, ks: ks, fills: try parsedFills(),
            means: x.columnStatistics().means.map(Float.init), seeds: seeds, progress: progress.update)
        var warnings: [String] = []
        for point in result.points where point.ranker != "random" {
            guard let random = result.points.first(where: { $0.ranker == "random" && $0.k == point.k && $0.fill == point.fill }) else { continue }
            if point.selectivity <= random.selectivity + (random.selectivitySD ?? 0) && point.k == ks.max() && point.fill == .zero {
                warnings.append("\(point.ranker)'s top \(point.k): selectivity \(f(point.selectivity)) is within random's \(f(random.selectivity)) ± \(f(random.selectivitySD ?? 0)): the model does not use these neurons for \(property) more than any others")
            }
        }
        for warning in warnings { writeMessage("sonde: warning: \(warning)\n") }
        let report = Report(
            model: model, property: property, sentences: sentences.count, wordsWith: result.plainWith.predictions,
            wordsWithout: result.plainWithout.predictions, result: result, warnings: warnings)
        if output.json { return try printJSON(report) }
        print("\(property) at layer \(layer): loss \(f(result.plainWith.loss)) on \(result.plainWith.predictions) predictions of words with it, \(f(result.plainWithout.loss)) on \(result.plainWithout.predictions) without")
        var table = [["ranker", "k", "fill", "Δloss with", "Δloss without", "selectivity"]]
        for p in result.points {
            let spread: String = p.selectivitySD.map { " ± " + f($0) } ?? ""
            let row: [String] = [p.ranker, String(p.k), p.fill.rawValue, f(p.lossChangeWith), f(p.lossChangeWithout), f(p.selectivity) + spread]
            table.append(row)
        }
        formatTable(table).forEach { print($0) }
    }

    func f(_ v: Double) -> String { String(format: "%.4f", v) }
}
