import Foundation
import Torch
import XCTest
@testable import Sketch2Real

final class BaselineModelsTests: XCTestCase {
    func testBaselinesIgnoreTheSketchAndUseTheSplitsMeanColour() throws {
        let root = makeTemporaryFolder(self)
        try FileManager.default.createDirectory(atPath: root + "/test", withIntermediateDirectories: true)
        // Two photos of uniform colours: their mean is the baseline's colour.
        let colours: [[Float]] = [[1, 0, 0.2], [0, 0.6, 1]]
        for (i, c) in colours.enumerated() {
            let photo = Image(pixels: Tensor(Array(repeating: c, count: 16 * 16).flatMap { $0 }, shape: [16, 16, 3]))
            let sketch = Image(pixels: Tensor(Array(repeating: Float(1), count: 16 * 16 * 3), shape: [16, 16, 3]))
            try ImageGrid.joinedHorizontally([sketch, photo]).save(path: "\(root)/test/\(i).png")
        }
        let mean = try BaselineModels.meanColour(dataRoot: root, split: "test", size: 16)
        let grey = BaselineModels.grey()
        let sketches = Tensor.rand([2, 3, 16, 16]) * 2.0 - 1.0
        let m = mean.translate(sketches), g = grey.translate(sketches)
        XCTAssertEqual(m.shape, [2, 3, 16, 16])
        XCTAssertEqual((g.abs().max().item() as Double), 0, "mid-grey is 0 in [-1, 1]")
        let expected = (0 ..< 3).map { c in Double((colours[0][c] + colours[1][c]) / 2) * 2 - 1 }
        let got = m.mean(dims: [0, 2, 3]).toArray(Float.self)
        // The photos were stored as 8-bit PNGs: within half a level.
        for c in 0 ..< 3 { XCTAssertEqual(Double(got[c]), expected[c], accuracy: 1.0 / 255 + 1e-6) }
        XCTAssertEqual((m.max(dims: [0, 2, 3]) - m.min(dims: [0, 2, 3])).abs().max().item() as Double, 0, "one colour everywhere")
        XCTAssertTrue(mean.source.hasPrefix("baseline: the mean colour of 'test'"))
        XCTAssertThrowsError(try BaselineModels.meanColour(dataRoot: root, split: "val", size: 16))
    }

    func testNearestTrainingPhotoReturnsThePhotoOfTheClosestSketch() throws {
        let root = makeTemporaryFolder(self)
        try FileManager.default.createDirectory(atPath: root + "/train", withIntermediateDirectories: true)
        // Three training pairs: a white sketch with one black vertical bar at column 4, 20 or 36,
        // and a photo of one uniform colour each.
        let side = 48, bars = [4, 20, 36]
        let colours: [[Float]] = [[1, 0, 0], [0, 1, 0], [0, 0, 1]]
        func sketch(bar: Int) -> [Float] {
            (0 ..< side * side).flatMap { p -> [Float] in (p % side) >= bar && (p % side) < bar + 6 ? [0, 0, 0] : [1, 1, 1] }
        }
        for (i, bar) in bars.enumerated() {
            let photo = Image(pixels: Tensor(Array(repeating: colours[i], count: side * side).flatMap { $0 }, shape: [side, side, 3]))
            try ImageGrid.joinedHorizontally([Image(pixels: Tensor(sketch(bar: bar), shape: [side, side, 3])), photo])
                .save(path: "\(root)/train/\(i).png")
        }
        // A fourth candidate that is not an image: left out, and said so.
        try Data("not a PNG".utf8).write(to: URL(fileURLWithPath: "\(root)/train/3.png"))
        let model = try XCTUnwrap(try BaselineModels.nearestTrainingPhoto(dataRoot: root, size: side))
        XCTAssertTrue(model.source.contains("(3 pairs, 1 unreadable left out;"), model.source)
        // Queries: bars two pixels off the training ones, in the order 36, 4, 20, in [-1, 1].
        let queries = Tensor.stack([38, 6, 18].map { Tensor(sketch(bar: $0), shape: [side, side, 3]).permute([2, 0, 1]) * 2.0 - 1.0 }, dim: 0)
        let out = model.translate(queries)
        XCTAssertEqual(out.shape, [3, 3, side, side])
        for (row, expected) in [2, 0, 1].enumerated() {
            let got = out.select(dim: 0, index: row).mean(dims: [1, 2]).toArray(Float.self)
            for c in 0 ..< 3 {
                XCTAssertEqual(Double(got[c]), Double(colours[expected][c]) * 2 - 1, accuracy: 1e-6, "query \(row), channel \(c)")
            }
        }
        // Another size: the chosen photo is resized to the sketch's.
        let small = model.translate(queries.upsampleBilinear(size: Size2(24, 32)))
        XCTAssertEqual(small.shape, [3, 3, 24, 32])
        XCTAssertEqual(Double(small.select(dim: 0, index: 1).mean(dims: [1, 2]).toArray(Float.self)[0]), 1, accuracy: 1e-5)
        // No such split: no baseline, and no error.
        XCTAssertNil(try BaselineModels.nearestTrainingPhoto(dataRoot: root, split: "val", size: side))
    }
}
