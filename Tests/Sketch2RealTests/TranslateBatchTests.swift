import Foundation
import NumericalTolerance
import Torch
import XCTest
@testable import Sketch2Real

/// `translate --batch-size` batches consecutive sketches of one size; the images are those of
/// translating one at a time.
final class TranslateBatchTests: XCTestCase {
    /// In float32 a batch changes only float32 rounding, so a pixel may cross one 8-bit step.
    /// `translate` runs at `--precision auto`, which is bfloat16 on processors with native bf16
    /// (the Xeon and Zen 4 of docs/TESTING.md) and float32 elsewhere, so the 8-bit bound is
    /// checked at a pinned `--precision fp32`: at auto, batched bf16 kernels round differently
    /// from single ones by up to a few steps, and which steps varied between runs.
    func testBatchedTranslationsMatchSingleOnes() throws {
        let (root, _) = try translateOneByOneAndInBatches(precision: "fp32")
        for i in 0 ..< 5 {
            let a = try Image.load(path: "\(root)/one/s\(i).png"), b = try Image.load(path: "\(root)/four/s\(i).png")
            XCTAssertEqual(a.pixels.shape, b.pixels.shape)
            // 8-bit files: float rounding in a batched convolution may move a value across one step.
            XCTAssertLessThanOrEqual(maxAbsDifference(a.pixels, b.pixels), 1.0 / 255 + 1e-6, "s\(i)")
        }
    }

    /// In bfloat16 (which every processor runs, natively or emulated) a batch's images lie
    /// within bfloat16's rounding of the single ones, by the rule of PrecisionTests: three
    /// roundings per layer that rounds (weights of rank 2 or more) along the network, on both
    /// sides, in the network's [-1, 1] output, plus one 8-bit step per file (2/255 in [-1, 1]);
    /// per pixel with λ = 10 (`RoundingTolerance`) and on average with three standard deviations.
    /// Those bounds are wide for a 28-layer network, so each batched image must also be far
    /// nearer its own single translation than any other sketch's: a batch that mixed up or
    /// dropped images fails there.
    func testBatchedTranslationsInBFloat16StayWithinItsRounding() throws {
        let (root, model) = try translateOneByOneAndInBatches(precision: "bf16")
        let (generator, _) = try GeneratorFile.load(model)
        let layers = generator.namedParameters().filter { $0.1.shape.count >= 2 }.count
        let tolerance = RoundingTolerance(.bfloat16, reductionLength: 3 * layers)
        func outputs(_ folder: String) throws -> [[Double]] {
            try (0 ..< 5).map { (try Image.load(path: "\(root)/\(folder)/s\($0).png").pixels * 2.0 - 1.0).toArray(Double.self) }
        }
        func meanDifference(_ a: [Double], _ b: [Double]) -> Double { zip(a, b).map { abs($0 - $1) }.reduce(0, +) / Double(a.count) }
        let ones = try outputs("one"), fours = try outputs("four")
        for i in 0 ..< 5 {
            let (ya, yb) = (ones[i], fours[i])
            XCTAssertEqual(ya.count, yb.count, "s\(i)")
            let rms = RoundingTolerance.rms(ya)
            var worst = 0.0
            for (x, y) in zip(yb, ya) {
                worst = max(worst, abs(x - y) / (tolerance.bound(expected: y, rms: rms) + 2.0 / 255))
            }
            let mean = meanDifference(yb, ya)
            let meanBound = tolerance.meanRelativeError * (ya.map(abs).reduce(0, +) / Double(ya.count) + rms) + 2.0 / 255
            let nearestOther = (0 ..< 5).filter { $0 != i && ones[$0].count == yb.count }.map { meanDifference(yb, ones[$0]) }.min() ?? .infinity
            print(String(format: "batched against single bfloat16 translation, s%d (%d layers): largest pixel at %.3f of its bound, mean |difference| %.3g (bound %.3g; nearest other sketch's image %.3g)",
                         i, layers, worst, mean, meanBound, nearestOther))
            XCTAssertLessThanOrEqual(worst, 1, "s\(i): a batched bfloat16 pixel differs beyond \(tolerance) plus one 8-bit step")
            XCTAssertLessThan(mean, meanBound, "s\(i)")
            XCTAssertLessThan(mean, nearestOther / 10, "s\(i): the batched image is its own sketch's")
        }
    }

    /// Five sketches: three of one size, then one of another, then one of the first size again,
    /// so that `--batch-size 4` makes a batch of three and two batches of one. `translate` writes
    /// them one by one into ROOT/one and in batches into ROOT/four, at `precision`; both runs
    /// must succeed and translate all five.
    func translateOneByOneAndInBatches(precision: String) throws -> (root: String, model: String) {
        let root = makeTemporaryFolder(self)
        try FileManager.default.createDirectory(atPath: root + "/in", withIntermediateDirectories: true)
        for (i, (w, h)) in [(48, 32), (48, 32), (48, 32), (40, 40), (48, 32)].enumerated() {
            try gradientImage(width: w, height: h, phase: Float(i) * 0.2).save(path: "\(root)/in/s\(i).png")
        }
        let model = try BundledModels.path(BundledModels.translation)
        for (folder, batch) in [("one", "1"), ("four", "4")] {
            let run = try runProgram(["translate", "--model", model, root + "/in", "--out", "\(root)/\(folder)", "--batch-size", batch, "--precision", precision])
            XCTAssertEqual(run.status, 0, run.error)
            XCTAssertTrue(run.output.contains("translated 5 of 5 sketches"), run.output)
        }
        return (root, model)
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
