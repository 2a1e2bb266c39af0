import SondeLinalg
import SondeProbe

/// The tokens a study probes: one label per token (a property of a treebank), the word of each
/// token (for control tasks), and a split by sentence — of every five sentences, the fourth is
/// dev and the fifth test — so no sentence feeds two sides.
public struct StudyTokens: Sendable {
    public let property: String
    public let labels: [String]
    public let words: [String]
    public let trainRows: [Int]
    public let devRows: [Int]
    public let testRows: [Int]

    /// `sentences`: each sentence's (word, label) pairs, in corpus order.
    public init(property: String, sentences: [[(word: String, label: String)]]) {
        self.property = property
        var labels: [String] = [], words: [String] = [], train: [Int] = [], dev: [Int] = [], test: [Int] = []
        for (s, sentence) in sentences.enumerated() {
            for token in sentence {
                switch s % 5 {
                case 4: test.append(labels.count)
                case 3: dev.append(labels.count)
                default: train.append(labels.count)
                }
                labels.append(token.label)
                words.append(token.word)
            }
        }
        (self.labels, self.words, trainRows, devRows, testRows) = (labels, words, train, dev, test)
    }
}

extension StudyTokens {
    /// The rows `rows` of `x` with their labels (indexed by `classes`, or by their own sorted set).
    public func dataset(_ x: Matrix<Float>, _ rows: [Int], classes: [String]? = nil) -> ProbeDataset {
        ProbeDataset(x: x.rows(rows), labels: rows.map { labels[$0] }, classes: classes)
    }
}
