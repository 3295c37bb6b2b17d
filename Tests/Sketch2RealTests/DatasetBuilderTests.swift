import Foundation
import Torch
import XCTest
@testable import Sketch2Real

final class DatasetBuilderTests: XCTestCase {
    func photos(_ n: Int, width: Int = 120, height: Int = 90) throws -> String {
        let folder = makeTemporaryFolder(self)
        for i in 0 ..< n {
            try gradientImage(width: width, height: height, phase: Float(i) / Float(n)).save(path: "\(folder)/photo\(i).jpg")
        }
        return folder
    }

    func testBuildsAlignedPairsWithManifestAndLicences() throws {
        let input = try photos(6)
        try Data(#"{"photo0.jpg": "CC0-1.0, Someone"}"#.utf8).write(to: URL(fileURLWithPath: input + "/licenses.json"))
        let out = makeTemporaryFolder(self) + "/ds"
        var o = DatasetBuilder.Options()
        o.size = 32
        o.cropsPerPhoto = 3
        o.scales = [1.0, 0.5]
        o.split = [0.6, 0.2, 0.2]
        let extractor = try SketchMethod.xdog.makeExtractor()
        let summary = try DatasetBuilder(options: o) { try extractor.sketch($0) }.build(photosFolder: input, outputFolder: out)
        XCTAssertEqual(summary.entries.count, 18)
        // Whole photos go to one split: 6 × (0.6, 0.2, 0.2) → 4, 1, 1 photos.
        let photosPerSplit = Dictionary(grouping: Set(summary.entries.map { "\($0.split) \($0.source)" }), by: { $0.split(separator: " ")[0] }).mapValues(\.count)
        XCTAssertEqual(photosPerSplit, ["train": 4, "val": 1, "test": 1])
        let first = summary.entries.first { $0.source == "photo0.jpg" }!
        XCTAssertEqual(first.licence, "CC0-1.0, Someone")
        XCTAssertEqual(first.crop, [first.crop[0], 0, 90, 90], "scale 1 takes the full height")
        let pair = try Image.load(path: out + "/" + first.file)
        XCTAssertEqual([pair.width, pair.height], [64, 32], "sketch | photo side by side")
        let manifest = try String(contentsOfFile: out + "/manifest.jsonl", encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(manifest.count, 18)
        let report = try DatasetChecker.check(root: out)
        XCTAssertTrue(report.isHealthy, DatasetChecker.lines(report).joined(separator: "\n"))
        // The dataset trains as it is: it opens in the aligned layout.
        XCTAssertEqual(try PairedDataset(root: out, split: "train", options: DatasetOptions()).count, 12)
    }

    func testRepeatedCropBoxesAreNotWrittenTwice() throws {
        // A photo exactly the crop size has one position only.
        let input = try photos(1, width: 32, height: 32)
        var o = DatasetBuilder.Options()
        o.size = 32
        o.cropsPerPhoto = 5
        o.scales = [1.0]
        o.split = [1, 0, 0]
        let summary = try DatasetBuilder(options: o) { $0.grayscale() }.build(photosFolder: input, outputFolder: makeTemporaryFolder(self))
        XCTAssertEqual(summary.entries.count, 1)
    }

    func testBadPhotosAreSkippedOrFail() throws {
        let input = try photos(2)
        _ = FileManager.default.createFile(atPath: input + "/broken.jpg", contents: Data("nope".utf8))
        var o = DatasetBuilder.Options()
        o.size = 32
        o.cropsPerPhoto = 1
        o.split = [1, 0, 0]
        let skipping = try DatasetBuilder(options: o) { $0.grayscale() }.build(photosFolder: input, outputFolder: makeTemporaryFolder(self))
        XCTAssertEqual(skipping.entries.count, 2)
        XCTAssertEqual(skipping.skipped, ["\(input)/broken.jpg: not a readable image (unknown format, truncated or corrupt)"])
        o.onBadFile = .fail
        XCTAssertThrowsError(try DatasetBuilder(options: o) { $0.grayscale() }.build(photosFolder: input, outputFolder: makeTemporaryFolder(self))) {
            XCTAssertEqual("\($0)", "\(input)/broken.jpg: not a readable image (unknown format, truncated or corrupt)")
        }
        let empty = makeTemporaryFolder(self)
        XCTAssertThrowsError(try DatasetBuilder(options: o) { $0 }.build(photosFolder: empty, outputFolder: makeTemporaryFolder(self))) {
            XCTAssertEqual("\($0)", "\(empty): no photos (readable: bmp, jpeg, jpg, png, tif, tiff, webp)")
        }
        var bad = DatasetBuilder.Options()
        bad.split = [0.5, 0.6, 0]
        XCTAssertThrowsError(try bad.validate()) {
            XCTAssertEqual("\($0)", "--split must be three non-negative fractions for train,val,test that add up to 1 (e.g. 0.9,0.05,0.05), got 0.5,0.6,0.0")
        }
    }
}
