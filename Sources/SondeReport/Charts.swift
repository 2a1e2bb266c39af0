import Foundation
import SondeBase

/// The chart kit every report draws with: a self-contained page head, figures with captions,
/// and SVG line and bar charts with axes and legends (no script, no external resource).
public enum Chart {
    public static let palette = ["#1b6ca8", "#d1495b", "#2a9d8f", "#edae49", "#6a4c93", "#8a5a44", "#3d405b", "#00798c"]

    /// The page's head, style and title: every report is one self-contained file.
    public static func pageStart(_ title: String) -> String {
        """
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8"><title>\(xmlEscape(title))</title>
        <style>
        body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2em auto; max-width: 64em; color: #222; }
        h1 { font-size: 1.5em; } h2 { font-size: 1.2em; margin-top: 2.2em; border-bottom: 1px solid #ccc; }
        figure { margin: 1.2em 0; page-break-inside: avoid; } figcaption { color: #444; font-size: 0.9em; max-width: 46em; }
        table { border-collapse: collapse; font-size: 0.9em; } td, th { padding: 0.2em 0.6em; text-align: right; }
        th { border-bottom: 1px solid #999; } .warn { color: #a33; } .w { padding: 0.05em 0.15em; border-radius: 0.2em; }
        svg text { font-family: system-ui, sans-serif; font-size: 11px; fill: #333; }
        </style></head><body>
        <h1>\(xmlEscape(title))</h1>

        """
    }

    public static func figure(_ svg: String, _ caption: String) -> String {
        "<figure>\(svg)<figcaption>\(caption)</figcaption></figure>\n"
    }

    // MARK: SVG

    static let (width, height, left, right, top, bottom) = (640.0, 260.0, 56.0, 150.0, 14.0, 42.0)

    static func scale(_ values: [Double]) -> (Double, Double) {
        let finite = values.filter(\.isFinite)
        guard let lo = finite.min(), let hi = finite.max() else { return (0, 1) }
        let pad = hi > lo ? (hi - lo) * 0.08 : max(abs(hi) * 0.1, 0.05)
        return (min(lo - pad, lo >= 0 && lo - pad < 0 ? 0 : lo - pad), hi + pad)
    }

    /// Axes with the x labels at `xPosition` (points of a line) or, with `bands`, in the middle
    /// of equal bands (groups of bars).
    static func axes(x: [String], y: (Double, Double), yLabel: String, xLabel: String, bands: Bool = false) -> String {
        let plotW = width - left - right, plotH = height - top - bottom
        var s = "<line x1=\"\(left)\" y1=\"\(top + plotH)\" x2=\"\(left + plotW)\" y2=\"\(top + plotH)\" stroke=\"#555\"/>"
        s += "<line x1=\"\(left)\" y1=\"\(top)\" x2=\"\(left)\" y2=\"\(top + plotH)\" stroke=\"#555\"/>"
        for k in 0...4 {
            let v = y.0 + (y.1 - y.0) * Double(k) / 4, py = top + plotH * (1 - Double(k) / 4)
            s += "<line x1=\"\(left - 4)\" y1=\"\(py)\" x2=\"\(left + plotW)\" y2=\"\(py)\" stroke=\"#eee\"/>"
            s +=
                "<text x=\"\(left - 6)\" y=\"\(py + 4)\" text-anchor=\"end\">\(String(format: abs(y.1) >= 100 ? "%.0f" : y.1 - y.0 < 0.1 ? "%.3f" : "%.2f", v))</text>"
        }
        let step = max(1, x.count / 12)
        for (i, label) in x.enumerated() where i % step == 0 || i == x.count - 1 {
            s +=
                "<text x=\"\(bands ? bandPosition(i, x.count) : xPosition(i, x.count))\" y=\"\(top + plotH + 16)\" text-anchor=\"middle\">\(xmlEscape(label))</text>"
        }
        s += "<text x=\"\(left + plotW / 2)\" y=\"\(height - 6)\" text-anchor=\"middle\">\(xmlEscape(xLabel))</text>"
        s += "<text transform=\"translate(14 \(top + plotH / 2)) rotate(-90)\" text-anchor=\"middle\">\(xmlEscape(yLabel))</text>"
        return s
    }

    static func bandPosition(_ i: Int, _ n: Int) -> Double { left + (width - left - right) * (Double(i) + 0.5) / Double(max(n, 1)) }

    static func xPosition(_ i: Int, _ n: Int) -> Double {
        let plotW = width - left - right
        return n <= 1 ? left + plotW / 2 : left + 12 + (plotW - 24) * Double(i) / Double(n - 1)
    }

    static func yPosition(_ v: Double, _ y: (Double, Double)) -> Double {
        let plotH = height - top - bottom
        return top + plotH * (1 - (v - y.0) / max(y.1 - y.0, 1e-12))
    }

