import Foundation
import Torch

/// What `SampleGallery` draws for each sketch.
public struct SampleOptions: Sendable {
    /// Random codes per sketch.
    public var count = 8
    /// Sample even when the memory estimate of a sketch exceeds the memory available.
    public var ignoreMemoryLimit = false
    public var seed: UInt64 = 0
    /// The same codes for every sketch (else each sketch draws its own).
    public var sync = false
    /// A reference photo whose code (the encoder's μ) gives every sketch an "encoded" result.
    public var style: String?
    /// Inputs are sketch | photo pairs (pix2pix's aligned layout): the photo is the target,
    /// shown beside the samples and, by models with an encoder, encoded for the "encoded" result.
    public var aligned = false
    /// Images in a walk between two codes (0: none); written as a strip and an animated GIF.
    public var interpolate = 0
    /// Hundredths of a second per frame of the GIF.
    public var gifDelay = 12
    /// Also one grid with a row per sketch: sketch | encoded | samples | target.
    public var sheet: String?

    public init() {}
}

/// What a sampling run produced.
public struct SampleReport: Sendable {
    public var written = 0
    public var failures: [String] = []
    /// Mean pairwise L1 between the samples of each sketch that was drawn.
    public var diversity: [(input: String, value: Double)] = []
    public var meanDiversity: Double { diversity.isEmpty ? 0 : diversity.map(\.value).reduce(0, +) / Double(diversity.count) }
}

/// Draws samples of a multimodal model for a list of sketches into a folder: for each sketch
/// `STEM_input.png`, `STEM_z00.png`…, the encoded result and target when there are any,
/// interpolation strips and GIFs; `index.html` shows them all and `codes.json` lists the codes.
/// Codes come from libtorch's generator seeded with `seed`, so a run repeats exactly.
public final class SampleGallery {
    public let sampler: MultimodalSampler
    public let options: SampleOptions
    public let folder: String
    /// A name for the page's header (the model's path).
    public let modelName: String

    public init(model: MultimodalModel, modelName: String, options: SampleOptions, folder: String) throws {
        guard options.count >= 1 else { throw ModelError("draw at least one sample per sketch") }
        let encodes = model.encoder != nil
        if options.style != nil, !encodes {
            throw ModelError("a \(model.config.model.rawValue) model has no encoder: --style needs lsragan or bicyclegan")
        }
        if options.interpolate > 0 {
            guard options.interpolate >= 2 else { throw ModelError("an interpolation needs at least 2 images") }
            guard options.count >= 2 || (encodes && (options.style != nil || options.aligned)) else {
                throw ModelError("an interpolation walks between two codes: draw at least 2 samples, or give --style or --aligned with a model that has an encoder")
            }
        }
        sampler = MultimodalSampler(model: model)
        self.options = options
        self.folder = folder
        self.modelName = modelName
    }

    struct Row {
        var name: String
        var files: [String: String] = [:]
        var samples: [String] = []
        var diversity: Double?
        var error: String?
    }

    /// Draws every input; `log` gets a line per sketch, `warn` each file that failed.
    public func run(inputs: [String], log: (String) -> Void = { print($0) },
                    warn: (String) -> Void = { FileHandle.standardError.write(Data("error: \($0)\n".utf8)) }) throws -> SampleReport {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        Torch.manualSeed(options.seed)
        var report = SampleReport()
        var styleCode: Tensor?
        if let style = options.style {
            let photo = try Image.load(path: style)
            styleCode = try sampler.code(of: photo)
            try photo.save(path: folder + "/style.png")
        }
        let nz = sampler.latentChannels
        let shared = options.sync ? LatentCodes.tensor(seed: options.seed, sketch: 0, count: options.count, size: nz) : nil
        let cost = MemoryBudget.inferenceCost(sampler.model.generator)
        var rows: [Row] = [], sheet: [[Image]] = [], codesRecord: [String: [[Float]]] = [:]
        var used = Set<String>()
        for (index, path) in inputs.enumerated() {
            // Codes of sketch `index` (`LatentCodes`): an unreadable file does not shift later codes.
            let codes = shared ?? LatentCodes.tensor(seed: options.seed, sketch: index, count: options.count, size: nz)
            var stem = ((path as NSString).lastPathComponent as NSString).deletingPathExtension
            if used.contains(stem) { stem += "_\(index)" }
            used.insert(stem)
            var row = Row(name: (path as NSString).lastPathComponent)
            do {
                let (sketch, target) = try read(path)
                try MemoryBudget.check(needs: cost.bytes(width: sketch.width, height: sketch.height, images: Swift.min(options.count, sampler.batchSize)),
                                       for: "\(path): sampling \(sketch.width)×\(sketch.height) pixels in batches of \(Swift.min(options.count, sampler.batchSize))",
                                       ignore: options.ignoreMemoryLimit)
                let samples = try sampler.tensors(for: sketch, codes: codes)
                var sheetRow = [sketch]
                try sketch.save(path: "\(folder)/\(stem)_input.png")
                row.files["input"] = "\(stem)_input.png"
                var encodedCode: Tensor?
                if let target {
                    try target.save(path: "\(folder)/\(stem)_target.png")
                    row.files["target"] = "\(stem)_target.png"
                    if styleCode == nil, sampler.model.encoder != nil { encodedCode = try sampler.code(of: target) }
                }
                encodedCode = styleCode ?? encodedCode
                if let encodedCode {
                    let encoded = try sampler.images(for: sketch, codes: encodedCode)[0]
                    try encoded.save(path: "\(folder)/\(stem)_encoded.png")
                    row.files["encoded"] = "\(stem)_encoded.png"
                    sheetRow.append(encoded)
                }
                for (k, sample) in samples.enumerated() {
                    let name = String(format: "%@_z%02d.png", stem, k)
                    let image = Image(tensor: sample)
                    try image.save(path: "\(folder)/\(name)")
                    row.samples.append(name)
                    sheetRow.append(image)
                }
                if samples.count >= 2 {
                    row.diversity = PixelDiversity.meanPairwiseL1(Tensor.cat(samples, dim: 0))
                    report.diversity.append((path, row.diversity!))
                }
                if options.interpolate >= 2 {
                    let a = encodedCode ?? codes.narrow(dim: 0, start: 0, length: 1)
                    let b = codes.narrow(dim: 0, start: encodedCode == nil ? 1 : 0, length: 1)
                    let walk = try sampler.images(for: sketch, codes: MultimodalSampler.interpolate(from: a, to: b, steps: options.interpolate))
                    try ImageGrid.make([walk], spacing: 0).save(path: "\(folder)/\(stem)_interp.png")
                    // There and back, so the loop has no jump.
                    try AnimatedGIF.save(walk + walk.dropFirst().dropLast().reversed(), path: "\(folder)/\(stem)_interp.gif",
                                         delayCentiseconds: options.gifDelay)
                    row.files["interp"] = "\(stem)_interp.png"
                    row.files["gif"] = "\(stem)_interp.gif"
                }
                if let target { sheetRow.append(target) }
                sheet.append(sheetRow)
                codesRecord[row.name] = (0 ..< codes.size(0)).map { codes.select(dim: 0, index: $0).toArray(Float.self) }
                report.written += 1
                log("\(path) → \(folder)/\(stem)_z00…\(String(format: "%02d", options.count - 1)).png" + (row.diversity.map { String(format: "  (diversity %.4f)", $0) } ?? ""))
            } catch {
                row.error = "\(error)"
                report.failures.append("\(error)")
                warn("\(error)")
            }
            rows.append(row)
        }
        if let sheetPath = options.sheet, !sheet.isEmpty { try ImageGrid.make(sheet).save(path: sheetPath) }
        try writeCodes(codesRecord, style: styleCode)
        try AtomicFile.write(Data(page(rows, report: report).utf8), to: folder + "/index.html")
        return report
    }

