import SondeCorpus
import SondeModels

/// A treebank as training data for a native LSTM, split by sentence as every study splits
/// (of every five sentences, the fourth is dev and the fifth test; test is held out here): a
/// language model reads the words; with a property, a tagger learns one label per word, or a
/// classifier one per sentence for a sentence-level property (`doc`, `genre`).
public enum TrainingTasks {
    /// `analysis` labels dev's words for the concentration measured at each checkpoint.
    public static func split(
        _ corpus: Corpus, property: Property? = nil, mapping: TagMapping? = nil, analysis: Property? = nil
    ) throws -> (train: LSTMTask, dev: LSTMTask) {
        let sentences = corpus.sentences.map { $0.words.map(\.form) }
        let labels = try property.map { try LabelledCorpus(corpus, property: $0, mapping: mapping).labels }
        let analysisLabels = try analysis.map { try LabelledCorpus(corpus, property: $0).labels }
        func task(_ keep: (Int) -> Bool) -> LSTMTask {
            let chosen = sentences.indices.filter(keep)
            var t = LSTMTask(sentences: chosen.map { sentences[$0] })
            if let labels, let property {
                if property.isSentenceLevel {
                    t.sentenceLabels = chosen.map { labels[$0].first ?? Property.none }
                } else {
                    t.tokenLabels = chosen.map { labels[$0] }
                }
            }
            return t
        }
        var dev = task { $0 % 5 == 3 }
        dev.analysisLabels = analysisLabels.map { all in sentences.indices.filter { $0 % 5 == 3 }.map { all[$0] } }
        return (task { $0 % 5 < 3 }, dev)
    }
}
