import Foundation
import NN
import NumericalTolerance
import Torch
import XCTest
@testable import Sketch2Real

/// The Swift models against the PyTorch definitions in reference/, on fixtures written by
/// Tests/Fixtures/make_model_fixtures.py (see its docstring for the file layout).
final class ModelParityTests: XCTestCase {
    static let generatorCases = [
        "sragan_dense_transposed_instance", "sragan_sparse_resize_batch_latent", "sragan_dropout_noshortcut_batch",
        "sragan_noattention_resize_none_latent", "pix2pix_unet128_batch", "pix2pix_unet256_batch_dropout",
        "pix2pix_resnet6_instance",
    ]
    static let discriminatorCases = [
        "d_single_instance", "d_two_scales_batch_spectral", "d_single_spectral_instance", "d_two_scales_instance",
    ]
    static let blockCases = ["cbam", "block_batch_attention", "block_instance_attention"]

    func testFixturesHoldEveryExpectedCase() throws {
        for (file, cases) in [("generators", Self.generatorCases), ("discriminators", Self.discriminatorCases),
                              ("blocks", Self.blockCases)] {
            let fixture = try ModelFixture(file)
            XCTAssertEqual(fixture.cases, cases.sorted(), "cases in \(file).safetensors")
        }
    }

    // MARK: Generators

    func testGeneratorsMatchPyTorchInBothModesAt128And256() throws {
        let fixture = try ModelFixture("generators")
        var report = Worst()
        var covered = Set<String>()
        for name in Self.generatorCases {
            let c = try fixture.generatorCase(name)
            let sizes = try XCTUnwrap(c.info.sizes, name), modes = try XCTUnwrap(c.info.modes, name)
            let state = try fixture.state(name)
            let network = try c.build()
            try checkNames(network.module, c.info, name)
            let z = c.latent > 0 ? try fixture.tensor("\(name).z") : nil
            for size in sizes {
                let x = try fixture.tensor("input.\(size)")
                let k = reductionLength(network.module, x)
                for mode in modes {
                    covered.insert("\(c.info.model) \(mode) \(size)")
                    try network.module.loadStateDict(state)
                    network.module.train(mode == "train")
                    let out = withNoGrad { network.forward(x, z) }
                    let reference = (c.info.storedModes ?? []).contains(mode) ? mode : "eval"
                    let what = "\(name) \(mode) \(size)²"
                    if size == 128 {
                        let expected = try fixture.tensor("\(name).\(reference).128")
                        report.note(what, compare(out, expected, slack: fixture.step("\(name).\(reference).128"), reductionLength: k, what))
                    } else {
                        let key = "\(name).\(reference).\(size).lattice"
                        let lattice = out.slice(dim: 2, start: 1, step: 3).slice(dim: 3, start: 2, step: 3)
                        report.note(what, compare(lattice, try fixture.tensor(key), slack: fixture.step(key), reductionLength: k,
                                                  what + " lattice"))
                        // Every element within r·(|e| + rms) moves the mean by at most 2r·rms and the
                        // mean square by at most 2r·(mean|e|² + rms·mean|e|) ≤ 4r·rms².
                        let stats = try fixture.tensor("\(name).\(reference).\(size).stats").toArray(Double.self)
                        let r = 2 * RoundingTolerance(reductionLength: k).relativeError, rms = stats[1].squareRoot()
                        let wide = out.to(.float64)
                        XCTAssertEqual(wide.mean().item(), stats[0], accuracy: 2 * r * rms, "\(what): mean")
                        XCTAssertEqual(wide.square().mean().item(), stats[1], accuracy: 4 * r * stats[1], "\(what): mean square")
                    }
                    if mode == "train" {
                        try checkBuffers(network.module, fixture, prefix: "\(name).train.\(size).after.", reductionLength: k, what)
                    }
                }
            }
            if c.info.batch2 == true {
                let x = try fixture.tensor("\(name).batch2.input"), zb = try fixture.tensor("\(name).batch2.z")
                let k = reductionLength(network.module, x)
                for mode in modes {
                    try network.module.loadStateDict(state)
                    network.module.train(mode == "train")
                    let out = withNoGrad { network.forward(x, zb) }
                    let key = "\(name).batch2.\((c.info.storedModes ?? []).contains(mode) ? mode : "eval")"
                    report.note("\(name) batch of 2 \(mode)", compare(out, try fixture.tensor(key), slack: fixture.step(key),
                                                                          reductionLength: k, "\(name) batch of 2, \(mode)"))
                }
            }
        }
        for model in ["sragan", "pix2pix"] {
            for mode in ["eval", "train"] {
                for size in [128, 256] {
                    XCTAssertTrue(covered.contains("\(model) \(mode) \(size)"), "no \(model) case in \(mode) mode at \(size)²")
                }
            }
        }
        report.print("generator outputs, as shares of the rounding allowance (references stored to ±3.1e-5)")
    }

