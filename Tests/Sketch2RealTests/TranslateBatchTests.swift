import Foundation
import Torch
import XCTest
@testable import Sketch2Real

/// `translate --batch-size` batches consecutive sketches of one size; the images are those of
/// translating one at a time.
final class TranslateBatchTests: XCTestCase {
    func testBatchedTranslationsMatchSingleOnes() throws {
        let root = makeTemporaryFolder(self)
        try FileManager.default.createDirectory(atPath: root + "/in", withIntermediateDirectories: true)
        for (i, (w, h)) in [(48, 32), (48, 32), (48, 32), (40, 40), (48, 32)].enumerated() {
            try gradientImage(width: w, height: h, phase: Float(i) * 0.2).save(path: "\(root)/in/s\(i).png")
        }
        let model = try BundledModels.path(BundledModels.translation)
        let single = try runProgram(["translate", "--model", model, root + "/in", "--out", root + "/one", "--batch-size", "1"])
        let batched = try runProgram(["translate", "--model", model, root + "/in", "--out", root + "/four", "--batch-size", "4"])
        XCTAssertEqual(single.status, 0, single.error)
        XCTAssertEqual(batched.status, 0, batched.error)
        XCTAssertTrue(batched.output.contains("translated 5 of 5 sketches"), batched.output)
        for i in 0 ..< 5 {
            let a = try Image.load(path: "\(root)/one/s\(i).png"), b = try Image.load(path: "\(root)/four/s\(i).png")
            XCTAssertEqual(a.pixels.shape, b.pixels.shape)
            // 8-bit files: float rounding in a batched convolution may move a value across one step.
            XCTAssertLessThanOrEqual(maxAbsDifference(a.pixels, b.pixels), 1.0 / 255 + 1e-6, "s\(i)")
        }
    }

    func testABatchOfOneSizeGivesTheSameTensorsInProcess() throws {
        let (generator, _) = try GeneratorFile.load(try BundledModels.path(BundledModels.translation))
        let translator = Translator(generator: generator)
        let sketches = (0 ..< 3).map { gradientImage(width: 40, height: 24, phase: Float($0) * 0.3) }
        let batched = try translator.translate(batch: sketches)
        for (sketch, b) in zip(sketches, batched) {
            let a = try translator.translate(sketch)
            XCTAssertLessThan(maxAbsDifference(a.pixels, b.pixels), 1e-4, "a batch changes only the rounding")
        }
        XCTAssertThrowsError(try translator.translate(batch: [sketches[0], gradientImage(width: 8, height: 8)]))
    }
}
