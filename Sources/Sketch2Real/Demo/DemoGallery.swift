import Foundation
import Torch

/// One example sketch of the demo, with where it came from.
public struct DemoExample: Codable, Sendable, Equatable {
    /// File name inside the examples folder.
    public var file: String
    /// A short caption.
    public var title: String
    /// Origin and licence of the sketch (and of the photo it was extracted from).
    public var credit: String

    public init(file: String, title: String, credit: String) {
        self.file = file
        self.title = title
        self.credit = credit
    }
}

/// What `DemoGallery.run` made.
public struct DemoReport: Sendable {
    public var examples = 0
    public var variations = 0
    public var failures: [String] = []
    /// Path of the page.
    public var page = ""
    public var seconds = 0.0
}

/// The demo: every example sketch translated by a one-to-one model and drawn several times by a
/// multimodal one, on one page (sketch → result → variations).
public struct DemoGallery {
    public let translator: Translator
    public let sampler: MultimodalSampler
    /// A multimodal model trained on the synthetic landscapes (`dataset synth`), not on photos:
    /// its variations get their own column, labelled as synthetic.
    public var synthetic: MultimodalSampler?
    public var variations = 6
    public var seed: UInt64 = 0
    /// Side the sketches are resized to before generation (the models' training size), so a
    /// sketch of any size is drawn at the scale the models learned.
    public var size: Int

    public init(translator: any SketchToImageGenerator, sampler: MultimodalSampler, size: Int) {
        self.translator = Translator(generator: translator)
        self.sampler = sampler
        self.size = size
    }

    /// The examples listed in `examples.json` of a folder, or, without one, every image in it.
    public static func examples(in folder: String) throws -> [DemoExample] {
        let list = (folder as NSString).appendingPathComponent("examples.json")
        if FileManager.default.fileExists(atPath: list) {
            do {
                return try JSONDecoder().decode([DemoExample].self, from: Data(contentsOf: URL(fileURLWithPath: list)))
            } catch {
                throw ModelError("\(list): not a list of {file, title, credit}: \(error)")
            }
        }
        let files = try DatasetLayout.inputs([folder])
        return files.map { DemoExample(file: ($0 as NSString).lastPathComponent, title: ($0 as NSString).lastPathComponent, credit: "") }
    }

    /// The sketch as the models see it: grey, resized so its longer side is `size`.
    public static func prepare(_ sketch: Image, size: Int) throws -> Image {
        let scale = Double(size) / Double(max(sketch.width, sketch.height))
        let w = max(1, Int((Double(sketch.width) * scale).rounded()))
        let h = max(1, Int((Double(sketch.height) * scale).rounded()))
        return try sketch.grayscale().resized(width: w, height: h)
    }