    func testGeneratorGradientsMatchPyTorch() throws {
        let fixture = try ModelFixture("generators")
        var report = Worst()
        var checked = 0
        for name in Self.generatorCases {
            let c = try fixture.generatorCase(name)
            guard c.info.gradient == true else { continue }
            checked += 1
            let network = try c.build()
            try network.module.loadStateDict(try fixture.state(name))
            network.module.train()
            network.module.zeroGrad()
            let x = try fixture.tensor("\(name).grad.input").clone().requiringGrad()
            let z = c.latent > 0 ? try fixture.tensor("\(name).grad.z").clone().requiringGrad() : nil
            let out = network.forward(x, z)
            let (k, kb) = (reductionLength(network.module, x), reductionLength(network.module, x, backward: true))
            let scale = try fixture.gradientScale(name)
            report.note("output", compare(out, try fixture.tensor("\(name).grad.output"),
                                              slack: fixture.step("\(name).grad.output"), reductionLength: k, "\(name) gradient-pass output"))
            let upstream = try fixture.tensor("\(name).grad.upstream")
            (out * upstream).sum().backward()
            report.note("d/dx", compareGradient(x.grad, try fixture.tensor("\(name).grad.x"), reductionLength: kb, scale: scale, "\(name) d/dx"))
            if let z {
                report.note("d/dz", compareGradient(z.grad, try fixture.tensor("\(name).grad.dz"), reductionLength: kb, scale: scale, "\(name) d/dz"))
            }
            for (param, p) in network.module.namedParameters() {
                report.note("parameters", compareGradient(p.grad, try fixture.tensor("\(name).grad.param.\(param)"),
                                                              reductionLength: kb, scale: scale, "\(name) d/d\(param)"))
            }
        }
        XCTAssertGreaterThan(checked, 0, "no generator case holds gradients")
        report.print("generator gradients, as shares of the rounding allowance")
    }

    // MARK: Discriminators

    func testDiscriminatorsMatchPyTorchIncludingSpectralNormVectors() throws {
        let fixture = try ModelFixture("discriminators")
        let x = try fixture.tensor("input")
        var report = Worst()
        for name in Self.discriminatorCases {
            let info = try fixture.info(name, config: DiscriminatorConfig.self)
            let d = try MultiScaleDiscriminator(info.config)
            try checkNames(d, info, name)
            let state = try fixture.state(name)
            let k = reductionLength(d, x)
            for mode in ["eval", "train"] {
                try d.loadStateDict(state)
                d.train(mode == "train")
                let outs = withNoGrad { d(x) }
                XCTAssertEqual(outs.count, info.config.scales, "\(name): one map per scale")
                for (scale, out) in outs.enumerated() {
                    report.note("\(name) \(mode)", compare(out, try fixture.tensor("\(name).\(mode).\(scale)"), slack: 0,
                                                               reductionLength: k, "\(name) \(mode) scale \(scale)"))
                }
                if mode == "train" {
                    try checkBuffers(d, fixture, prefix: "\(name).train.after.", reductionLength: k, "\(name) train")
                    if info.config.spectralNorm {
                        XCTAssertTrue(d.namedBuffers().contains { $0.0.hasSuffix("weight_u") },
                                      "\(name): no power-iteration vectors")
                    }
                }
            }
        }
        report.print("discriminator outputs")
    }

