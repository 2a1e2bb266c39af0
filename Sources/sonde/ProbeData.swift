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

    /// The splits' sources as the study layer takes them.
    var inputs: ProbeInputs {
        get throws {
            let property = try self.property.map(parseProperty)
            let mapping = try map.map { path in try TagMapping(path: path) }
            return ProbeInputs(
                train: .init(activations: train, labels: trainLabels, words: trainWords, corpus: trainCorpus),
                dev: dev.map { .init(activations: $0, labels: devLabels, words: devWords, corpus: devCorpus) },
                test: test.map { .init(activations: $0, labels: testLabels, words: testWords, corpus: testCorpus) }, layer: layer,
                property: property, mapping: mapping)
        }
    }

    /// train first, then dev and test when given (`ProbeInputs.load`).
    func load() throws -> [ProbeStudy.Split] {
        let inputs = try self.inputs
        return try inputs.load()
    }
}
