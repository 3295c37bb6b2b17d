import Foundation
import Torch
import XCTest
@testable import Sketch2Real

final class DatasetTests: XCTestCase {
    let fixed = PreprocessOptions(mode: .none, flip: false)

    func testAlignedLayoutSplitsHalvesAndHonoursDirection() throws {
        let root = makeTemporaryFolder(self)
        try writeAlignedDataset(root: root, counts: ["train": 3], size: 16)
        let ab = try PairedDataset(root: root, split: "train", options: DatasetOptions(preprocess: fixed))
        XCTAssertEqual(ab.count, 3)
        let s = try ab.sample(1, draw: .init(x: 0, y: 0, flip: false))
        XCTAssertEqual(s.input.shape, [3, 16, 16])
        // B is A inverted, and the tensors are in [-1, 1], so input = −target.
        XCTAssertLessThan(maxAbsDifference(s.input, -s.target!), 2.0 / 255 + 1e-6)
        let expectedA = gradientImage(width: 16, height: 16, phase: 0.1).tensor().squeezed(0)
        XCTAssertLessThan(maxAbsDifference(s.input, expectedA), 2.0 / 255 + 1e-6, "A is the left half")
        let ba = try PairedDataset(root: root, split: "train", options: DatasetOptions(direction: .BtoA, preprocess: fixed))
        let r = try ba.sample(1, draw: .init(x: 0, y: 0, flip: false))
        XCTAssertLessThan(maxAbsDifference(r.input, s.target!), 1e-6, "BtoA swaps the halves")
    }

    func testPairedFoldersBothNamingsAndChannels() throws {
        for style in ["split/A", "trainA"] {
            let root = makeTemporaryFolder(self)
            let (a, b) = style == "split/A" ? ("\(root)/train/A", "\(root)/train/B") : ("\(root)/trainA", "\(root)/trainB")
            for f in [a, b] { try FileManager.default.createDirectory(atPath: f, withIntermediateDirectories: true) }
            for i in 0 ..< 2 {
                try gradientImage(width: 20, height: 12, phase: Float(i) / 4).save(path: "\(a)/img\(i).png")
                try gradientImage(width: 20, height: 12, phase: Float(i) / 4 + 0.5).save(path: "\(b)/img\(i).jpg")
            }
            let ds = try PairedDataset(root: root, split: "train",
                                       options: DatasetOptions(inputChannels: 1, preprocess: PreprocessOptions(mode: .none, flip: false)))
            guard case .paired(let pairs) = ds.files else { return XCTFail("expected paired layout for \(style)") }
            XCTAssertEqual(pairs.map { ($0.b as NSString).lastPathComponent }, ["img0.jpg", "img1.jpg"], "matched by stem")
            let s = try ds.sample(0, draw: .init(x: 0, y: 0, flip: false))
            XCTAssertEqual(s.input.shape, [1, 12, 20], "one input channel")
            XCTAssertEqual(s.target!.shape, [3, 12, 20])
        }
    }

    func testPreprocessModes() throws {
        let img = gradientImage(width: 300, height: 200)
        let d = PreprocessOptions.Draw(x: 0.5, y: 0.5, flip: false)
        XCTAssertEqual(try PreprocessOptions(mode: .resizeAndCrop, loadSize: 286, cropSize: 256).apply(img, d).pixels.shape, [256, 256, 3])
        XCTAssertEqual(try PreprocessOptions(mode: .crop, cropSize: 128).apply(img, d).pixels.shape, [128, 128, 3])
        XCTAssertEqual(try PreprocessOptions(mode: .scaleWidth, cropSize: 128).apply(img, d).pixels.shape, [84, 128, 3])
        XCTAssertEqual(try PreprocessOptions(mode: .none, multiple: 8).apply(img, d).pixels.shape, [200, 304, 3])
        XCTAssertThrowsError(try PreprocessOptions(mode: .crop, cropSize: 256).apply(img, d)) {
            XCTAssertEqual("\($0)", "image of 300×200 is smaller than the crop size 256")
        }
        XCTAssertThrowsError(try PreprocessOptions(cropSize: 250).validate()) {
            XCTAssertEqual("\($0)", "crop size 250 must be a positive multiple of 4 (the network's stride)")
        }
        let flipped = try PreprocessOptions(mode: .none, flip: true).apply(img, .init(x: 0, y: 0, flip: true))
        XCTAssertLessThan(maxAbsDifference(flipped.pixels, try img.resized(width: 300, height: 200).flippedHorizontally().pixels), 1e-6)
    }

    func testBothHalvesGetTheSameCropAndFlip() throws {
        let root = makeTemporaryFolder(self)
        try writeAlignedDataset(root: root, counts: ["train": 1], size: 64)
        let ds = try PairedDataset(root: root, split: "train",
                                   options: DatasetOptions(preprocess: PreprocessOptions(mode: .resizeAndCrop, loadSize: 72, cropSize: 48)))
        for epoch in 0 ..< 4 {
            let s = try ds.sample(0, seed: 9, epoch: epoch)
            XCTAssertLessThan(maxAbsDifference(s.input, -s.target!), 0.02, "target stays aligned with input in epoch \(epoch)")
        }
    }

    func testSingleInputsFromFilesAndFolders() throws {
        let folder = makeTemporaryFolder(self)
        try gradientImage(width: 8, height: 8).save(path: folder + "/b.png")
        try gradientImage(width: 8, height: 8).save(path: folder + "/a.jpg")
        _ = FileManager.default.createFile(atPath: folder + "/notes.txt", contents: Data("x".utf8))
        let list = try DatasetLayout.inputs([folder, folder + "/b.png"])
        XCTAssertEqual(list.map { ($0 as NSString).lastPathComponent }, ["a.jpg", "b.png", "b.png"])
        let ds = try PairedDataset(files: .single(list), options: DatasetOptions(preprocess: fixed))
        XCTAssertNil(try ds.sample(0, draw: .init(x: 0, y: 0, flip: false)).target)
        XCTAssertThrowsError(try DatasetLayout.inputs([folder + "/notes.txt"])) {
            XCTAssertTrue("\($0)".hasSuffix("notes.txt: not an image file (readable: bmp, jpeg, jpg, png, tif, tiff, webp)"), "\($0)")
        }
    }

