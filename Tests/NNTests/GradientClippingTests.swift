import NN
import Torch
import XCTest

/// `clipGradientNorm` against `torch.nn.utils.clip_grad_norm_`'s rule, on gradients whose joint
/// norm is exact in float32: (3, 4) and (12) have norm 13.
final class GradientClippingTests: XCTestCase {
    func parameters() -> (a: Tensor, b: Tensor, none: Tensor) {
        let a = Tensor([Float(0), 0]).requiringGrad(), b = Tensor([Float(0)]).requiringGrad()
        a.grad = Tensor([Float(3), 4])
        b.grad = Tensor([Float(12)])
        return (a, b, Tensor([Float(1)]).requiringGrad())
    }

    func testScalesEveryGradientByTheSameFactorWhenTheNormIsTooLarge() {
        let (a, b, none) = parameters()
        XCTAssertEqual(clipGradientNorm([a, none, b], maxNorm: 6.5), 13)
        // Factor 6.5 / (13 + 1e-6); the float32 factor and product each round by ≤ 2⁻²⁴.
        let factor = 6.5 / (13 + 1e-6)
        for (got, want) in zip(a.grad!.toArray(Float.self) + b.grad!.toArray(Float.self), [3, 4, 12].map { $0 * factor }) {
            XCTAssertEqual(Double(got), want, accuracy: want * 2e-7)
        }
        XCTAssertNil(none.grad, "a parameter without a gradient keeps none")
        XCTAssertEqual(Tensor.stack([a.grad!.norm(), b.grad!.norm()]).norm().item(), 6.5, accuracy: 6.5 * 1e-6)
    }

    func testLeavesGradientsBelowTheBoundUntouched() {
        let (a, b, _) = parameters()
        XCTAssertEqual(clipGradientNorm([a, b], maxNorm: 13.5), 13)
        XCTAssertEqual(a.grad!.toArray(Float.self), [3, 4])
        XCTAssertEqual(b.grad!.toArray(Float.self), [12])
        XCTAssertEqual(clipGradientNorm([Tensor([Float(1)]).requiringGrad()], maxNorm: 1), 0, "no gradients: norm 0")
    }
}
