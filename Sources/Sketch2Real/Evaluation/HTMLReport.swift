import Foundation

/// A self-contained HTML page for an evaluation or comparison: the metric table (best value
/// per column marked), image grids with the pictures embedded as base64 PNG, loss curves from
/// the runs' log.jsonl as inline SVG, definitions, settings and run configurations. It refers
/// to nothing outside itself.
public enum HTMLReport {
    public static func render(title: String, report: EvaluationReport, pictures: EvaluationPictures,
                              logs: [(name: String, log: TrainingLog?)]) throws -> String {
        var h = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>\(e(title))</title>\n<style>\(style)</style></head><body>\n"
        h += "<h1>\(e(title))</h1>\n"
        h += "<p class=\"meta\">\(e(report.tool)) · \(e(report.date)) · data <code>\(e(report.data))</code>, split <b>\(e(report.split))</b>: "
        h += "\(report.pairs) pairs, \(report.sketches) distinct sketches, \(report.imageSize)×\(report.imageSize) px</p>\n"
        h += section("Metrics", metricTable(report))
        h += notes(report)
        h += section("Pictures", try pictureTable(pictures))
        h += section("Training curves", curves(logs))
        h += section("Definitions", "<dl>" + report.definitions.sorted { $0.key < $1.key }.map { "<dt>\(e($0.key))</dt><dd>\(e($0.value))</dd>" }.joined() + "</dl>")
        h += section("Details", details(report))
        h += section("Settings", "<pre>\(e(try settingsJSON(report.settings)))</pre>")
        h += section("Run configuration", report.models.map { m in
            "<details><summary>\(e(m.name)) — <code>\(e(m.source))</code></summary><pre>\(e(m.configuration ?? "(not recorded)"))</pre></details>"
        }.joined())
        return h + "</body></html>\n"
    }

    static let style = """
    body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:24px;color:#222;max-width:1400px}
    h1{font-size:22px}h2{font-size:18px;margin-top:28px;border-bottom:1px solid #ddd}
    table{border-collapse:collapse;font-size:13px}th,td{border:1px solid #ccc;padding:4px 8px;text-align:right;vertical-align:top}
    th{background:#f4f4f4}td.name,th.name{text-align:left}td.best{font-weight:bold;background:#e6f4e6}
    .meta{color:#555}.pictures td{padding:2px;text-align:center}.pictures img{display:block;image-rendering:pixelated}
    .curves{display:flex;flex-wrap:wrap;gap:12px}pre{background:#f7f7f7;padding:8px;font-size:12px;overflow:auto}
    dt{font-weight:bold;margin-top:6px}dd{margin-left:16px}.small{font-size:12px;color:#555}
    """

    static func e(_ s: String) -> String { HTMLText.escape(s) }
    static func section(_ title: String, _ body: String) -> String { "<h2>\(e(title))</h2>\n\(body)\n" }

