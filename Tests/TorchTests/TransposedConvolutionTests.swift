import CTorch
import Torch
import XCTest

/// The oneDNN transposed convolution (the input gradient of an ordinary convolution) against
/// libtorch's own transposed convolution: outputs and all three gradients.
final class TransposedConvolutionTests: XCTestCase {
    override func tearDown() { Torch.transposedConvolutionPath = .measure }

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

    /// The default path measures each new shape once and keeps its choice: a second call of the
    /// same shape measures nothing, a new shape (or thread count) is measured again, and the
    /// result is the same function whichever path won.
    func testMeasuresEachShapeOnceAndGivesTheSameResult() {
        Torch.transposedConvolutionPath = .measure
        Torch.forgetTransposedConvolutionChoices()
        let before = ct_measurements()
        let x = Tensor.randn([1, 8, 9, 9]), w = Tensor.randn([8, 4, 4, 4])
        let y1 = withNoGrad { x.convTranspose2d(weight: w, stride: 2, padding: 1) }
        let y2 = withNoGrad { x.convTranspose2d(weight: w, stride: 2, padding: 1) }
        XCTAssertEqual(ct_measurements() - before, 1)
        XCTAssertEqual(Torch.transposedConvolutionChoices.measured, 1)
        _ = withNoGrad { Tensor.randn([1, 8, 5, 5]).convTranspose2d(weight: w, stride: 2, padding: 1) }
        XCTAssertEqual(ct_measurements() - before, 2)
        XCTAssertEqual(y1.shape, [1, 4, 18, 18])
        Torch.transposedConvolutionPath = .im2col
        let reference = withNoGrad { x.convTranspose2d(weight: w, stride: 2, padding: 1) }
        // 8 inputs × 16 taps per output: sums of 128 products, compared at float32 rounding.
        let scale = Swift.max(1, reference.abs().max().item())
        XCTAssertLessThan((y1 - reference).abs().max().item() / scale, 1e-5)
        XCTAssertEqual((y1 - y2).abs().max().item(), 0)
    }

    /// Persisted choices are read back by the next process (here: after forgetting them), so
    /// that it takes the same path without measuring.
    func testPersistedChoicesAreReadBack() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("s2r-kernels-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer {
            Torch.persistTransposedConvolutionChoices(at: nil)
            try? FileManager.default.removeItem(atPath: folder)
        }
        Torch.transposedConvolutionPath = .measure
        Torch.forgetTransposedConvolutionChoices()
        XCTAssertEqual(Torch.persistTransposedConvolutionChoices(at: folder + "/choices.txt"), 0)
        let x = Tensor.randn([1, 6, 7, 7]), w = Tensor.randn([6, 3, 3, 3])
        _ = withNoGrad { x.convTranspose2d(weight: w, stride: 2, padding: 1, outputPadding: 1) }
        let text = try String(contentsOfFile: folder + "/choices.txt", encoding: .utf8)
        XCTAssertEqual(text.split(separator: "\n").count, 1, text)
        XCTAssertTrue(text.hasSuffix(" onednn\n") || text.hasSuffix(" im2col\n"), text)
        Torch.forgetTransposedConvolutionChoices()
        XCTAssertEqual(Torch.persistTransposedConvolutionChoices(at: folder + "/choices.txt"), 1)
        let before = ct_measurements()
        _ = withNoGrad { x.convTranspose2d(weight: w, stride: 2, padding: 1, outputPadding: 1) }
        XCTAssertEqual(ct_measurements(), before, "a known shape is not measured again")
    }

    func ct_measurements() -> Int { Int(CTorch.ct_transposed_convolution_measurements()) }

    /// Under bfloat16 autocast the oneDNN path runs in bfloat16 (PyTorch 1.13's autocast keeps
    /// transposed convolutions in float32) and gradients reach the float32 weights as float32.
    /// bfloat16 keeps 8 significant bits (unit roundoff 2⁻⁹); inputs and weights are rounded
    /// once each and the sum of 4·9 = 36 products is accumulated in float32, so the relative
    /// error is a few roundoffs: bounded here by 4 · 2⁻⁸ of the output's largest magnitude.
    func testRunsInBFloat16UnderAutocast() {
        for path in [Torch.TransposedConvolutionPath.oneDNN, .measure] {
            Torch.transposedConvolutionPath = path
            Torch.manualSeed(3)
            let x = Tensor.randn([2, 4, 6, 6]).requiringGrad()
            let w = Tensor.randn([4, 3, 3, 3]).requiringGrad()
            let b = Tensor.randn([3]).requiringGrad()
            let reference = withNoGrad { x.convTranspose2d(weight: w, bias: b, stride: 2, padding: 1, outputPadding: 1) }
            let y = Torch.autocast(.bf16) { x.convTranspose2d(weight: w, bias: b, stride: 2, padding: 1, outputPadding: 1) }
            if path == .oneDNN { XCTAssertEqual(y.dtype, .bfloat16) }
            let scale = reference.abs().max().item()
            XCTAssertLessThan((y.fullPrecision - reference).abs().max().item() / scale, 4.0 / 256, "\(path)")
            y.fullPrecision.sum().backward()
            XCTAssertEqual(w.grad?.dtype, .float32)
            XCTAssertEqual(x.grad?.dtype, .float32)
            XCTAssertEqual(b.grad?.dtype, .float32)
        }
    }
}
