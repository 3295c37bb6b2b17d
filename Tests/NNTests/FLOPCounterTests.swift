import NN
import Torch
import XCTest

/// FLOP counts of layers from their shapes, as the benchmark's FLOPs per step uses them.
final class FLOPCounterTests: XCTestCase {
    func testConvolutionForwardIsTwiceItsMultiplyAdds() {
        let conv = Conv2d(3, 8, kernelSize: 3, padding: 1)
        let x = Tensor.randn([2, 3, 10, 10])
        let counted = withNoGrad { FLOPCounter.count { conv(x) } }.flops
        // 2 images × 8 outputs × 10×10 positions × 3 inputs × 3×3 taps.
        XCTAssertEqual(counted, 2 * Double(2 * 8 * 100 * 3 * 9))
    }

    func testBackwardAddsOnePassPerGradientAutogradComputes() {
        let conv = Conv2d(3, 8, kernelSize: 3, padding: 1)
        let macs = Double(8 * 100 * 3 * 9)
        XCTAssertEqual(FLOPCounter.count { conv(Tensor.randn([1, 3, 10, 10])) }.flops, 2 * macs * 2, "weight gradient only")
        XCTAssertEqual(FLOPCounter.count { conv(Tensor.randn([1, 3, 10, 10]).requiringGrad()) }.flops, 2 * macs * 3)
        conv.freeze()
        XCTAssertEqual(FLOPCounter.count { conv(Tensor.randn([1, 3, 10, 10])) }.flops, 2 * macs, "nothing to differentiate")
    }

    func testTransposedConvolutionAndLinearAndNesting() {
        let up = ConvTranspose2d(4, 2, kernelSize: 3, stride: 2, padding: 1, outputPadding: 1)
        let linear = Linear(5, 7)
        let (_, outer) = withNoGrad {
            FLOPCounter.count {
                // Each input pixel scatters a 3×3 kernel into every output channel.
                let inner = FLOPCounter.count { up(Tensor.randn([1, 4, 6, 6])) }.flops
                XCTAssertEqual(inner, 2 * Double(4 * 36 * 2 * 9))
                _ = linear(Tensor.randn([3, 5]))
            }
        }
        XCTAssertEqual(outer, 2 * Double(4 * 36 * 2 * 9) + 2 * Double(3 * 5 * 7))
        XCTAssertEqual(withNoGrad { FLOPCounter.count { linear(Tensor.randn([3, 5])) } }.flops, 2 * 105, "the counter restarts")
    }
}
