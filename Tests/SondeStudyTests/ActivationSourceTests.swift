import Foundation
import SondeCorpus
import SondeLinalg
import SondeModels
import Testing

@testable import SondeStudy

/// A labelled corpus and an activation file that must match it, on small synthetic data.
struct ActivationSourceTests {
    let folder: String = {
        let path = NSTemporaryDirectory() + "sonde-study-\(UUID().uuidString)"
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }()

    func corpus() throws -> Corpus {
        let path = folder + "/c.conllu"
        try """
        1\tDogs\tdog\tNOUN\tNNS\tNumber=Plur\t2\tnsubj\t_\t_
        2\tbark\tbark\tVERB\tVBP\t_\t0\troot\t_\t_

        1\tIt\tit\tPRON\tPRP\tNumber=Sing\t2\tnsubj\t_\t_
        2\trains\train\tVERB\tVBZ\t_\t0\troot\t_\t_
        3\t.\t.\tPUNCT\t.\t_\t2\tpunct\t_\t_

        """.write(toFile: path, atomically: true, encoding: .utf8)
        return try CorpusReader.read([path]).corpus
    }

    /// An activation file of `sentenceWords` rows with layer l's value = 10·l + row.
    func file(_ sentenceWords: [Int], limit: Int? = nil) throws -> String {
        let rows = sentenceWords.reduce(0, +)
        let path = folder + "/a.safetensors"
        var metadata = [
            "format": ActivationFile.format, "sentence_words": "[\(sentenceWords.map(String.init).joined(separator: ","))]", "corpus": "c.conllu",
        ]
        if let limit { metadata["limit"] = String(limit) }
        try Safetensors.write(
            (0..<3).map { l in
                TensorPayload(
                    name: ActivationFile.layerName(l), shape: [rows, 2], dtype: .float32,
                    values: .float((0..<(rows * 2)).map { Float(10 * l + $0 / 2) }))
            }, metadata: metadata, to: path)
        return path
    }

    @Test func labelledCorpus() throws {
        let labelled = try LabelledCorpus(try corpus(), property: Property(name: "upos=VERB")!)
        #expect(labelled.flatLabels == ["other", "VERB", "other", "VERB", "other"] && labelled.sentenceWords == [2, 3])
        #expect(labelled.words == ["Dogs", "bark", "It", "rains", "."] && labelled.tokens.labels == labelled.flatLabels)
    }

    @Test func fileLayersAndAlignment() throws {
        let treebank = try corpus()
        let source = ActivationSource(try file([2, 3], limit: 2))
        #expect(source.extractionLimit == 2)
        let all = try source.layers(nil, for: treebank, corpusName: "c.conllu")
        #expect(all.names == ["layer0", "layer1", "layer2"] && all.matrices[2].column(0) == [20, 21, 22, 23, 24])
        let two = try source.layers([2], for: treebank, corpusName: "c.conllu")
        #expect(two.names == ["layer2"])
        #expect { _ = try source.layers([5], for: treebank, corpusName: "c.conllu") } throws: { "\($0)".contains("has no layer5") }
        // Another treebank's rows: where they part ways and what the file came from.
        let other = ActivationSource(try file([3, 2], limit: 2))
        #expect { _ = try other.layers(nil, for: treebank, corpusName: "x.conllu") } throws: {
            "\($0)".contains("was not extracted from x.conllu (it was extracted from c.conllu, --limit 2): sentence 1 has 3 rows there and 2 words")
        }
    }
}
