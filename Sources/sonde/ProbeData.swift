import ArgumentParser
import Foundation
import SondeCorpus
import SondeLinalg
import SondeModels
import SondeProbe
import SondeStudy

/// Where a probe's data come from, shared by `probe`, `ablate` and `redundancy`: activation
/// files for train (and dev, test), with labels from label files (NeuroX's convention) or from
/// the treebank the activations were extracted from.
struct ProbeData: ParsableArguments {
    @Option(help: "Training activations.") var train: String
    @Option(help: "Training labels, one per line.") var trainLabels: String?
    @Option(help: "Instead of label files: the treebank the activations were extracted from (`sonde extract`); labels and words come from it.")
    var trainCorpus: String?
    @Option(help: "Dev treebank (with --dev).") var devCorpus: String?
    @Option(help: "Test treebank (with --test).") var testCorpus: String?
    @Option(help: "The property to probe with --*-corpus, e.g. upos, feats.Number, deprel.base.") var property: String?
    @Option(help: "A tag-set mapping applied to the property's labels (e.g. annotations/ptb-upos.tsv).") var map: String?
    @Option(help: "Dev activations (choose λ on them).") var dev: String?
    @Option(help: "Dev labels.") var devLabels: String?
    @Option(help: "Test activations.") var test: String?
    @Option(help: "Test labels.") var testLabels: String?
    @Option(help: "Training words, one per line (enables the control task).") var trainWords: String?
    @Option(help: "Dev words.") var devWords: String?
    @Option(help: "Test words.") var testWords: String?
    @Option(help: "The tensor to use in .npz/safetensors files.") var layer: String?

    func validate() throws {
        if (trainLabels == nil) == (trainCorpus == nil) {
            throw ValidationError("give the training labels with --train-labels FILE or --train-corpus TREEBANK --property NAME")
        }
        if (trainCorpus != nil) != (property != nil) { throw ValidationError("--train-corpus and --property go together") }
        if (dev == nil) != (devLabels == nil && devCorpus == nil) { throw ValidationError("--dev goes with --dev-labels or --dev-corpus") }
        if (test == nil) != (testLabels == nil && testCorpus == nil) { throw ValidationError("--test goes with --test-labels or --test-corpus") }
        for (words, corpus, split) in [(trainWords, trainCorpus, "train"), (devWords, devCorpus, "dev"), (testWords, testCorpus, "test")]
        where words != nil && corpus != nil {
            throw ValidationError("--\(split)-words goes with label files: with --\(split)-corpus the words come from the treebank")
        }
    }

    /// One split: its name, the data (labels indexed by train's classes), and its words (a word
    /// file, or the treebank's) for control tasks.
    typealias Split = (name: String, data: ProbeDataset, wordsPath: String?, words: [String]?)

    /// train first, then dev and test when given; every split checked against train's width.
    func load() throws -> [Split] {
        let xTrain = try loadActivations(train, layer: layer)
        let trainSource = try labelsAndWords(activations: train, rows: xTrain.rows, labels: trainLabels, words: trainWords, corpus: trainCorpus)
        let trainSet = ProbeDataset(x: xTrain, labels: trainSource.labels)
        guard trainSet.classes.count >= 2 else { throw failure("\(trainLabels ?? trainCorpus!): the training labels have only one class") }
        var evaluations: [Split] = [("train", trainSet, trainSource.words, trainSource.corpusWords)]
        if let dev {
            let x = try loadActivations(dev, layer: layer)
            let source = try labelsAndWords(activations: dev, rows: x.rows, labels: devLabels, words: devWords, corpus: devCorpus)
            evaluations.append(("dev", ProbeDataset(x: x, labels: source.labels, classes: trainSet.classes), source.words, source.corpusWords))
        }
        if let test {
            let x = try loadActivations(test, layer: layer)
            let source = try labelsAndWords(activations: test, rows: x.rows, labels: testLabels, words: testWords, corpus: testCorpus)
            evaluations.append(("test", ProbeDataset(x: x, labels: source.labels, classes: trainSet.classes), source.words, source.corpusWords))
        }
        for e in evaluations where e.data.neurons != xTrain.columns {
            throw failure("\(e.name) activations have \(e.data.neurons) neurons, train has \(xTrain.columns)")
        }
        return evaluations
    }

    /// The labels (and words) of one split: from a label file (and a word file), or from the
    /// treebank the activation file was extracted from, checked sentence by sentence.
    func labelsAndWords(
        activations: String, rows: Int, labels: String?, words: String?, corpus: String?
    ) throws -> (labels: [String], words: String?, corpusWords: [String]?) {
        if let labels { return (try loadLines(labels, count: rows, what: "label"), words, nil) }
        let property = try parseProperty(self.property!)
        let treebank = try alignedTreebank(corpus!, for: activations)
        return try withInputErrors {
            let labelled = try LabelledCorpus(treebank, property: property, mapping: try map.map { try TagMapping(path: $0) })
            return (labelled.flatLabels, nil, labelled.words)
        }
    }

}
