import Foundation
import SondeBase
import SondeCorpus
import SondeLinalg
import SondeProbe

/// Where a probe's splits come from: per split an activation file, and its labels from a label
/// file (NeuroX's convention, with an optional word file for the control task) or from the
/// treebank the file was extracted from (checked sentence by sentence; words come with it).
public struct ProbeInputs: Sendable {
    public struct Source: Sendable {
        public var activations: String
        public var labels: String?
        public var words: String?
        public var corpus: String?

        public init(activations: String, labels: String? = nil, words: String? = nil, corpus: String? = nil) {
            self.activations = activations
            self.labels = labels
            self.words = words
            self.corpus = corpus
        }
    }

    public var train: Source
    public var dev: Source?
    public var test: Source?
    /// The tensor of multi-tensor files (`2` names `layer2`).
    public var layer: String?
    /// The property and tag map, for sources labelled by a treebank.
    public var property: Property?
    public var mapping: TagMapping?

    public init(train: Source, dev: Source?, test: Source?, layer: String?, property: Property?, mapping: TagMapping?) {
        self.train = train
        self.dev = dev
        self.test = test
        self.layer = layer
        self.property = property
        self.mapping = mapping
    }

    /// train first, then dev and test when given: labels indexed by train's classes, every split
    /// checked against train's width.
    public func load() throws -> [ProbeStudy.Split] {
        // Measured: a probe's peak is about twice its activations in Float (the matrices and the
        // file pages they were read from; benchmarks/memory.sh), whatever the classes.
        let shapes = try [train, dev, test].compactMap { $0 }.map { try ActivationSource.tensor(path: $0.activations, layer: layer).1.shape }
        let values = shapes.reduce(0.0) { $0 + Double($1.reduce(1, *)) }
        try MemoryBudget.require(2.1 * 4 * values, for: "a probe on \(shapes.map { $0.map(String.init).joined(separator: " × ") }.joined(separator: ", "))")
        let trainSplit = try split("train", train, classes: nil)
        guard trainSplit.data.classes.count >= 2 else {
            throw StudyError("\(train.labels ?? train.corpus ?? train.activations): the training labels have only one class")
        }
        var splits = [trainSplit]
        for (name, source) in [("dev", dev), ("test", test)] {
            guard let source else { continue }
            let s = try split(name, source, classes: trainSplit.data.classes)
            guard s.data.neurons == trainSplit.data.neurons else {
                throw StudyError("\(name) activations have \(s.data.neurons) neurons, train has \(trainSplit.data.neurons)")
            }
            splits.append(s)
        }
        return splits
    }

    /// The sentences of the split's treebank as word forms, when it has one.
    public func sentences(of source: Source) throws -> [[String]]? {
        try source.corpus.map { try ActivationSource.alignedTreebank($0, for: source.activations).sentences.map { $0.words.map(\.form) } }
    }

    private func split(_ name: String, _ source: Source, classes: [String]?) throws -> ProbeStudy.Split {
        let x = try ActivationSource.matrix(path: source.activations, layer: layer)
        let labels: [String]
        var words: [String]?
        if let labelFile = source.labels {
            labels = try LabelFile.values(labelFile, count: x.rows, what: "label")
            words = try source.words.map { try LabelFile.values($0, count: x.rows, what: "word") }
        } else if let corpus = source.corpus, let property {
            let labelled = try LabelledCorpus(
                try ActivationSource.alignedTreebank(corpus, for: source.activations), property: property, mapping: mapping)
            (labels, words) = (labelled.flatLabels, labelled.words)
        } else {
            throw StudyError("\(name): give labels (a label file, or a treebank and a property)")
        }
        let data = classes.map { ProbeDataset(x: x, labels: labels, classes: $0) } ?? ProbeDataset(x: x, labels: labels)
        return ProbeStudy.Split(name: name, data: data, words: words)
    }
}