    // MARK: Bad layouts and files

    func testLayoutErrors() throws {
        let root = makeTemporaryFolder(self)
        XCTAssertThrowsError(try DatasetLayout.discover(root: root + "/nope", split: "train")) {
            XCTAssertEqual("\($0)", "\(root)/nope: no such dataset folder")
        }
        try FileManager.default.createDirectory(atPath: root + "/train", withIntermediateDirectories: true)
        XCTAssertThrowsError(try DatasetLayout.discover(root: root, split: "train")) {
            XCTAssertEqual("\($0)", "\(root)/train: no images (expected A|B side-by-side images, or A/ and B/ folders)")
        }
        XCTAssertThrowsError(try DatasetLayout.discover(root: root, split: "val")) {
            XCTAssertEqual("\($0)", "\(root): no 'val' split (looked for val/, val/A and val/B, valA and valB; found folders: train)")
        }
        let p = makeTemporaryFolder(self)
        for f in ["A", "B"] { try FileManager.default.createDirectory(atPath: "\(p)/test/\(f)", withIntermediateDirectories: true) }
        try gradientImage(width: 4, height: 4).save(path: "\(p)/test/A/one.png")
        try gradientImage(width: 4, height: 4).save(path: "\(p)/test/A/two.png")
        try gradientImage(width: 4, height: 4).save(path: "\(p)/test/B/one.png")
        try gradientImage(width: 4, height: 4).save(path: "\(p)/test/B/three.png")
        XCTAssertThrowsError(try DatasetLayout.discover(root: p, split: "test")) {
            XCTAssertEqual("\($0)", "unmatched files: 1 in A without a partner in B (two.png); 1 in B without a partner in A (three.png)")
        }
        try FileManager.default.removeItem(atPath: "\(p)/test/B")
        XCTAssertThrowsError(try DatasetLayout.discover(root: p, split: "test")) {
            XCTAssertEqual("\($0)", "\(p)/test/B: missing folder (paired datasets need both A and B)")
        }
    }

    func testOddWidthAndMismatchedPairsNameTheFile() throws {
        let root = makeTemporaryFolder(self)
        try FileManager.default.createDirectory(atPath: root + "/train", withIntermediateDirectories: true)
        try gradientImage(width: 33, height: 16).save(path: root + "/train/odd.png")
        let ds = try PairedDataset(root: root, split: "train", options: DatasetOptions(preprocess: fixed))
        XCTAssertThrowsError(try ds.sample(0, seed: 0, epoch: 0)) {
            XCTAssertEqual("\($0)", "\(root)/train/odd.png: width 33 is odd: an aligned image must be A | B, two halves of equal width")
        }
        let p = makeTemporaryFolder(self)
        for f in ["A", "B"] { try FileManager.default.createDirectory(atPath: "\(p)/train/\(f)", withIntermediateDirectories: true) }
        try gradientImage(width: 8, height: 8).save(path: "\(p)/train/A/x.png")
        try gradientImage(width: 10, height: 8).save(path: "\(p)/train/B/x.png")
        let pd = try PairedDataset(root: p, split: "train", options: DatasetOptions(preprocess: fixed))
        XCTAssertThrowsError(try pd.sample(0, seed: 0, epoch: 0)) {
            XCTAssertEqual("\($0)", "\(p)/train/A/x.png + \(p)/train/B/x.png: the two images differ in size (8×8 and 10×8)")
        }
    }

    func testCheckReportsCountsSizesDuplicatesAndUnreadableFiles() throws {
        let root = makeTemporaryFolder(self)
        try writeAlignedDataset(root: root, counts: ["train": 3, "test": 1], size: 16)
        try FileManager.default.copyItem(atPath: root + "/train/000.png", toPath: root + "/train/copy.png")
        _ = FileManager.default.createFile(atPath: root + "/train/broken.png", contents: Data([0x89, 0x50, 0x4E, 0x47]))
        try gradientImage(width: 15, height: 16).save(path: root + "/test/odd.png")
        let report = try DatasetChecker.check(root: root)
        XCTAssertEqual(report.splits.map(\.split), ["train", "test"])
        let train = report.splits[0], test = report.splits[1]
        XCTAssertEqual(train.examples, 4)
        XCTAssertEqual(train.sizes, ["16×16": 4])
        XCTAssertEqual(train.channels, ["RGB": 4])
        XCTAssertEqual(train.duplicates, [[root + "/train/000.png", root + "/train/copy.png"]])
        XCTAssertEqual(train.unreadable, ["\(root)/train/broken.png: not a readable image (unknown format, truncated or corrupt)"])
        XCTAssertEqual(test.problems, ["\(root)/test/odd.png: width 15 is odd: an aligned image must be A | B, two halves of equal width"])
        XCTAssertFalse(report.isHealthy)
        XCTAssertEqual(DatasetChecker.lines(report).last, "problems found: see above")
        let empty = makeTemporaryFolder(self)
        XCTAssertThrowsError(try DatasetChecker.check(root: empty)) {
            XCTAssertEqual("\($0)", "\(empty): no train, val or test split found (expected \(empty)/train/…, \(empty)/train/A and …/B, or \(empty)/trainA and \(empty)/trainB)")
        }
    }
}
