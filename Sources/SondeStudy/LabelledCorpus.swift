import SondeCorpus

/// A treebank with one label per word for a property (a tag map applied when given): what every
/// probe, comparator and view starts from. One place for treebank → property → labels.
public struct LabelledCorpus: Sendable {
    public let corpus: Corpus
    public let property: Property
    /// `labels[sentence][word]`.
    public let labels: [[String]]

    public init(_ corpus: Corpus, property: Property, mapping: TagMapping? = nil) throws {
        var rows = try property.labels(corpus)
        if let mapping { rows = try mapping.apply(rows) }
        self.corpus = corpus
        self.property = property
        labels = rows
    }

    /// One label per word, in corpus order (row i of an activation file from this corpus).
    public var flatLabels: [String] { labels.flatMap { $0 } }
    /// How many words carry each label.
    public var distribution: [String: Int] { labels.reduce(into: [:]) { counts, row in for l in row { counts[l, default: 0] += 1 } } }
    /// The words, in corpus order.
    public var words: [String] { corpus.sentences.flatMap { $0.words.map(\.form) } }
    /// Each sentence's word count.
    public var sentenceWords: [Int] { corpus.sentences.map(\.words.count) }
    /// The tokens split by sentence into train, dev and test, as the comparator uses them.
    public var tokens: StudyTokens {
        StudyTokens(property: property.name, sentences: zip(corpus.sentences, labels).map { s, l in zip(s.words, l).map { ($0.form, $1) } })
    }
}
