/// Classification quality of predictions against gold labels.
public struct Evaluation: Sendable, Equatable, Codable {
    public struct ClassScore: Sendable, Equatable, Codable {
        public var label: String
        public var support: Int
        public var precision: Double
        public var recall: Double
        public var f1: Double
    }

    public var count: Int
    public var accuracy: Double
    /// The unweighted mean F1 over classes that occur in the gold labels or the predictions.
    public var macroF1: Double
    public var perClass: [ClassScore]
    /// Rows whose gold label the probe never saw in training (always counted as errors).
    public var unseen: Int

    /// - Parameters: predictions and labels are class indices (labels may be -1: unseen).
    public init(predictions: [Int], labels: [Int], classes: [String]) {
        precondition(predictions.count == labels.count)
        let c = classes.count
        var truePositive = [Int](repeating: 0, count: c)
        var predicted = [Int](repeating: 0, count: c)
        var actual = [Int](repeating: 0, count: c)
        var correct = 0
        for (p, y) in zip(predictions, labels) {
            predicted[p] += 1
            if y >= 0 { actual[y] += 1 }
            if p == y {
                correct += 1
                truePositive[p] += 1
            }
        }
        count = labels.count
        accuracy = count > 0 ? Double(correct) / Double(count) : 0
        unseen = labels.filter { $0 < 0 }.count
        let scores = (0..<c).map { k in
            let precision = predicted[k] > 0 ? Double(truePositive[k]) / Double(predicted[k]) : 0
            let recall = actual[k] > 0 ? Double(truePositive[k]) / Double(actual[k]) : 0
            let f1 = precision + recall > 0 ? 2 * precision * recall / (precision + recall) : 0
            return ClassScore(label: classes[k], support: actual[k], precision: precision, recall: recall, f1: f1)
        }
        let present = (0..<c).filter { actual[$0] > 0 || predicted[$0] > 0 }
        perClass = scores
        macroF1 = present.isEmpty ? 0 : present.reduce(0) { $0 + scores[$1].f1 } / Double(present.count)
    }

    /// The accuracy of always predicting the most frequent training class.
    public static func majorityBaseline(trainLabels: [Int], labels: [Int], classes: Int) -> Double {
        var counts = [Int](repeating: 0, count: classes)
        for y in trainLabels where y >= 0 { counts[y] += 1 }
        guard let majority = counts.indices.max(by: { counts[$0] < counts[$1] || (counts[$0] == counts[$1] && $0 > $1) }), !labels.isEmpty
        else { return 0 }
        return Double(labels.filter { $0 == majority }.count) / Double(labels.count)
    }
}
