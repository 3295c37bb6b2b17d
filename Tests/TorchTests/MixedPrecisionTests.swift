import Torch
import XCTest

/// Ops that run differently under bfloat16 autocast than libtorch would run them.
final class MixedPrecisionTests: XCTestCase {
    /// bfloat16 reflection padding (mirrored slices) moves the same values as libtorch's float32
    /// op, so the results are exactly equal, and so are the gradients (each a sum of at most
    /// three bfloat16-exact values of 1 here).
    func testBFloat16ReflectionPaddingEqualsLibtorchs() {
        Torch.manualSeed(1)
        let x = Tensor.randn([2, 3, 6, 5]).to(.bfloat16)
        for pad in [[1, 1, 1, 1], [3, 2, 0, 4], [4, 4, 5, 5], [0, 0, 0, 0]] {
            let a = x.detached().requiringGrad(), b = x.to(.float32).detached().requiringGrad()
            let ya = a.padded(pad, mode: .reflect), yb = b.padded(pad, mode: .reflect)
            XCTAssertEqual(ya.dtype, .bfloat16)
            XCTAssertEqual(ya.shape, yb.shape, "\(pad)")
            XCTAssertEqual((ya.to(.float32) - yb).abs().max().item(), 0, "\(pad)")
            ya.to(.float32).sum().backward()
            yb.sum().backward()
            XCTAssertEqual((a.grad!.to(.float32) - b.grad!).abs().max().item(), 0, "\(pad)")
        }
        // Too much padding for the size is libtorch's own error, not a crash.
        XCTAssertThrowsError(try withTorchErrors { x.padded([6, 6, 1, 1], mode: .reflect) })
    }

    /// Autocast is on only inside its scope, nests, and `.fp32` switches it off inside.
    func testAutocastScopes() {
        XCTAssertFalse(Torch.isAutocasting)
        let w = Tensor.randn([4, 3, 3, 3]), x = Tensor.randn([1, 3, 8, 8])
        let y = Torch.autocast(.bf16) { () -> Tensor in
            XCTAssertTrue(Torch.isAutocasting)
            let inner = Torch.autocast(.fp32) { x.conv2d(weight: w, padding: 1) }
            XCTAssertEqual(inner.dtype, .float32)
            XCTAssertTrue(Torch.isAutocasting)
            return x.conv2d(weight: w, padding: 1)
        }
        XCTAssertEqual(y.dtype, .bfloat16)
        XCTAssertFalse(Torch.isAutocasting)
        XCTAssertEqual(Torch.mixedPrecision(.bf16) { x.conv2d(weight: w, padding: 1) }.dtype, .float32)
    }
}
