import Foundation
import SondeBase
import SondeModels

/// A self-contained page (inline CSS and SVG, no script) of one sentence's word interdependence:
/// a heat map over its word pairs (row: the earlier word, column: the later, whose state is
/// read) above the sentence with its dependency arcs, so closeness in the tree and interaction
/// can be seen together.
public enum InteractionView {
    /// - Parameters:
    ///   - heads: each word's head (1-based, 0 the root; nil unknown) for the arcs.
    ///   - interactions: the sentence's pairs (one layer).
    public static func html(words: [String], heads: [Int?], interactions: [WordInteraction], title: String) -> String {
        let n = words.count
        var value = [[Double?]](repeating: [Double?](repeating: nil, count: n), count: n)
        for p in interactions where p.first < n && p.second < n { value[p.first][p.second] = p.value }
        let largest = interactions.map(\.value).filter(\.isFinite).max() ?? 1
        var page = """
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><title>\(xmlEscape(title))</title>
            <style>
            body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2em auto; max-width: 72em; color: #222; }
            table { border-collapse: collapse; font-size: 0.85em; } td, th { border: 1px solid #eee; padding: 0.25em 0.4em; text-align: center; }
            th { font-weight: 500; } td { font-variant-numeric: tabular-nums; min-width: 3em; }
            </style></head><body>
            <h1>\(xmlEscape(title))</h1>
            <p>Interdependence ‖β(x∪y) − β(x) − β(y)‖ / ‖β(x∪y)‖ of each word pair at the later word's state
            (contextual decomposition); darker is larger (the largest here: \(String(format: "%.3f", largest))).</p>
            <table><tr><th></th>
            """
        for w in words { page += "<th>\(xmlEscape(w))</th>" }
        page += "</tr>\n"
        for i in 0..<n {
            page += "<tr><th>\(xmlEscape(words[i]))</th>"
            for j in 0..<n {
                if let v = value[i][j], v.isFinite {
                    let alpha = largest > 0 ? min(1, v / largest) : 0
                    page += "<td style=\"background:rgba(178,34,34,\(String(format: "%.2f", alpha)))\">\(String(format: "%.2f", v))</td>"
                } else {
                    page += "<td></td>"
                }
            }
            page += "</tr>\n"
        }
        page += "</table>\n" + arcs(words: words, heads: heads) + "</body></html>\n"
        return page
    }

    /// The sentence on a line with an arc from each word's head to it.
    static func arcs(words: [String], heads: [Int?]) -> String {
        let step = 70.0, base = 150.0, width = Double(max(words.count, 1)) * step + 20
        var svg = "<h2>Dependency tree</h2><svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 \(width) 180\" width=\"\(width)\" height=\"180\" role=\"img\">"
        func x(_ i: Int) -> Double { 10 + step * (Double(i) + 0.5) }
        for (i, w) in words.enumerated() {
            svg += "<text x=\"\(x(i))\" y=\"\(base + 20)\" text-anchor=\"middle\" font-size=\"12\">\(xmlEscape(w))</text>"
            guard let head = heads[i], head >= 1, head <= words.count, head != i + 1 else { continue }
            let (a, b) = (x(head - 1), x(i)), height = min(120, 18 * Double(abs(head - 1 - i)))
            svg += "<path d=\"M \(a) \(base) C \(a) \(base - height), \(b) \(base - height), \(b) \(base)\" fill=\"none\" stroke=\"#555\"/>"
            svg += "<circle cx=\"\(b)\" cy=\"\(base)\" r=\"2.5\" fill=\"#555\"/>"
        }
        return svg + "</svg>\n"
    }
}
