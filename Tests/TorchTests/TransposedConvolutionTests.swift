import Torch
import XCTest

/// The oneDNN transposed convolution (the input gradient of an ordinary convolution) against
/// libtorch's own transposed convolution: outputs and all three gradients.
final class TransposedConvolutionTests: XCTestCase {
    override func tearDown() { Torch.fastTransposedConvolution = true }

    struct Setting {
        var batch = 2, inChannels = 6, outChannels = 4, size = 7, kernel = 3
        var stride = 2, padding = 1, outputPadding = 1, groups = 1, dilation = 1, bias = true
    }

    func results(_ s: Setting, fast: Bool) -> [Tensor] {
        Torch.fastTransposedConvolution = fast
        Torch.manualSeed(5)
        let x = Tensor.randn([s.batch, s.inChannels, s.size, s.size]).requiringGrad()
        let w = Tensor.randn([s.inChannels, s.outChannels / s.groups, s.kernel, s.kernel]).requiringGrad()
        let b = s.bias ? Tensor.randn([s.outChannels]).requiringGrad() : nil
        let y = x.convTranspose2d(weight: w, bias: b, stride: Size2(s.stride), padding: Size2(s.padding),
                                  outputPadding: Size2(s.outputPadding), groups: s.groups, dilation: Size2(s.dilation))
        let upstream = Tensor.randn(y.shape)
        (y * upstream).sum().backward()
        return [y.detached(), x.grad!, w.grad!] + (b.map { [$0.grad!] } ?? [])
    }

    func testMatchesLibtorchsTransposedConvolution() {
        let settings = [
            Setting(),                                                        // SRAGAN's decoder: 3×3, stride 2, output padding 1
            Setting(kernel: 4, stride: 2, padding: 1, outputPadding: 0),      // the U-Nets' 4×4 stride-2 layers
            Setting(size: 1, kernel: 4, stride: 2, padding: 1, outputPadding: 0, bias: false),  // innermost, no bias
            Setting(inChannels: 6, outChannels: 4, stride: 1, padding: 0, outputPadding: 0, groups: 2),
            Setting(stride: 3, padding: 2, outputPadding: 1, dilation: 2),
        ]
        for (i, s) in settings.enumerated() {
            let fast = results(s, fast: true), slow = results(s, fast: false)
            XCTAssertEqual(fast.count, slow.count)
            for (j, (a, b)) in zip(fast, slow).enumerated() {
                XCTAssertEqual(a.shape, b.shape, "setting \(i), tensor \(j)")
                guard a.shape == b.shape else { continue }
                let scale = Swift.max(1, b.abs().max().item())
                XCTAssertLessThan((a - b).abs().max().item() / scale, 1e-5, "setting \(i), tensor \(j)")
            }
        }
    }

    func testRunsWithoutAutograd() {
        let x = Tensor.randn([1, 3, 5, 5]), w = Tensor.randn([3, 2, 3, 3])
        let y = withInferenceMode { x.convTranspose2d(weight: w, stride: 2, padding: 1, outputPadding: 1) }
        XCTAssertEqual(y.shape, [1, 2, 10, 10])
        XCTAssertFalse(y.requiresGrad)
    }
}
