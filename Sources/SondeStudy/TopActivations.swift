import SondeLinalg

/// What a neuron responds to (NeuroX's `get_top_words` and `visualize_activations`): for each
/// chosen neuron, the words with the highest and the lowest activations, each with its sentence,
/// and how the labels are spread among the top words against their share in the whole corpus —
/// "61 of 100 top words are NOUN, 17% of the corpus" says a neuron is about nouns; 17 of 100 says
/// it is not.
public struct TopActivations: Codable, Sendable {
    /// One occurrence of a word: where it is and how strongly the neuron fired on it.
    public struct Occurrence: Codable, Sendable, Equatable {
        public var activation: Float
        /// Index of the sentence in the corpus, and of the word in the sentence.
        public var sentence: Int
        public var word: Int
        public var form: String
        public var label: String?
        /// The neuron's activation on every word of the sentence (for colouring the context).
        public var sentenceActivations: [Float]
    }

    public struct LabelCount: Codable, Sendable, Equatable {
        public var label: String
        /// How many of the top words have this label.
        public var count: Int
        /// The label's share of all words in the corpus (the rate expected by chance).
        public var corpusShare: Double
    }

    public struct Neuron: Codable, Sendable {
        public var neuron: Int
        /// The highest activations first.
        public var top: [Occurrence]
        /// The lowest activations first.
        public var bottom: [Occurrence]
        /// Labels among `top`, most frequent first (empty without labels).
        public var topLabels: [LabelCount]
        /// The neuron's mean and the largest |activation| over the corpus (the colour scale).
        public var mean: Float
        public var maxMagnitude: Float
    }

    public var neurons: [Neuron]
    /// The sentences that any occurrence points into, by index (their words, for context).
    public var sentences: [Int: [String]]

    /// - Parameters:
    ///   - x: activations [words of the corpus × neurons], row-major, rows in corpus order.
    ///   - sentenceWords: each sentence's word count (Σ = x.rows); `forms` the words in order.
    ///   - labels: one label per row, or nil.
    ///   - neurons: the columns to describe; `count`: how many top (and bottom) words each.
    /// Ties are broken by row order, so the result is deterministic.
    public static func find(
        _ x: Matrix<Float>, sentenceWords: [Int], forms: [String], labels: [String]?, neurons: [Int], count: Int
    ) -> TopActivations {
        precondition(sentenceWords.reduce(0, +) == x.rows && forms.count == x.rows && (labels?.count ?? x.rows) == x.rows)
        precondition(neurons.allSatisfy { (0..<x.columns).contains($0) } && count >= 0)
        var sentenceOf = [Int](repeating: 0, count: x.rows), wordOf = [Int](repeating: 0, count: x.rows)
        var starts: [Int] = []
        var row = 0
        for (s, n) in sentenceWords.enumerated() {
            starts.append(row)
            for w in 0..<n { (sentenceOf[row], wordOf[row]) = (s, w); row += 1 }
        }
        var corpusCounts: [String: Int] = [:]
        for label in labels ?? [] { corpusCounts[label, default: 0] += 1 }
        var used = Set<Int>()
        let described = neurons.map { j -> Neuron in
            let column = x.column(j)
            func occurrence(_ r: Int) -> Occurrence {
                let s = sentenceOf[r]
                used.insert(s)
                return Occurrence(
                    activation: column[r], sentence: s, word: wordOf[r], form: forms[r], label: labels?[r],
                    sentenceActivations: Array(column[starts[s]..<(starts[s] + sentenceWords[s])]))
            }
            let order = column.indices.sorted { (column[$0], -$0) > (column[$1], -$1) }
            let top = order.prefix(count).map(occurrence)
            let bottom = order.reversed().prefix(count).map(occurrence)
            var counts: [String: Int] = [:]
            for o in top { if let l = o.label { counts[l, default: 0] += 1 } }
            let topLabels = counts.map { LabelCount(label: $0.key, count: $0.value, corpusShare: Double(corpusCounts[$0.key]!) / Double(x.rows)) }
                .sorted { ($0.count, $1.label) > ($1.count, $0.label) }
            let mean = column.isEmpty ? 0 : Float(column.reduce(0.0) { $0 + Double($1) } / Double(column.count))
            return Neuron(neuron: j, top: top, bottom: bottom, topLabels: topLabels, mean: mean, maxMagnitude: column.map(abs).max() ?? 0)
        }
        var sentences: [Int: [String]] = [:]
        for s in used { sentences[s] = Array(forms[starts[s]..<(starts[s] + sentenceWords[s])]) }
        return TopActivations(neurons: described, sentences: sentences)
    }
}
