import Foundation

/// A line chart as inline SVG: one series per run, linear axes with a few labelled ticks.
public enum LossCurvePlot {
    public static let colours = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2"]

    public static func svg(title: String, runs: [(name: String, points: [(step: Double, value: Double)])],
                           width: Int = 380, height: Int = 220) -> String {
        let all = runs.flatMap(\.points)
        let left = 56.0, right = 10.0, top = 24.0, bottom = 30.0
        let w = Double(width) - left - right, h = Double(height) - top - bottom
        var svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(width)\" height=\"\(height)\" viewBox=\"0 0 \(width) \(height)\" role=\"img\" aria-label=\"\(HTMLText.escape(title))\">"
        svg += "<text x=\"\(left)\" y=\"16\" font-size=\"13\" font-weight=\"bold\">\(HTMLText.escape(title))</text>"
        guard let minX = all.map(\.step).min(), let maxX = all.map(\.step).max(),
              var minY = all.map(\.value).min(), var maxY = all.map(\.value).max() else {
            return svg + "<text x=\"\(left)\" y=\"\(top + h / 2)\" font-size=\"12\">no data</text></svg>"
        }
        if maxY - minY <= 1e-9 * Swift.abs(maxY) {
            // A constant series (a learning rate before its decay) sits mid-height on a scale of its own size.
            let pad = maxY != 0 ? Swift.abs(maxY) * 0.25 : 0.5
            minY -= pad
            maxY += pad
        }
        let spanX = Swift.max(maxX - minX, 1e-9)
        func px(_ x: Double) -> Double { left + (x - minX) / spanX * w }
        func py(_ y: Double) -> Double { top + (1 - (y - minY) / (maxY - minY)) * h }
        svg += "<rect x=\"\(left)\" y=\"\(top)\" width=\"\(w)\" height=\"\(h)\" fill=\"none\" stroke=\"#999\" stroke-width=\"1\"/>"
        for t in ticks(minY, maxY) {
            let y = py(t)
            svg += String(format: "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#eee\"/>", left, y, left + w, y)
            svg += String(format: "<text x=\"%.1f\" y=\"%.1f\" font-size=\"10\" text-anchor=\"end\">%@</text>", left - 4, y + 3, label(t))
        }
        for t in ticks(minX, maxX) {
            let x = px(t)
            svg += String(format: "<text x=\"%.1f\" y=\"%.1f\" font-size=\"10\" text-anchor=\"middle\">%@</text>", x, top + h + 13, label(t))
        }
        svg += String(format: "<text x=\"%.1f\" y=\"%.1f\" font-size=\"10\" text-anchor=\"middle\">step</text>", left + w / 2, top + h + 26)
        for (i, run) in runs.enumerated() where !run.points.isEmpty {
            let colour = colours[i % colours.count]
            let path = run.points.map { String(format: "%.1f,%.1f", px($0.step), py($0.value)) }.joined(separator: " ")
            if run.points.count == 1 {
                svg += String(format: "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"%@\"/>", px(run.points[0].step), py(run.points[0].value), colour)
            } else {
                svg += "<polyline fill=\"none\" stroke=\"\(colour)\" stroke-width=\"1.5\" points=\"\(path)\"/>"
            }
            if runs.count > 1 {
                let y = top + 12 + Double(i) * 13
                svg += String(format: "<text x=\"%.1f\" y=\"%.1f\" font-size=\"10\" text-anchor=\"end\" fill=\"%@\">%@</text>",
                              left + w - 4, y, colour, HTMLText.escape(run.name))
            }
        }
        return svg + "</svg>"
    }

    /// About five round tick values within [low, high].
    static func ticks(_ low: Double, _ high: Double) -> [Double] {
        let span = high - low
        guard span > 0, span.isFinite else { return [low] }
        let raw = span / 4
        let magnitude = pow(10, floor(log10(raw)))
        let step = [1.0, 2, 2.5, 5, 10].map { $0 * magnitude }.first { $0 >= raw } ?? raw
        var t = ceil(low / step) * step
        var out: [Double] = []
        while t <= high + step * 1e-9 {
            out.append(Swift.abs(t) < step * 1e-9 ? 0 : t)
            t += step
        }
        return out
    }

    static func label(_ v: Double) -> String {
        let a = Swift.abs(v)
        if a == 0 { return "0" }
        if a >= 1e5 || a < 1e-3 { return String(format: "%.1e", v) }
        if a >= 100 { return String(format: "%.0f", v) }
        return String(format: "%.3g", v)
    }
}