    static func metricTable(_ report: EvaluationReport) -> String {
        let table = MetricTable(report.models)
        var h = "<table><tr><th class=\"name\">model</th>"
        for c in table.columns {
            h += "<th title=\"\(c.better.explanation)\">\(e(c.label)) \(c.better.arrow)</th>"
        }
        h += "</tr>\n"
        let bests = table.columns.indices.map { table.best(column: $0) }
        for (r, name) in table.models.enumerated() {
            h += "<tr><td class=\"name\">\(e(name))</td>"
            for c in table.columns.indices {
                guard let m = table.cells[r][c] else { h += "<td>—</td>"; continue }
                let best = bests[c].contains(r)
                h += "<td\(best ? " class=\"best\"" : "")\(m.note.map { " title=\"\(e($0))\"" } ?? "")>\(e(m.formatted))\(best ? " ★" : "")</td>"
            }
            h += "</tr>\n"
        }
        h += "</table>\n<p class=\"small\">↓ lower is better, ↑ higher is better"
        if report.models.count > 1 { h += "; ★ best in its column" }
        return h + ". Feature networks are named in every realism label: none of the HED-VGG16 numbers is FID or LPIPS.</p>"
    }

    static func notes(_ report: EvaluationReport) -> String {
        var items = report.notes
        if let c = report.classifier {
            items.append(String(format: "Palette classifier (%d palettes: %@): %.1f%% correct on held-out renders, %.1f%% on the real targets of this split.",
                                c.modes, c.palettes.joined(separator: ", "), c.validationAccuracy * 100, c.realTargetAccuracy * 100))
        }
        return "<ul>" + items.map { "<li>\(e($0))</li>" }.joined() + "</ul>\n"
    }

    static func pictureTable(_ pictures: EvaluationPictures) throws -> String {
        guard let first = pictures.rows.first else { return "<p>no pictures</p>" }
        var h = "<table class=\"pictures\"><tr><th>sketch</th><th>target</th>"
        for (m, name) in pictures.models.enumerated() {
            let span = first.outputs[m].count
            h += "<th colspan=\"\(span)\">\(e(name))\(span > 1 ? " (\(span) samples)" : "")</th>"
        }
        h += "</tr>\n"
        for row in pictures.rows {
            h += "<tr><td>\(try img(row.input, row.caption))</td><td>\(try img(row.target, "target"))</td>"
            for (m, outputs) in row.outputs.enumerated() {
                for o in outputs { h += "<td>\(try img(o, pictures.models[m]))</td>" }
            }
            h += "</tr>\n"
        }
        return h + "</table>"
    }

    static func img(_ image: Image, _ alt: String) throws -> String {
        let png = Data(try image.encoded(fileExtension: "png")).base64EncodedString()
        let side = Swift.max(96, Swift.min(192, image.width))
        return "<img alt=\"\(e(alt))\" title=\"\(e(alt))\" width=\"\(side)\" src=\"data:image/png;base64,\(png)\">"
    }

    static func curves(_ logs: [(name: String, log: TrainingLog?)]) -> String {
        let present = logs.compactMap { l in l.log.map { (l.name, $0) } }
        guard !present.isEmpty else { return "<p>no log.jsonl (the models are not run folders)</p>" }
        var keys: [String] = []
        for (_, log) in present { for k in log.keys where !keys.contains(k) { keys.append(k) } }
        let charts = keys.map { key in
            LossCurvePlot.svg(title: key, runs: present.map { name, log in (name, log.series[key] ?? []) })
        }
        return "<div class=\"curves\">" + charts.joined(separator: "\n") + "</div>"
    }

    static func details(_ report: EvaluationReport) -> String {
        var h = "<table><tr><th class=\"name\">model</th><th>realism features</th><th>generated / real</th><th>KID subsets × size</th>"
        h += "<th>diversity pairs</th><th>NDB generated / real</th><th>palette histogram</th><th>seconds</th></tr>\n"
        for m in report.models {
            let realism = m.realism.map { e("\($0.network): \($0.features)") }.joined(separator: "<br>")
            let counts = m.realism.map { "\($0.generatedCount) / \($0.realCount)" }.joined(separator: "<br>")
            let kid = m.realism.map { "\($0.kernelDistance.subsets) × \($0.kernelDistance.subsetSize)" }.joined(separator: "<br>")
            let diversity = m.diversity.map { "\($0.pairs) (\($0.inputs) × \($0.samplesPerInput - 1))" } ?? "—"
            let ndb = m.ndb.map { "\($0.generatedCount) / \($0.realCount)" } ?? "—"
            var histogram = "—"
            if let k = m.knownModes {
                let names = report.classifier?.palettes ?? []
                histogram = k.histogram.enumerated().map { i, p in
                    String(format: "%@ %.2f", e(i < names.count ? names[i] : "mode \(i)"), p)
                }.joined(separator: "<br>")
            }
            h += "<tr><td class=\"name\">\(e(m.name))</td><td class=\"name\">\(realism)</td>"
            h += "<td>\(counts)</td><td>\(kid)</td><td>\(diversity)</td><td>\(ndb)</td><td class=\"name\">\(histogram)</td>"
            h += String(format: "<td>%.1f</td></tr>\n", m.seconds)
        }
        return h + "</table>"
    }

    static func settingsJSON(_ settings: EvaluationSettings) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(settings), as: UTF8.self)
    }
}
