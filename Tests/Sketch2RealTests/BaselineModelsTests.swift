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
}
