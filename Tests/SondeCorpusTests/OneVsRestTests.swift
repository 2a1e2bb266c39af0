import Foundation
import Testing

@testable import SondeCorpus

/// One-vs-rest properties and the messages for names and values that a corpus does not have.
struct OneVsRestTests {
    let corpus: Corpus = {
        let folder = temporaryFolder()
        let text = """
            1\tDogs\tdog\tNOUN\tNNS\tNumber=Plur\t2\tnsubj\t_\t_
            2\tbark\tbark\tVERB\tVBP\tNumber=Plur|Person=3\t0\troot\t_\t_
            3\tLondon\tLondon\tPROPN\tNNP\tNumber=Sing\t2\tobl\t_\t_

            1\tIt\tit\tPRON\tPRP\tNumber=Sing\t2\tnsubj\t_\t_
            2\trains\train\tVERB\tVBZ\t_\t0\troot\t_\t_

            """
        return try! read(write(text, name: "a.conllu", in: folder))
    }()

    @Test func oneValueOrSeveralAgainstTheRest() throws {
        #expect(try #require(Property(name: "upos=NOUN")).labels(corpus) == [["NOUN", "other", "other"], ["other", "other"]])
        #expect(try #require(Property(name: "upos=NOUN,PROPN")).labels(corpus) == [["NOUN,PROPN", "other", "NOUN,PROPN"], ["other", "other"]])
        // A word without the feature is "other" too.
        #expect(try #require(Property(name: "feats.Number=Plur")).labels(corpus) == [["Plur", "Plur", "other"], ["other", "other"]])
        #expect(Property(name: "upos=") == nil && Property(name: "upos=NOUN,") == nil && Property(name: "nothing=NOUN") == nil)
    }

    @Test func namesAndValuesTheCorpusLacks() throws {
        #expect { try Property(name: "feats.Numbr")!.labels(corpus) } throws: {
            "\($0)" == "property 'feats.Numbr': no word has the feature Numbr (did you mean Number?); features present: Number, Person"
        }
        #expect { try Property(name: "upos=NOUNN")!.labels(corpus) } throws: { "\($0)".contains("no word has the value NOUNN (did you mean NOUN?)") }
        #expect(Property.nearest("uppos", in: ["upos", "xpos", "lemma"]) == "upos")
        #expect(Property.nearest("zzzzzz", in: ["upos", "xpos"]) == nil)
    }
}

/// Label and word files in either NeuroX layout, with any line ending.
struct LabelValuesTests {
    @Test func bothLayoutsAndLineEndings() throws {
        let folder = temporaryFolder()
        let perLine = write("A\r\nB\r\n\r\nC\r\n", name: "per-line.txt", in: folder)
        let perSentence = write("A B\nC\n", name: "per-sentence.txt", in: folder)
        #expect(try LabelFile.values(perLine, count: 3, what: "label") == ["A", "B", "C"])
        #expect(try LabelFile.values(perSentence, count: 3, what: "label") == ["A", "B", "C"])
        #expect { try LabelFile.values(perSentence, count: 4, what: "label") } throws: {
            ($0 as? CorpusError)?.line == 2 && "\($0)".contains("2 label lines (3 labels) for 4 rows")
        }
    }
}