    /// The sketch (and with `aligned`, the photo beside it).
    func read(_ path: String) throws -> (Image, Image?) {
        let image = try Image.load(path: path)
        guard options.aligned else { return (image, nil) }
        guard image.width % 2 == 0 else {
            throw ImageError(path: path, reason: "width \(image.width) is odd: an aligned image must be sketch | photo, two halves of equal width")
        }
        let half = image.width / 2
        return (image.cropped(x: 0, y: 0, width: half, height: image.height),
                image.cropped(x: half, y: 0, width: half, height: image.height))
    }

    func writeCodes(_ codes: [String: [[Float]]], style: Tensor?) throws {
        var record: [String: Any] = ["seed": options.seed, "sync": options.sync, "codes": codes]
        if let style { record["style"] = style.toArray(Float.self) }
        let data = try JSONSerialization.data(withJSONObject: record, options: [.sortedKeys, .prettyPrinted])
        try AtomicFile.write(data, to: folder + "/codes.json")
    }

    func page(_ rows: [Row], report: SampleReport) -> String {
        func esc(_ s: String) -> String {
            s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
                .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
        }
        func img(_ file: String?) -> String {
            file.map { "<td><img src=\"\(esc($0))\" alt=\"\(esc($0))\"></td>" } ?? "<td></td>"
        }
        let hasEncoded = rows.contains { $0.files["encoded"] != nil }
        let hasTarget = rows.contains { $0.files["target"] != nil }
        let hasWalk = rows.contains { $0.files["gif"] != nil }
        var html = """
        <!doctype html>
        <html><head><meta charset="utf-8"><title>sketch2real samples</title>
        <style>body{font-family:sans-serif;margin:1em}td{vertical-align:top;padding:2px}img{display:block;max-width:256px}
        th{font-weight:normal;color:#555;text-align:left}.note{color:#555}</style></head><body>
        <h1>Samples of \(esc(modelName))</h1>
        <p class="note">\(options.count) random codes per sketch, seed \(options.seed)\(options.sync ? ", the same codes for every sketch" : "")\
        \(options.style.map { ", encoded results use the code of \(esc($0))" } ?? "")\
        \(report.diversity.isEmpty ? "" : String(format: "; mean pairwise L1 between samples of a sketch %.4f", report.meanDiversity)).</p>

        """
        if options.style != nil { html += "<p>Style reference:</p><img src=\"style.png\" alt=\"style\">\n" }
        html += "<table>\n<tr><th>sketch</th>" + (hasEncoded ? "<th>encoded</th>" : "") + (hasTarget ? "<th>target</th>" : "")
        html += "<th colspan=\"\(options.count)\">samples</th>" + (hasWalk ? "<th>interpolation</th>" : "") + "</tr>\n"
        for row in rows {
            if let error = row.error {
                html += "<tr><td colspan=\"\(options.count + 4)\">\(esc(row.name)): \(esc(error))</td></tr>\n"
                continue
            }
            html += "<tr>" + img(row.files["input"])
            if hasEncoded { html += img(row.files["encoded"]) }
            if hasTarget { html += img(row.files["target"]) }
            html += row.samples.map { img($0) }.joined()
            if hasWalk { html += img(row.files["gif"]) }
            html += "</tr>\n"
            if let d = row.diversity { html += "<tr><td class=\"note\" colspan=\"\(options.count + 4)\">\(esc(row.name)): mean pairwise L1 \(String(format: "%.4f", d))</td></tr>\n" }
        }
        html += "</table>\n</body></html>\n"
        return html
    }
}
