import Foundation
import NN
import NumericalTolerance
import Torch
import XCTest

/// Each layer against the torch.nn layer with the same settings and weights: output, input
/// gradient, parameter gradients and the buffers after the pass (layers.safetensors).
final class LayerParityTests: XCTestCase {
    func testEveryLayerMatchesPyTorch() throws {
        let fixture = try Fixture("layers")
        XCTAssertGreaterThanOrEqual(fixture.cases.count, 30, "fixture lost its cases")
        for name in fixture.cases {
            try checkLayer(fixture, name)
        }
    }

    /// The settings that the brief of each case calls out, so that a regenerated fixture
    /// cannot silently drop them.
    func testFixtureCoversTheInterestingSettings() throws {
        let fixture = try Fixture("layers")
        func args(_ name: String) throws -> JSON { try fixture.json(name)["args"] }
        let grouped = try args("conv_rect_dilated_grouped_nobias")
        XCTAssertEqual(grouped["groups"].int, 2)
        XCTAssertEqual(grouped["dilation"].ints, [2, 1])
        XCTAssertEqual(grouped["stride"].ints, [2, 1])
        XCTAssertFalse(grouped["bias"].bool)
        XCTAssertEqual(try args("convT_outpad_grouped_nobias")["output_padding"].ints, [1, 1])
        XCTAssertEqual(try fixture.json("batchnorm_train")["mode"].string, "train")
        XCTAssertEqual(try fixture.json("batchnorm_eval")["mode"].string, "eval")
        XCTAssertEqual(try fixture.json("dropout_eval")["mode"].string, "eval")
        XCTAssertTrue(try args("instancenorm_affine")["affine"].bool)
        XCTAssertFalse(try args("instancenorm")["affine"].bool)
    }

    func checkLayer(_ fixture: Fixture, _ name: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let spec = try fixture.json(name)
        let layer = makeLayer(spec["layer"].string, spec["args"])
        layer.train(spec["mode"].string == "train")

        XCTAssertEqual(layer.stateDict().map(\.0), spec["state_names"].strings, "\(name): state-dict names", file: file, line: line)
        try layer.loadStateDict(fixture.tensors(prefix: "\(name).state."))

        let x = try fixture.tensor("\(name).input").clone().requiringGrad()
        let y = layer(x)
        // One layer: no sum in its forward or backward pass has more terms than its input and output hold.
        let k = ReductionLength.op([x, y])
        assertWithinRounding(y, try fixture.tensor("\(name).output"), reductionLength: k, "\(name): output", file: file, line: line)
        y.backward(gradient: try fixture.tensor("\(name).upstream"))
        let scale = RoundingTolerance.rms(Array(fixture.tensors(prefix: "\(name).grad.").values))
        assertWithinRounding(x.grad, try fixture.tensor("\(name).grad.input"), reductionLength: k, scale: scale,
                             "\(name): input gradient", file: file, line: line)

        let expectedGrads = fixture.tensors(prefix: "\(name).grad.").filter { $0.key != "input" }
        XCTAssertEqual(layer.namedParameters().map(\.0).sorted(), expectedGrads.keys.sorted(),
                       "\(name): parameters", file: file, line: line)
        for (param, p) in layer.namedParameters() {
            guard let expected = expectedGrads[param] else { continue }
            assertWithinRounding(p.grad, expected, reductionLength: k, scale: scale, "\(name): gradient of \(param)",
                                 file: file, line: line)
        }

        let expectedBuffers = fixture.tensors(prefix: "\(name).after.")
        XCTAssertEqual(layer.namedBuffers().map(\.0).sorted(), expectedBuffers.keys.sorted(), "\(name): buffers",
                       file: file, line: line)
        for (buffer, b) in layer.namedBuffers() {
            guard let expected = expectedBuffers[buffer] else { continue }
            if b.dtype.isFloatingPoint {
                assertWithinRounding(b, expected, reductionLength: k, "\(name): \(buffer) after the pass", file: file, line: line)
            } else {
                assertIdentical(b, expected, "\(name): \(buffer) after the pass", file: file, line: line)
            }
        }
    }

    /// A training-mode pass must move the running statistics; otherwise the parity check on
    /// buffers could pass with buffers that were never updated.
    func testBatchNormTrainingUpdatesRunningStatistics() throws {
        let fixture = try Fixture("layers")
        let before = fixture.tensors(prefix: "batchnorm_train.state.")
        let after = fixture.tensors(prefix: "batchnorm_train.after.")
        XCTAssertNotEqual(before["running_mean"]!.bytes(), after["running_mean"]!.bytes())
        XCTAssertNotEqual(before["running_var"]!.bytes(), after["running_var"]!.bytes())
        XCTAssertEqual(before["num_batches_tracked"]!.item() + 1, after["num_batches_tracked"]!.item())

        let eval = fixture.tensors(prefix: "batchnorm_eval.")
        XCTAssertEqual(eval["state.running_mean"]!.bytes(), eval["after.running_mean"]!.bytes())
        XCTAssertEqual(eval["state.num_batches_tracked"]!.item(), eval["after.num_batches_tracked"]!.item())
    }

