import SondeCorpus
import Testing

@testable import SondeStudy

/// The tree quantities of the interaction study on a sentence worked by hand.
struct InteractionStudyTests {
    /// "the old dog barked loudly": the → dog, old → dog, dog → barked, barked = root, loudly → barked.
    let sentence: Sentence = {
        let heads = [3, 3, 4, 0, 4]
        return Sentence(words: zip(["the", "old", "dog", "barked", "loudly"], heads).map { form, head in
            var w = Word(form: form)
            w.head = head
            return w
        })
    }()

    @Test func pathLengthsInTheTree() throws {
        let d = try #require(sentence.dependencyDistances())
        #expect(d[0][1] == 2 && d[0][2] == 1 && d[0][3] == 2 && d[0][4] == 3 && d[1][4] == 3 && d[3][4] == 1 && d[2][2] == 0)
        #expect(d == (0..<5).map { i in (0..<5).map { d[$0][i] } }, "symmetric")
        var cyclic = sentence
        cyclic.words[3].head = 1  // barked → the → dog → barked
        #expect(cyclic.dependencyDistances() == nil && cyclic.constituentSpans().isEmpty)
    }

    @Test func constituentsAreContiguousYields() {
        // dog's yield: the old dog (0…2); barked's: the whole sentence (0…4); single words are left out.
        #expect(sentence.constituentSpans() == [[0, 2], [0, 4]])
    }
}
