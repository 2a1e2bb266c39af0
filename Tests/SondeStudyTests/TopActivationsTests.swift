import Foundation
import SondeLinalg
import Testing

@testable import SondeReport
@testable import SondeStudy

/// Top-activating words against a brute force, and the HTML view's structure.
struct TopActivationsTests {
    // Two sentences: "a b c" and "d e"; neuron 0 = row index, neuron 1 = −row index, with a tie.
    let x = Matrix<Float>([[0, 5], [1, -1], [2, -2], [3, -3], [3, 9]])
    let forms = ["a", "b", "c", "d", "e"]
    let labels = ["X", "Y", "X", "X", "Y"]

    @Test func topAndBottomWordsWithTheirSentences() {
        let r = TopActivations.find(x, sentenceWords: [3, 2], forms: forms, labels: labels, neurons: [0, 1], count: 2)
        // Neuron 0: 3 (row 3) and 3 (row 4) tie: the earlier row first.
        #expect(r.neurons[0].top.map(\.form) == ["d", "e"] && r.neurons[0].bottom.map(\.form) == ["a", "b"])
        #expect(r.neurons[0].top[0].sentence == 1 && r.neurons[0].top[0].word == 0 && r.neurons[0].top[1].word == 1)
        #expect(r.neurons[0].top[0].sentenceActivations == [3, 3])
        #expect(r.neurons[1].top.map(\.form) == ["e", "a"] && r.neurons[1].bottom.map(\.form) == ["d", "c"])
        // Labels among neuron 1's top two (e: Y, a: X) against corpus shares 3/5 X, 2/5 Y.
        #expect(
            r.neurons[1].topLabels == [
                .init(label: "X", count: 1, corpusShare: 0.6), .init(label: "Y", count: 1, corpusShare: 0.4),
            ])
        #expect(r.sentences == [0: ["a", "b", "c"], 1: ["d", "e"]])
        #expect(abs(r.neurons[1].mean - 1.6) < 1e-6 && r.neurons[1].maxMagnitude == 9)
    }

    /// Brute force on random data: the top k by a full sort, and the label counts by hand.
    @Test func agreesWithASort() {
        var g = SystemRandomNumberGenerator()
        let rows = 500
        let m = Matrix<Float>(rows: rows, columns: 4) { p in for i in 0..<p.count { p[i] = Float(Int.random(in: -50...50, using: &g)) } }
        let sentenceWords = Array(repeating: 5, count: 100)
        let labels = (0..<rows).map { ["A", "B", "C"][$0 % 3] }
        let r = TopActivations.find(m, sentenceWords: sentenceWords, forms: (0..<rows).map(String.init), labels: labels, neurons: [2], count: 25)
        let column = m.column(2)
        let expected = column.indices.sorted { (column[$0], -$0) > (column[$1], -$1) }.prefix(25)
        #expect(r.neurons[0].top.map { Int($0.form)! } == Array(expected))
        #expect(r.neurons[0].topLabels.map(\.count).reduce(0, +) == 25)
        for c in r.neurons[0].topLabels { #expect(c.count == expected.filter { labels[$0] == c.label }.count) }
    }

    /// The page is self-contained (no script, no external resource), escapes the words, marks
    /// the listed word, and colours by activation.
    @Test func htmlView() {
        let r = TopActivations.find(x, sentenceWords: [3, 2], forms: ["<a>", "b&", "c", "d", "e"], labels: labels, neurons: [0], count: 2)
        let page = ActivationView.html(r, title: "t <1>")
        #expect(page.hasPrefix("<!doctype html>") && page.hasSuffix("</body></html>\n"))
        #expect(!page.contains("<script") && !page.contains("http://") && !page.contains("https://") && !page.contains("src="))
        #expect(page.contains("t &lt;1&gt;") && page.contains("&lt;a&gt;") && page.contains("b&amp;") && !page.contains("<a>"))
        #expect(page.contains("<span class=\"w hit\" style=\"background:rgba(214,39,40,1.0)\" title=\"3\">d</span>"))
        #expect(page.contains("<svg") && page.contains(">X</text>") && page.contains("1/2 (corpus 60%)"))
        #expect(ActivationView.colour(-1.5, 3) == "rgba(31,119,180,0.5)")
    }
}