    /// Writes `out/index.html` with every example; files that fail are reported and skipped.
    public func run(examples: [DemoExample], folder: String, out: String, log: (String) -> Void = { print($0) }) throws -> DemoReport {
        let start = Date()
        let fm = FileManager.default
        try fm.createDirectory(atPath: out, withIntermediateDirectories: true)
        Torch.manualSeed(seed)
        var report = DemoReport()
        var rows: [String] = []
        for (index, example) in examples.enumerated() {
            // Codes of sketch `index` (`LatentCodes`): a bad file does not change the others' codes.
            let codes = LatentCodes.tensor(seed: seed, sketch: index, count: variations, size: sampler.latentChannels)
            let stem = (example.file as NSString).deletingPathExtension
            do {
                let sketch = try Self.prepare(try Image.load(path: (folder as NSString).appendingPathComponent(example.file)), size: size)
                let result = try translator.translate(sketch)
                let samples = try sampler.images(for: sketch, codes: codes)
                let syntheticSamples = try synthetic.map {
                    try $0.images(for: sketch, codes: LatentCodes.tensor(seed: seed, sketch: index, count: variations, size: $0.latentChannels))
                } ?? []
                try sketch.save(path: "\(out)/\(stem)_sketch.png")
                try result.save(path: "\(out)/\(stem)_sragan.png")
                // Saves each variation as STEM_KIND_NN.png and returns the cell's images.
                func saveCells(_ images: [Image], kind: String, alt: String) throws -> String {
                    var html = ""
                    for (k, sample) in images.enumerated() {
                        let name = String(format: "%@_%@_%02d.png", stem, kind, k)
                        try sample.save(path: "\(out)/\(name)")
                        html += "<img src=\"\(HTMLText.escape(name))\" alt=\"\(alt) \(k + 1)\">"
                    }
                    return html
                }
                let cells = try saveCells(samples, kind: "lsragan", alt: "variation")
                let syntheticCells = try saveCells(syntheticSamples, kind: "synthetic", alt: "synthetic variation")
                rows.append("""
                <tr><td><img src="\(HTMLText.escape(stem))_sketch.png" alt="sketch"><div class="cap">\(HTMLText.escape(example.title))</div>\
                <div class="credit">\(HTMLText.escape(example.credit))</div></td>
                <td><img src="\(HTMLText.escape(stem))_sragan.png" alt="SRAGAN result"></td><td class="vars">\(cells)</td>\
                \(synthetic == nil ? "" : "<td class=\"vars synth\">\(syntheticCells)</td>")</tr>
                """)
                report.examples += 1
                report.variations += samples.count + syntheticSamples.count
                log("\(example.file) → \(out)/\(stem)_sragan.png and \(samples.count + syntheticSamples.count) variations")
            } catch {
                report.failures.append("\(example.file): \(error)")
            }
        }
        report.seconds = Date().timeIntervalSince(start)
        report.page = (out as NSString).appendingPathComponent("index.html")
        let html = Self.page(rows: rows, variations: variations, seed: seed, size: size, seconds: report.seconds, synthetic: synthetic != nil)
        try AtomicFile.write(Data(html.utf8), to: report.page)
        return report
    }

    static func page(rows: [String], variations: Int, seed: UInt64, size: Int, seconds: Double, synthetic: Bool = false) -> String {
        let syntheticText = synthetic ? """
         The last column is the bundled <b>synthetic</b> LSRAGAN: trained on rendered landscapes \
        (<code>sketch2real dataset synth</code>, 8 palettes), not on photographs, with the same codes.
        """ : ""
        let syntheticHeader = synthetic ? "<th>LSRAGAN, synthetic landscapes (not photos)</th>" : ""
        return 
        """
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8"><title>Sketch2Real demo</title>
        <style>
        body { font-family: system-ui, sans-serif; margin: 24px; color: #222; }
        table { border-collapse: collapse; }
        th { text-align: left; padding: 6px 10px; border-bottom: 2px solid #ccc; }
        td { padding: 10px; vertical-align: top; border-bottom: 1px solid #eee; }
        img { width: 192px; height: 192px; image-rendering: auto; border: 1px solid #ddd; margin: 0 4px 4px 0; }
        td.vars { white-space: nowrap; }
        td.vars img { width: 112px; height: 112px; }
        td.synth { background: #f4f1ea; }
        .cap { font-weight: 600; margin-top: 4px; max-width: 192px; }
        .credit { font-size: 12px; color: #666; max-width: 192px; }
        </style></head><body>
        <h1>Sketch2Real demo</h1>
        <p>Each sketch (resized to \(size)×\(size) px, the size the bundled models were trained at) → the
        bundled SRAGAN's image → \(variations) variations from the bundled LSRAGAN, one random latent code
        z ~ N(0, I) each (seed \(seed)).\(syntheticText) Made in \(String(format: "%.1f", seconds)) s by <code>make demo</code>.</p>
        <table><tr><th>sketch</th><th>SRAGAN</th><th>LSRAGAN variations</th>\(syntheticHeader)</tr>
        \(rows.joined(separator: "\n"))
        </table></body></html>

        """
    }
}