    func testDiscriminatorGradientsMatchPyTorch() throws {
        let fixture = try ModelFixture("discriminators")
        var report = Worst()
        var checked = 0
        for name in Self.discriminatorCases {
            let info = try fixture.info(name, config: DiscriminatorConfig.self)
            guard info.gradient == true else { continue }
            checked += 1
            let d = try MultiScaleDiscriminator(info.config)
            try d.loadStateDict(try fixture.state(name))
            d.train()
            d.zeroGrad()
            let x = try fixture.tensor("input").narrow(dim: 0, start: 0, length: 1).clone().requiringGrad()
            let outs = d(x)
            var loss = Tensor.zeros([])
            for (k, out) in outs.enumerated() {
                let upstream = try fixture.tensor("\(name).grad.upstream.\(k)")
                loss = loss + (out * upstream).sum()
            }
            loss.backward()
            let kb = reductionLength(d, x, backward: true), scale = try fixture.gradientScale(name)
            report.note("d/dx", compareGradient(x.grad, try fixture.tensor("\(name).grad.x"), reductionLength: kb, scale: scale, "\(name) d/dx"))
            for (param, p) in d.namedParameters() {
                report.note("parameters", compareGradient(p.grad, try fixture.tensor("\(name).grad.param.\(param)"),
                                                              reductionLength: kb, scale: scale, "\(name) d/d\(param)"))
            }
        }
        XCTAssertGreaterThan(checked, 0, "no discriminator case holds gradients")
        report.print("discriminator gradients")
    }

    // MARK: Attention and residual blocks

    func testCBAMAndAttentionResidualBlocksMatchPyTorch() throws {
        let fixture = try ModelFixture("blocks")
        let x = try fixture.tensor("input")
        var report = Worst()
        for name in Self.blockCases {
            let info = try fixture.info(name, config: BlockConfig.self)
            let a = info.config
            let module: Module & UnaryLayer = info.model == "cbam"
                ? CBAM(channels: a.channels, reduction: a.reduction)
                : AttentionResidualBlock(channels: a.channels, norm: a.norm ?? .instance, dropout: a.dropout ?? false,
                                         attention: a.attention ?? false, reduction: a.reduction)
            try checkNames(module, info, name)
            let state = try fixture.state(name)
            let (k, kb) = (reductionLength(module, x), reductionLength(module, x, backward: true))
            let scale = try fixture.gradientScale(name)
            for mode in ["eval", "train"] {
                try module.loadStateDict(state)
                module.train(mode == "train")
                let out = withNoGrad { module(x) }
                report.note("\(name) outputs", compare(out, try fixture.tensor("\(name).\(mode)"), slack: 0, reductionLength: k,
                                                         "\(name) \(mode)"))
                if mode == "train" { try checkBuffers(module, fixture, prefix: "\(name).train.after.", reductionLength: k, "\(name) train") }
            }
            try module.loadStateDict(state)
            module.train()
            module.zeroGrad()
            let xg = x.clone().requiringGrad()
            let upstream = try fixture.tensor("\(name).grad.upstream")
            (module(xg) * upstream).sum().backward()
            report.note("\(name) gradients", compareGradient(xg.grad, try fixture.tensor("\(name).grad.x"), reductionLength: kb, scale: scale,
                                                                 "\(name) d/dx"))
            for (param, p) in module.namedParameters() {
                report.note("\(name) gradients", compareGradient(p.grad, try fixture.tensor("\(name).grad.param.\(param)"),
                                                                     reductionLength: kb, scale: scale, "\(name) d/d\(param)"))
            }
        }
        report.print("blocks")
    }