    func testDropoutZeroesAndRescalesOnlyInTraining() {
        Torch.manualSeed(3)
        let dropout = Dropout(0.25)
        let x = Tensor.ones([64, 64])
        let y = dropout(x).toArray(Float.self)
        let zeros = y.filter { $0 == 0 }.count
        XCTAssertTrue(y.allSatisfy { $0 == 0 || Swift.abs($0 - 1 / 0.75) < 1e-6 }, "kept values are scaled by 1/(1-p)")
        XCTAssertEqual(Double(zeros) / Double(y.count), 0.25, accuracy: 0.03)
        dropout.eval()
        XCTAssertEqual(dropout(x).toArray(Float.self), x.toArray(Float.self))
    }

    // MARK: Spectral norm

    func testSpectralNormMatchesPyTorch() throws {
        let fixture = try Fixture("spectral")
        XCTAssertEqual(fixture.cases, ["sn_conv", "sn_linear"])
        for name in fixture.cases {
            let spec = try fixture.json(name)
            let layer = makeLayer(spec["layer"].string, spec["args"])
            let normalized = try XCTUnwrap(layer as? any SpectrallyNormalizable)
            XCTAssertEqual(layer.stateDict().map(\.0), ["weight", "bias"])
            normalized.applySpectralNorm(SpectralNorm(powerIterations: spec["n_power_iterations"].int))
            XCTAssertEqual(layer.stateDict().map(\.0), spec["state_names"].strings, "\(name): names")
            XCTAssertEqual(layer.namedParameters().map(\.0), ["bias", "weight_orig"], "\(name): parameter order")
            try layer.loadStateDict(fixture.tensors(prefix: "\(name).state."))

            let buffers = Dictionary(uniqueKeysWithValues: layer.namedBuffers())
            let x = try fixture.tensor("\(name).input").clone().requiringGrad()
            layer.train()
            let y = layer(x)
            // The power iteration's products and the layer's own sums, all bounded by the sizes of
            // the weight, the input and the output.
            let k = ReductionLength.op([x, y, layer.parameters()[0]])
            assertWithinRounding(y, try fixture.tensor("\(name).train.output"), reductionLength: k, "\(name): training output")
            assertWithinRounding(buffers["weight_u"], try fixture.tensor("\(name).train.weight_u"), reductionLength: k,
                                 "\(name): weight_u after the pass")
            assertWithinRounding(buffers["weight_v"], try fixture.tensor("\(name).train.weight_v"), reductionLength: k,
                                 "\(name): weight_v after the pass")
            XCTAssertNotEqual(buffers["weight_u"]!.bytes(), try fixture.tensor("\(name).state.weight_u").bytes(),
                              "\(name): power iteration should move u")

            y.backward(gradient: try fixture.tensor("\(name).upstream"))
            let scale = RoundingTolerance.rms(Array(fixture.tensors(prefix: "\(name).train.grad.").values))
            assertWithinRounding(x.grad, try fixture.tensor("\(name).train.grad.input"), reductionLength: k, scale: scale,
                                 "\(name): input gradient")
            for (param, p) in layer.namedParameters() {
                assertWithinRounding(p.grad, try fixture.tensor("\(name).train.grad.\(param)"), reductionLength: k, scale: scale,
                                     "\(name): gradient of \(param)")
            }

            layer.eval()
            let u = buffers["weight_u"]!.clone(), v = buffers["weight_v"]!.clone()
            let yEval = withNoGrad { layer(x) }
            assertWithinRounding(yEval, try fixture.tensor("\(name).eval.output"), reductionLength: k, "\(name): evaluation output")
            assertIdentical(buffers["weight_u"], u, "\(name): u in evaluation mode")
            assertIdentical(buffers["weight_v"], v, "\(name): v in evaluation mode")
        }
    }

    /// The power iteration must converge to the largest singular value, so that the
    /// normalised weight has spectral norm 1.
    func testSpectralNormConvergesToUnitSpectralNorm() {
        Torch.manualSeed(5)
        let layer = Linear(6, 4)
        layer.applySpectralNorm()
        for _ in 0 ..< 50 { _ = withNoGrad { layer(Tensor.zeros([1, 6])) } }
        let w = withNoGrad { layer.effectiveWeight() }
        // Largest singular value = √(largest eigenvalue of W Wᵀ), by power iteration on the 4×4 matrix.
        let gram = w.matmul(w.T)
        var vector = Tensor.ones([4])
        for _ in 0 ..< 200 { vector = gram.mv(vector) / gram.mv(vector).norm() }
        let sigma = gram.mv(vector).norm().item().squareRoot()
        XCTAssertEqual(sigma, 1, accuracy: 1e-4)
    }
}