    static func legend(_ names: [String]) -> String {
        names.enumerated().map { i, name in
            let y = top + 8 + Double(i) * 16
            let marker =
                i < palette.count
                ? "<rect x=\"\(width - right + 12)\" y=\"\(y - 8)\" width=\"10\" height=\"10\" fill=\"\(palette[i % palette.count])\"/>"
                : "<line x1=\"\(width - right + 10)\" y1=\"\(y - 3)\" x2=\"\(width - right + 24)\" y2=\"\(y - 3)\" stroke=\"\(palette[i % palette.count])\" stroke-width=\"2\" stroke-dasharray=\"5 3\"/>"
            return
                marker + "<text x=\"\(width - right + 28)\" y=\"\(y + 1)\">\(xmlEscape(name))</text>"
        }.joined()
    }

    /// Lines over categories (missing points skipped), with optional ± spread bars.
    public static func lineChart(x: [String], series: [(String, [Double?])], spread: [[Double]] = [], yLabel: String, xLabel: String) -> String {
        let all = series.flatMap { $0.1.compactMap { $0 } }
        let spreads = zip(series, spread).flatMap { s, sd in
            s.1.enumerated().compactMap { i, v in v.flatMap { v in i < sd.count ? [v - sd[i], v + sd[i]] : nil } }.flatMap { $0 }
        }
        let y = scale(all + spreads)
        // Long legend names widen the picture rather than being cut off.
        let longest = Double(series.map(\.0.count).max() ?? 0), full = width + max(0, longest * 6.5 - (right - 32))
        var s = "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 \(full) \(height)\" width=\"\(full)\" height=\"\(height)\" role=\"img\">"
        s += axes(x: x, y: y, yLabel: yLabel, xLabel: xLabel)
        for (k, line) in series.enumerated() {
            let colour = palette[k % palette.count]
            // Past the palette's colours, lines are dashed so that no two series look the same.
            let dash = k >= palette.count ? " stroke-dasharray=\"5 3\"" : ""
            // A degenerate (non-finite) value is a gap in the line, not a NaN coordinate.
            let points = line.1.enumerated().compactMap { i, v in v.flatMap { $0.isFinite ? (xPosition(i, x.count), yPosition($0, y)) : nil } }
            if points.count > 1 {
                s +=
                    "<polyline fill=\"none\" stroke=\"\(colour)\" stroke-width=\"2\"\(dash) points=\"\(points.map { "\($0.0),\($0.1)" }.joined(separator: " "))\"/>"
            }
            for p in points { s += "<circle cx=\"\(p.0)\" cy=\"\(p.1)\" r=\"3\" fill=\"\(colour)\"/>" }
            if k < spread.count {
                for (i, v) in line.1.enumerated() where i < spread[k].count {
                    guard let v, v.isFinite, spread[k][i].isFinite else { continue }
                    let px = xPosition(i, x.count)
                    s +=
                        "<line x1=\"\(px)\" y1=\"\(yPosition(v - spread[k][i], y))\" x2=\"\(px)\" y2=\"\(yPosition(v + spread[k][i], y))\" stroke=\"\(colour)\"/>"
                }
            }
        }
        return s + legend(series.map(\.0)) + "</svg>"
    }

    public static func barChart(labels: [String], values: [Double], yLabel: String, xLabel: String) -> String {
        groupedBars(labels: labels, groups: [("", values)], yLabel: yLabel, xLabel: xLabel)
    }

    public static func groupedBars(labels: [String], groups: [(String, [Double])], yLabel: String, xLabel: String = "layer") -> String {
        let y = (0.0, (groups.flatMap(\.1).filter(\.isFinite).max() ?? 1) * 1.1 + 1e-9)
        var s = "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 \(width) \(height)\" width=\"\(width)\" height=\"\(height)\" role=\"img\">"
        s += axes(x: labels, y: y, yLabel: yLabel, xLabel: xLabel, bands: true)
        let slot = (width - left - right) / Double(max(labels.count, 1)), groupW = min(slot * 0.8, 36 * Double(groups.count))
        let barW = groupW / Double(groups.count)
        for (g, group) in groups.enumerated() {
            for (i, v) in group.1.enumerated() where v.isFinite {
                let x = bandPosition(i, labels.count) - groupW / 2 + Double(g) * barW
                let top = yPosition(v, y)
                s +=
                    "<rect x=\"\(x)\" y=\"\(top)\" width=\"\(barW)\" height=\"\(max(0, yPosition(0, y) - top))\" fill=\"\(palette[g % palette.count])\"/>"
            }
        }
        return s + (groups.count > 1 ? legend(groups.map(\.0)) : "") + "</svg>"
    }
}