    // MARK: Gradient flow

    /// One combined step — D loss on real and detached fake pairs, G loss (adversarial + L1)
    /// through D — must reach every parameter of both networks.
    func testOneTrainingStepGivesEveryParameterAGradient() throws {
        Torch.manualSeed(2024)
        var gc = SRAGANConfig()
        // The channel gate's hidden layer has ngf·4/16 units. Its average-pooled input is zero
        // after instance norm, so only the max-pooled path trains the first MLP layer; with
        // two hidden units (ngf 8) all of them are often dead there and that layer gets no gradient.
        gc.ngf = 32
        gc.blocks = 4
        var plain = DiscriminatorConfig()
        plain.ndf = 8
        var rich = plain
        rich.scales = 2
        rich.spectralNorm = true
        rich.norm = .batch
        for dc in [plain, rich] {
            let g = try SRAGANGenerator(gc)
            let d = try MultiScaleDiscriminator(dc)
            g.train()
            d.train()
            let x = Tensor.rand([2, 1, 64, 64]) * 2 - 1
            let y = Tensor.rand([2, 3, 64, 64]) * 2 - 1
            let fake = g(x)
            func adversarial(_ maps: [Tensor], real: Bool) -> Tensor {
                maps.map { $0.bceWithLogits(real ? Tensor.ones($0.shape) : Tensor.zeros($0.shape)) }.reduce(Tensor.zeros([]), +)
            }
            let lossD = 0.5 * (adversarial(d(Tensor.cat([x, y], dim: 1)), real: true)
                + adversarial(d(Tensor.cat([x, fake.detached()], dim: 1)), real: false))
            let lossG = adversarial(d(Tensor.cat([x, fake], dim: 1)), real: true) + 100.0 * fake.l1Loss(y)
            (lossD + lossG).backward()

            var missing: [String] = []
            var negligible: [String] = []
            for (net, module) in [("G", g as Module), ("D", d as Module)] {
                let params = module.namedParameters()
                let norms = params.map { $0.1.grad.map { $0.norm().item() } }
                let largest = norms.compactMap { $0 }.max() ?? 0
                for ((param, _), norm) in zip(params, norms) {
                    guard let norm, norm > 0 else {
                        missing.append("\(net).\(param)")
                        continue
                    }
                    if norm < 1e-7 * largest { negligible.append("\(net).\(param)") }
                }
            }
            XCTAssertEqual(missing, [], "parameters without a gradient (D scales \(dc.scales), spectral norm \(dc.spectralNorm))")
            // A convolution bias right before a mean-subtracting instance norm is cancelled by it, so its
            // gradient is rounding noise (pix2pix keeps such biases); every other parameter must really learn.
            let unexpected = negligible.filter { !isBiasBeforeInstanceNorm($0, g: g, d: d) }
            XCTAssertEqual(unexpected, [], "parameters with a negligible gradient")
            if !negligible.isEmpty {
                print("gradient flow (D scales \(dc.scales)): \(negligible.count) conv biases before instance norm",
                      "get only rounding noise")
            }
        }
    }

    // MARK: Helpers

    /// Whether a parameter is the bias of a (transposed) convolution whose next layer is an instance norm.
    func isBiasBeforeInstanceNorm(_ qualified: String, g: Module, d: Module) -> Bool {
        guard qualified.hasSuffix(".bias") else { return false }
        let root = qualified.hasPrefix("G.") ? g : d
        let path = qualified.dropFirst(2).dropLast(5)
        guard let dot = path.lastIndex(of: ".") else { return false }
        let parentPath = String(path[..<dot])
        guard let index = Int(path[path.index(after: dot)...]),
              let parent = root.namedModules().first(where: { $0.0 == parentPath })?.1 as? Sequential,
              index + 1 < parent.count else { return false }
        return (parent[index] is Conv2d || parent[index] is ConvTranspose2d) && parent[index + 1] is InstanceNorm2d
    }
}
