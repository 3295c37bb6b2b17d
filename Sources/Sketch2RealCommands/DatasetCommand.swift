import ArgumentParser
import Foundation
import Sketch2Real

struct DatasetCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dataset",
        abstract: "Build, check and synthesise paired sketch → image datasets.",
        subcommands: [DatasetBuild.self, DatasetCheck.self, DatasetSynth.self, DatasetPreview.self]
    )
}

extension BadFilePolicy: ExpressibleByArgument {}
extension SketchMethod: ExpressibleByArgument {}

/// Parses "0.9,0.05,0.05"-style lists.
func parseFractions(_ text: String, option: String) throws -> [Double] {
    let parts = text.split(separator: ",").map { Double($0.trimmingCharacters(in: .whitespaces)) }
    guard !parts.isEmpty, parts.allSatisfy({ $0 != nil }) else {
        throw ValidationError("\(option) takes comma-separated numbers, e.g. 0.9,0.05,0.05; got '\(text)'.")
    }
    return parts.map { $0! }
}

struct DatasetBuild: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "build",
        abstract: "Turn a folder of photos into an aligned sketch | photo dataset with a manifest.",
        discussion: """
        Each photo gives --crops square crops whose sides cycle through --scales (fractions of the \
        photo's shorter side), each resized to --size and paired with its sketch. Whole photos are \
        assigned to train/val/test, so crops of one photo never leak across splits. A licenses.json \
        beside the photos (file name → licence text) is copied into the manifest.
        """
    )

    @Option(help: "Folder of photos (png, jpg, webp, bmp, tif).")
    var photos: String

    @Option(help: "Output folder; train/, val/, test/ and manifest.jsonl are written inside.")
    var out: String

    @Option(help: "Sketch extraction: hed (edges2shoes-style), xdog or canny.")
    var sketch: SketchMethod = .hed

    @Option(help: "Side of the square output images (a multiple of 4).")
    var size = 256

    @Option(help: "Crops per photo.")
    var crops = 8

    @Option(help: "Crop sides as fractions of the photo's shorter side, cycled through the crops.")
    var scales = "1.0,0.6,0.35"

    @Option(help: "Fractions of photos for train,val,test.")
    var split = "0.9,0.05,0.05"

    @Option(help: "Seed of the crop positions and the split.")
    var seed: UInt64 = 0

    @Option(help: "What to do with unreadable photos: skip (count them) or fail.")
    var onBadFile: BadFilePolicy = .skip

    @Option(help: "HED weights (safetensors); default: the file scripts/bootstrap converts.")
    var hedWeights: String?

    @OptionGroup var runtime: RuntimeOptions

    func options() throws -> DatasetBuilder.Options {
        var o = DatasetBuilder.Options()
        o.size = size
        o.cropsPerPhoto = crops
        o.scales = try parseFractions(scales, option: "--scales")
        o.split = try parseFractions(split, option: "--split")
        o.seed = seed
        o.onBadFile = onBadFile
        return o
    }

    func validate() throws {
        do { try options().validate() } catch let e as DatasetError { throw ValidationError(e.message) }
    }

    func run() throws {
        try runtime.apply()
        let extractor = try sketch.makeExtractor(hedWeights: hedWeights)
        let builder = try DatasetBuilder(options: try options()) { try extractor.sketch($0) }
        let start = Date()
        let summary = try builder.build(photosFolder: photos, outputFolder: out) { done, total, name in
            let elapsed = Date().timeIntervalSince(start)
            let eta = elapsed / Double(done) * Double(total - done)
            say(String(format: "[%d/%d] %@  (%.1f s, ETA %.0f s)", done, total, name, elapsed, eta))
        }
        var perSplit: [String: Int] = [:]
        for e in summary.entries { perSplit[e.split, default: 0] += 1 }
        say("wrote \(summary.entries.count) pairs to \(out): " + ["train", "val", "test"].map { "\($0) \(perSplit[$0] ?? 0)" }.joined(separator: ", "))
        if !summary.skipped.isEmpty {
            say("skipped \(summary.skipped.count) photo(s):")
            for s in summary.skipped { print("  \(s)") }
        }
    }
}

struct DatasetCheck: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Count examples, sizes and channels per split; find duplicates, unreadable files and layout problems."
    )

    @Argument(help: "Dataset folder (aligned root/{train,val,test}, or paired A/B folders).")
    var folder: String

    @Flag(help: "Print the report as JSON.")
    var json = false

    func run() throws {
        let report = try DatasetChecker.check(root: folder)
        if json {
            let enc = JSONEncoder()
            enc.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            say(String(decoding: try enc.encode(report), as: UTF8.self))
        } else {
            for line in DatasetChecker.lines(report) { print(line) }
        }
        if !report.isHealthy { throw ExitCode(1) }
    }
}

struct DatasetPreview: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "preview",
        abstract: "Write a contact sheet (input | target per row) of a dataset split as one PNG."
    )

    @Argument(help: "Dataset folder.")
    var folder: String

    @Option(help: "Split to show.")
    var split = "train"

    @Option(help: "Output PNG.")
    var out: String

    @Option(help: "Pairs to show (evenly spaced through the split).")
    var count = 8

    @Option(help: "Pairs per row.")
    var columns = 2

    @Option(help: "Shown size of each image.")
    var size = 128

    func validate() throws {
        guard count >= 1, columns >= 1, size >= 16, size <= PreprocessOptions.maximumSide else {
            throw ValidationError("--count and --columns must be positive and --size from 16 to \(PreprocessOptions.maximumSide).")
        }
    }

    func run() throws {
        let options = DatasetOptions(preprocess: PreprocessOptions(mode: .resizeAndCrop, loadSize: size, cropSize: size, flip: false, multiple: 1))
        let dataset = try PairedDataset(root: folder, split: split, options: options)
        let n = min(count, dataset.count)
        var cells: [Image] = []
        for k in 0 ..< n {
            let s = try dataset.sample(k * dataset.count / n, draw: .init(x: 0, y: 0, flip: false))
            cells.append(Image(tensor: s.input))
            if let t = s.target { cells.append(Image(tensor: t)) }
        }
        let perRow = columns * (cells.count / n)
        let rows = stride(from: 0, to: cells.count, by: perRow).map { Array(cells[$0 ..< min($0 + perRow, cells.count)]) }
        try ImageGrid.make(rows).save(path: out)
        say("wrote \(out): \(n) pairs from \(folder)/\(split)")
    }
}
