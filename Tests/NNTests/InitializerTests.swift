import Foundation
import NN
import Torch
import XCTest

/// Initialisers against the numbers torch.nn.init uses (init.safetensors). Statistical
/// checks use tensors of ~300k elements, whose sample standard deviation is within 0.2%
/// of the true one; the 2% tolerance therefore fails only for a wrong formula.
final class InitializerTests: XCTestCase {
    func testFansMatchPyTorch() throws {
        let fans = try Fixture("init").json("fans")
        XCTAssertEqual(fans.keys, ["conv", "conv_grouped_rect", "convtranspose", "convtranspose_grouped", "linear"])
        for key in fans.keys {
            let expected = fans[key]
            let (fanIn, fanOut) = Init.fans(expected["shape"].ints)
            XCTAssertEqual(fanIn, expected["fan_in"].int, "\(key) fan-in")
            XCTAssertEqual(fanOut, expected["fan_out"].int, "\(key) fan-out")
        }
        // The layers' own weights have the shapes PyTorch gives them.
        XCTAssertEqual(Conv2d(3, 8, kernelSize: 4).weight.shape, fans["conv"]["shape"].ints)
        XCTAssertEqual(Conv2d(6, 4, kernelSize: Size2(3, 5), groups: 2).weight.shape, fans["conv_grouped_rect"]["shape"].ints)
        XCTAssertEqual(ConvTranspose2d(8, 3, kernelSize: 4).weight.shape, fans["convtranspose"]["shape"].ints)
        XCTAssertEqual(ConvTranspose2d(6, 4, kernelSize: 3, groups: 2).weight.shape, fans["convtranspose_grouped"]["shape"].ints)
        XCTAssertEqual(Linear(64, 5).weight.shape, fans["linear"]["shape"].ints)
    }

    func assertStd(_ t: Tensor, _ expected: Double, tolerance: Double = 0.02, _ what: String,
                   file: StaticString = #filePath, line: UInt = #line) {
        let std = t.std().item()
        XCTAssertEqual(std / expected, 1, accuracy: tolerance, "\(what): std \(std), expected \(expected)", file: file, line: line)
        // Mean within 5 standard errors of zero.
        XCTAssertLessThan(Swift.abs(t.mean().item()), 5 * expected / Double(t.count).squareRoot(), "\(what): mean",
                          file: file, line: line)
    }

    func testNormalXavierAndKaimingSpreads() throws {
        Torch.manualSeed(11)
        let stds = try Fixture("init").json("stds")
        let shape = stds["shape"].ints
        let t = Tensor.empty(shape)

        Init.normal(t, std: 0.02)
        assertStd(t, 0.02, "normal(0, 0.02)")
        Init.xavierNormal(t)
        assertStd(t, stds["xavier_gain1"].double, "xavier, gain 1")
        Init.xavierNormal(t, gain: 0.02)
        assertStd(t, stds["xavier_gain0.02"].double, "xavier, gain 0.02")
        Init.kaimingNormal(t)
        assertStd(t, stds["kaiming_fan_in"].double, "kaiming, fan-in")
        Init.kaimingNormal(t, a: 0.2, fanOut: true)
        assertStd(t, stds["kaiming_a0.2_fan_out"].double, "kaiming, a = 0.2, fan-out")

        Init.normal(t, mean: 1, std: 0.5)
        XCTAssertEqual(t.mean().item(), 1, accuracy: 0.01)
        Init.constant(t, 0.25)
        XCTAssertEqual(t.min().item(), 0.25)
        XCTAssertEqual(t.max().item(), 0.25)
    }

    /// Initialisers write in place without recording autograd history on trainable tensors.
    func testInitialisersWorkOnParameters() {
        let layer = Linear(30, 20)
        Init.kaimingNormal(layer.weight)
        XCTAssertTrue(layer.weight.requiresGrad)
        layer(Tensor.ones([1, 30])).sum().backward()
        XCTAssertNotNil(layer.weight.grad)
    }

    func testDefaultInitialisationBoundsMatchPyTorch() throws {
        Torch.manualSeed(12)
        let bounds = try Fixture("init").json("default_bounds")
        let layers: [(String, Tensor, Tensor)] = [
            { let l = makeLayer("Conv2d", bounds["conv"]["args"]) as! Conv2d; return ("conv", l.weight, l.bias!) }(),
            { let l = makeLayer("ConvTranspose2d", bounds["convtranspose"]["args"]) as! ConvTranspose2d
                return ("convtranspose", l.weight, l.bias!) }(),
            { let l = makeLayer("Linear", bounds["linear"]["args"]) as! Linear; return ("linear", l.weight, l.bias!) }(),
        ]
        for (key, weight, bias) in layers {
            let w = bounds[key]["weight"].double, b = bounds[key]["bias"].double
            let maxW = weight.abs().max().item()
            XCTAssertLessThanOrEqual(maxW, w * (1 + 1e-6), "\(key) weight within PyTorch's bound")
            XCTAssertGreaterThan(maxW, w * 0.99, "\(key) weight fills PyTorch's bound")
            assertStd(weight, w / 3.0.squareRoot(), "\(key) weight, uniform")
            XCTAssertLessThanOrEqual(bias.abs().max().item(), b * (1 + 1e-6), "\(key) bias within PyTorch's bound")
        }
    }

    final class Mixed: Module {
        let conv = Conv2d(64, 64, kernelSize: 3)
        let deconv = ConvTranspose2d(64, 32, kernelSize: 4, stride: 2, padding: 1)
        let norm = BatchNorm2d(4096)
        let instance = InstanceNorm2d(8, affine: true)
        let head = Linear(256, 128)
        override init() { super.init() }
    }

    func testInitializeWeightsNormal() {
        Torch.manualSeed(13)
        let m = Mixed()
        m.initializeWeights(.normal, gain: 0.02)
        assertStd(m.conv.weight, 0.02, "conv weight")
        assertStd(m.deconv.weight, 0.02, "deconv weight")
        assertStd(m.head.weight, 0.02, "linear weight")
        for bias in [m.conv.bias!, m.deconv.bias!, m.head.bias!, m.norm.bias!] {
            XCTAssertEqual(bias.abs().max().item(), 0)
        }
        // pix2pix: batch-norm scale ~ N(1, 0.02).
        XCTAssertEqual(m.norm.weight!.mean().item(), 1, accuracy: 0.002)
        XCTAssertEqual(m.norm.weight!.std().item(), 0.02, accuracy: 0.02 * 0.06)
        // Instance norm is not a batch norm: left at its construction values.
        XCTAssertEqual(m.instance.weight!.toArray(Float.self), Array(repeating: 1, count: 8))
        XCTAssertTrue(m.parameters().allSatisfy(\.requiresGrad))
    }

    func testInitializeWeightsXavierAndKaiming() {
        Torch.manualSeed(14)
        let m = Mixed()
        m.initializeWeights(.xavier, gain: 0.02)
        let (fi, fo) = Init.fans(m.conv.weight.shape)
        assertStd(m.conv.weight, 0.02 * (2 / Double(fi + fo)).squareRoot(), "xavier conv weight")
        XCTAssertEqual(m.conv.bias!.abs().max().item(), 0)

        m.initializeWeights(.kaiming)
        assertStd(m.conv.weight, (2 / Double(fi)).squareRoot(), "kaiming conv weight")
        let (hfi, _) = Init.fans(m.head.weight.shape)
        assertStd(m.head.weight, (2 / Double(hfi)).squareRoot(), "kaiming linear weight")
    }
}
