import Foundation
import NN
import Torch
import XCTest
@testable import Sketch2Real

/// The multimodal networks against the PyTorch definitions in reference/ (sragan.py,
/// multimodal.py), on Fixtures/models/multimodal.safetensors written by
/// Tests/Fixtures/make_multimodal_fixtures.py: LSRAGAN's generator with a code, the encoder E
/// and the U-Net with a code at every level or at the input.
final class MultimodalParityTests: XCTestCase {
    static let cases = [
        "lsragan_every_stage_layer", "lsragan_input_layer_resize", "encoder_instance", "encoder_batch_three_blocks",
        "unet_all_instance", "unet_input_batch", "lsragan_modulated_instance", "lsragan_demodulated",
        "lsragan_demodulated_code_at_input", "lsragan_demodulated_residual_gain", "lsragan_layer_residual_gain",
        "lsragan_demodulated_noise", "lsragan_layer_noise",
    ]

    struct Network {
        let module: Module
        let info: CaseInfo<IgnoredConfig>
        let lattice: Bool
        /// Generators give [image], the encoder [μ, log σ²].
        let forward: (Tensor, Tensor?) -> [Tensor]
        var isEncoder: Bool { info.model == "encoder" }
    }

    struct LatticeFlag: Decodable { let lattice: Bool? }

    func network(_ fixture: ModelFixture, _ name: String) throws -> Network {
        let kind = try fixture.info(name, config: IgnoredConfig.self)
        let lattice = try JSONDecoder().decode(LatticeFlag.self, from: Data(fixture.file.metadata[name]!.utf8)).lattice ?? false
        switch kind.model {
        case "lsragan":
            let info = try fixture.info(name, config: SRAGANConfig.self)
            let g = try SRAGANGenerator(info.config)
            try checkNames(g, info, name)
            // Noise inputs take the fixture's maps, as the reference was given them.
            let noise = info.config.noiseInputs ? try g.noise.indices.map { try fixture.tensor("\(name).noise.\($0)") } : nil
            return Network(module: g, info: CaseInfo(info), lattice: lattice, forward: { [g($0, z: $1, noise: noise)] })
        case "encoder":
            let info = try fixture.info(name, config: LatentEncoderConfig.self)
            let e = try LatentEncoder(info.config)
            try checkNames(e, info, name)
            return Network(module: e, info: CaseInfo(info), lattice: lattice, forward: { x, _ in
                let (mu, logVariance) = e(x)
                return [mu, logVariance]
            })
        case "unet":
            let info = try fixture.info(name, config: LatentUNetConfig.self)
            let g = try LatentUNetGenerator(info.config)
            try checkNames(g, info, name)
            return Network(module: g, info: CaseInfo(info), lattice: lattice, forward: { [g($0, z: $1!)] })
        default:
            throw TorchError("unknown multimodal fixture model \(kind.model)")
        }
    }

    func testFixtureHoldsEveryCase() throws {
        XCTAssertEqual(try ModelFixture("multimodal").cases, Self.cases.sorted())
    }

    func testOutputsMatchPyTorchInBothModes() throws {
        let fixture = try ModelFixture("multimodal")
        var report = Worst()
        for name in Self.cases {
            let net = try network(fixture, name)
            let state = try fixture.state(name)
            let x = try fixture.tensor("\(name).input")
            let z = net.isEncoder ? nil : try fixture.tensor("\(name).z")
            let k = reductionLength(net.module, x)
            for mode in try XCTUnwrap(net.info.modes) {
                try net.module.loadStateDict(state)
                net.module.train(mode == "train")
                let outs = withNoGrad { net.forward(x, z) }
                let reference = (net.info.storedModes ?? []).contains(mode) ? mode : "eval"
                if net.isEncoder {
                    for (i, part) in ["mu", "logvar"].enumerated() {
                        let key = "\(name).\(reference).\(part)"
                        report.note("encoders", compare(outs[i], try fixture.tensor(key), slack: 0, reductionLength: k,
                                                                "\(name) \(mode) \(part)"))
                    }
                } else {
                    var out = outs[0]
                    if net.lattice { out = out.slice(dim: 2, start: 1, step: 3).slice(dim: 3, start: 2, step: 3) }
                    let key = "\(name).\(reference)"
                    report.note("generators", compare(out, try fixture.tensor(key), slack: fixture.step(key), reductionLength: k,
                                                              "\(name) \(mode)"))
                    XCTAssertGreaterThan(maxAbsDifference(outs[0].select(dim: 0, index: 0), outs[0].select(dim: 0, index: 1)), 1e-2,
                                         "\(name): two codes give the same image")
                }
                if mode == "train" {
                    try checkBuffers(net.module, fixture, prefix: "\(name).train.after.", reductionLength: k, "\(name) train")
                }
            }
        }
        report.print("multimodal outputs, as shares of the rounding allowance (images stored to ±3.1e-5)")
    }

    func testGradientsMatchPyTorch() throws {
        let fixture = try ModelFixture("multimodal")
        var report = Worst()
        var checked = Set<String>()
        for name in Self.cases {
            let net = try network(fixture, name)
            guard net.info.gradient == true else { continue }
            checked.insert(net.info.model)
            try net.module.loadStateDict(try fixture.state(name))
            net.module.train()
            net.module.zeroGrad()
            let x = try fixture.tensor("\(name).input").clone().requiringGrad()
            let z = net.isEncoder ? nil : try fixture.tensor("\(name).z").clone().requiringGrad()
            let outs = net.forward(x, z)
            let loss = try net.isEncoder
                ? (outs[0] * fixture.tensor("\(name).grad.upstream.mu")).sum() + (outs[1] * fixture.tensor("\(name).grad.upstream.logvar")).sum()
                : (outs[0] * fixture.tensor("\(name).grad.upstream")).sum()
            loss.backward()
            let kb = reductionLength(net.module, x, backward: true), scale = try fixture.gradientScale(name)
            report.note("d/dx", compareGradient(x.grad, try fixture.tensor("\(name).grad.x"), reductionLength: kb, scale: scale, "\(name) d/dx"))
            if let z { report.note("d/dz", compareGradient(z.grad, try fixture.tensor("\(name).grad.dz"), reductionLength: kb, scale: scale, "\(name) d/dz")) }
            for (param, p) in net.module.namedParameters() {
                report.note("parameters", compareGradient(p.grad, try fixture.tensor("\(name).grad.param.\(param)"), reductionLength: kb, scale: scale,
                                                          "\(name) d/d\(param)"))
            }
        }
        XCTAssertEqual(checked, ["lsragan", "encoder", "unet"], "every network has a gradient case")
        report.print("multimodal gradients, as shares of the rounding allowance")
    }
}
