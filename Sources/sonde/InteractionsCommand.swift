import ArgumentParser
import Foundation
import SondeBase
import SondeCorpus
import SondeModels
import SondeReport
import SondeStudy

struct InteractionsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "interactions",
        abstract: "Word interdependence in a native LSTM by contextual decomposition, by linear and syntactic distance.",
        discussion: """
            For every pair of words at most --max-distance apart, contextual decomposition (Murdoch \
            et al. 2018) splits the later word's state into the part due to the pair, to each word \
            alone, and the rest; the interdependence (Saphra & Lopez 2020) is ‖β(x∪y) − β(x) − \
            β(y)‖ / ‖β(x∪y)‖ (and over ‖h‖ as relativeToState). The result: means by linear \
            distance, and by syntactic distance (path length in the treebank's dependency tree) at \
            each linear distance — do words close in the tree interact more than their distance in \
            the string predicts? Several checkpoints (e.g. lm/step-*) give the same per checkpoint, \
            over training. --html draws one sentence's pairs as a heat map with its tree.

            Examples:
              sonde interactions lm/step-400 --corpus en_ewt-ud-dev.conllu --limit 1000
              sonde interactions lm/step-* --corpus dev.conllu --layer 2 --json
              sonde interactions lm/step-400 --corpus dev.conllu --sentence 3 --html pairs.html
            """)

    @Argument(help: "sonde-lstm checkpoint folders (oldest first for a series).") var checkpoints: [String] = []
    @Option(help: "A checkpoint folder (besides or instead of the arguments).") var model: [String] = []
    @Option(help: "The treebank (with dependency heads for syntactic distances).") var corpus: [String]
    @Option(help: "Only the first N sentences.") var limit: Int?
    @Option(help: "Layers read (1…L, comma-separated); default all.") var layer: String?
    @Option(help: "Pairs of words at most this many apart.") var maxDistance = 10
    @Option(help: "The treebank the model was trained on: constituent pairs are also counted by how often their phrase occurs in it.")
    var trainCorpus: [String] = []
    @Option(help: "With --train-corpus: a phrase seen at least this often is familiar (at most once: rare).") var familiar = 10
    @Flag(help: "Put every pair into the JSON (`interdependence`), not only the curves.") var pairs = false
    @Option(help: "With --html or --between: the sentence (index from 0).") var sentence = 0
    @Option(help: "Instead of all pairs: the interdependence of these words (indices, e.g. 0 or 2,3,4) with --and's, in --sentence.")
    var between: String?
    @Option(help: "With --between: the other words.") var and: String?
    @Option(help: "With --between: the word whose state is read (default: the last of both sets).") var read: Int?
    @Option(help: "Write a self-contained HTML heat map of one sentence's pairs (the last checkpoint).") var html: String?
    @OptionGroup var output: OutputOptions

    func validate() throws {
        guard !(checkpoints + model).isEmpty else { throw ValidationError("name a sonde-lstm checkpoint folder") }
        guard (1...100).contains(maxDistance) else { throw ValidationError("--max-distance must be in 1…100") }
        guard familiar >= 2 else { throw ValidationError("--familiar must be at least 2") }
        if (between == nil) != (and == nil) { throw ValidationError("--between and --and go together") }
        if let limit, limit < 1 { throw ValidationError("--limit must be at least 1") }
        if sentence < 0 { throw ValidationError("--sentence must be at least 0") }
    }

    func run() throws {
        let folders = checkpoints + model
        let treebank = try readTreebank(corpus, limit: limit)
        guard !treebank.sentences.isEmpty else { throw CLIError("\(corpus.joined(separator: ", ")): no sentences") }
        let training = trainCorpus.isEmpty ? nil : try readTreebank(trainCorpus, limit: nil)
        if let between, let and { return try spans(folders, treebank, between, and) }
        var results: [InteractionStudy] = []
        var last: LSTMModel?
        for folder in folders {
            let lstm = try LSTMModel(folder: folder)
            let layers = try layer.map(parseLayerNumbers) ?? Array(1...lstm.layerCount)
            if let bad = layers.first(where: { !(1...lstm.layerCount).contains($0) }) {
                throw ValidationError("--layer: \(bad) is not a layer of \(folder) (1…\(lstm.layerCount))")
            }
            let name = (folder as NSString).lastPathComponent
            let progress = Progress(what: "interactions \(name)")
            results.append(
                InteractionStudy.run(
                    lstm, name: name, corpus: treebank, maxDistance: maxDistance, layers: layers, keepPairs: pairs, training: training,
                    familiarCount: familiar, progress: progress.update))
            last = lstm
        }
        if let html, let lstm = last {
            guard sentence < treebank.sentences.count else { throw ValidationError("--sentence: the treebank has \(treebank.sentences.count) sentences") }
            let s = treebank.sentences[sentence]
            let words = s.words.map(\.form)
            let values = lstm.interdependence([words], maxDistance: words.count, layers: [lstm.layerCount])[0]
            let page = InteractionView.html(
                words: words, heads: s.words.map(\.head), interactions: values, title: "\((folders.last! as NSString).lastPathComponent), layer \(lstm.layerCount)")
            try AtomicFile.write(to: html) { try $0.write(Array(page.utf8)) }
        }
        if output.json { return try results.count == 1 ? printJSON(results[0]) : printJSON(["checkpoints": results]) }
        for r in results {
            print("\(r.model): \(r.sentences) sentences, pairs at most \(r.maxDistance) apart")
            var rows = [["layer", "linear distance", "pairs", "interdependence", "by syntactic distance (pairs)"]]
            for p in r.byLinearDistance {
                let syntactic = r.bySyntacticDistance.filter { $0.layer == p.layer && $0.linearDistance == p.linearDistance }
                rows.append([
                    String(p.layer), String(p.linearDistance), String(p.count), f(p.mean),
                    syntactic.map { "\($0.syntacticDistance!): \(f($0.mean)) (\($0.count))" }.joined(separator: "  "),
                ])
            }
            formatTable(rows).forEach { print($0) }
            if let phrases = r.byPhraseFrequency {
                print("constituents by their phrase's count in training (familiar: ≥ \(familiar), rare: ≤ 1):")
                var table = [["layer", "linear distance", "familiar (pairs)", "rare (pairs)"]]
                for p in phrases where p.familiar {
                    let rare = phrases.first { !$0.familiar && $0.layer == p.layer && $0.linearDistance == p.linearDistance }
                    table.append([String(p.layer), String(p.linearDistance), "\(f(p.mean)) (\(p.count))", rare.map { "\(f($0.mean)) (\($0.count))" } ?? "–"])
                }
                formatTable(table).forEach { print($0) }
            }
        }
        if let html { print("wrote \(html)") }
    }

    /// `--between X --and Y`: two sets of words of one sentence, every layer, per checkpoint.
    func spans(_ folders: [String], _ treebank: Corpus, _ x: String, _ y: String) throws {
        guard sentence < treebank.sentences.count else { throw ValidationError("--sentence: the treebank has \(treebank.sentences.count) sentences") }
        let words = treebank.sentences[sentence].words.map(\.form)
        func indices(_ text: String, _ option: String) throws -> [Int] {
            try text.split(separator: ",").map { item in
                guard let i = Int(item), (0..<words.count).contains(i) else {
                    throw ValidationError("--\(option): '\(item)' is not a word of sentence \(sentence) (0…\(words.count - 1))")
                }
                return i
            }
        }
        let (a, b) = (try indices(x, "between"), try indices(y, "and"))
        guard Set(a).isDisjoint(with: b) else { throw ValidationError("--between and --and share a word") }
        if let read, !(0..<words.count).contains(read) { throw ValidationError("--read: not a word of sentence \(sentence)") }
        struct Row: Encodable { let model: String, interactions: [SpanInteraction] }
        let rows = try folders.map { folder in
            Row(
                model: (folder as NSString).lastPathComponent,
                interactions: try LSTMModel(folder: folder).interdependence(words, between: a, and: b, read: read))
        }
        if output.json { return try printJSON(["checkpoints": rows]) }
        print("\(a.map { words[$0] }.joined(separator: " ")) × \(b.map { words[$0] }.joined(separator: " ")) in sentence \(sentence)")
        for row in rows {
            for i in row.interactions {
                print("\(row.model)  layer \(i.layer)  read at \(words[i.read])  interdependence \(f(i.value))  (over ‖h‖ \(f(i.relativeToState)))")
            }
        }
    }
}
