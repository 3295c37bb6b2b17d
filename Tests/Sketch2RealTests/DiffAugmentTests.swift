import Foundation
import Torch
import XCTest
@testable import Sketch2Real

final class DiffAugmentTests: XCTestCase {
    /// One draw per call, applied alike to every tensor given: sketch/image pairs and the real
    /// and generated inputs of feature matching stay aligned.
    func testOneDrawCoversEveryInputAndTheSeedFixesIt() {
        let a = Tensor.rand([3, 4, 16, 16])
        Torch.manualSeed(9)
        let both = DiffAugment()([a, a.clone()])
        XCTAssertEqual(both[0].shape, [3, 4, 16, 16])
        XCTAssertEqual((both[0] - both[1]).abs().max().item(), 0)
        Torch.manualSeed(9)
        let again = DiffAugment()(a)
        XCTAssertEqual((again - both[0]).abs().max().item(), 0, "the global generator's seed fixes the draw")
        XCTAssertGreaterThan((again - a).abs().mean().item(), 0.01, "the input was transformed")
    }

    /// Translation moves the image by at most 1/8 of each side and fills with zeros: a constant
    /// image keeps at least (1 − 1/8)² of its pixels, and the zeros form whole rows or columns.
    func testTranslationShiftsWithinItsRatio() {
        let ones = Tensor.ones([8, 1, 32, 32])
        Torch.manualSeed(3)
        let y = DiffAugment(kinds: [.translation])(ones)
        let kept = y.sum(dims: [1, 2, 3]).toArray(Float.self)
        var shifted = 0
        for k in kept {
            XCTAssertGreaterThanOrEqual(k, 28 * 28, "at most 4 rows and 4 columns leave")
            XCTAssertLessThanOrEqual(k, 32 * 32)
            if k < 32 * 32 { shifted += 1 }
        }
        XCTAssertGreaterThan(shifted, 0, "some of 8 examples moved")
        // Every row is all ones or all zeros, since the shift is whole pixels.
        let rows = y.sum(dims: [3]).toArray(Float.self)
        XCTAssertTrue(rows.allSatisfy { $0 == 0 || $0 >= 28 }, "\(rows.filter { $0 != 0 && $0 < 28 })")
    }

    /// Cutout zeroes one square of half the side (a quarter of the area), clipped at the edges.
    func testCutoutZeroesAtMostAQuarter() {
        let ones = Tensor.ones([16, 2, 20, 20])
        Torch.manualSeed(4)
        let y = DiffAugment(kinds: [.cutout])(ones)
        for (i, kept) in y.mean(dims: [1, 2, 3]).toArray(Float.self).enumerated() {
            XCTAssertGreaterThanOrEqual(kept, 0.75 - 1e-6, "example \(i)")
            XCTAssertLessThanOrEqual(kept, 1 - 25.0 / 400 + 1e-6, "example \(i): at least a 5×5 corner of the square is inside")
        }
        XCTAssertEqual((y.narrow(dim: 1, start: 0, length: 1) - y.narrow(dim: 1, start: 1, length: 1)).abs().max().item(), 0,
                       "every channel loses the same square")
    }

    /// Colour transforms are affine per example, so gradients reach the input, finite.
    func testGradientsPassThroughEveryTransform() {
        let x = Tensor.rand([2, 3, 16, 16]).requiringGrad()
        Torch.manualSeed(5)
        let y = DiffAugment()(x)
        (y * y).sum().backward()
        let g = x.grad!
        XCTAssertEqual(g.shape, x.shape)
        XCTAssertTrue(g.toArray(Float.self).allSatisfy(\.isFinite))
        XCTAssertGreaterThan(g.abs().sum().item(), 0)
    }

    func testParsingAndConfigRoundTrip() throws {
        XCTAssertNil(try DiffAugment.parse("none"))
        XCTAssertEqual(try DiffAugment.parse("cutout, color")?.kinds, [.color, .cutout])
        XCTAssertThrowsError(try DiffAugment.parse("colour")) { error in
            XCTAssertEqual("\(error)", "--augment: unknown augmentation 'colour' (use color, translation, cutout, none or auto)")
        }
        var c = TrainingConfig.defaults(for: .sragan, size: 64)
        c.augment = DiffAugment(kinds: [.translation, .color])
        let back = try TrainingConfig.from(json: try c.json())
        XCTAssertEqual(back.augment, c.augment)
        var none = c
        none.augment = nil
        XCTAssertNil(try TrainingConfig.from(json: try none.json()).augment)
    }
}
