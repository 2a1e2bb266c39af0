import SondeCorpus
import SondeModels

/// A treebank as training data for a native LSTM, split by sentence as every study splits
/// (of every five sentences, the fourth is dev and the fifth test; test is held out here): a
/// language model reads the words; with a property, a tagger learns one label per word, or a
/// classifier one per sentence for a sentence-level property (`doc`, `genre`).
public enum TrainingTasks {
    public static func split(_ corpus: Corpus, property: Property? = nil, mapping: TagMapping? = nil) throws -> (train: LSTMTask, dev: LSTMTask) {
        let sentences = corpus.sentences.map { $0.words.map(\.form) }
        let labels = try property.map { try LabelledCorpus(corpus, property: $0, mapping: mapping).labels }
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
        return (task { $0 % 5 < 3 }, task { $0 % 5 == 3 })
    }
}
