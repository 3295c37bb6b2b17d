import Foundation
import NN
import Torch
import XCTest
@testable import Sketch2Real

/// LSRAGAN, BicycleGAN and MSGAN: their loss terms, the trainer (run folder, resume, logs) and
/// what the training must achieve on synthetic data with known modes.
final class MultimodalTests: XCTestCase {
    // MARK: Loss terms

    func testKLMatchesAHandComputation() {
        let mu: [Float] = [0.5, -1, 0, 2, 0.25, -0.75]
        let logVariance: [Float] = [0, Float(Foundation.log(2.0)), -1, 0.5, 0.3, -2]
        var expected = 0.0
        for (m, lv) in zip(mu.map(Double.init), logVariance.map(Double.init)) { expected += -0.5 * (1 + lv - m * m - Foundation.exp(lv)) }
        let kl = KLDivergenceLoss.loss(mu: Tensor(mu, shape: [2, 3]), logVariance: Tensor(logVariance, shape: [2, 3])).item()
        XCTAssertEqual(kl, expected, accuracy: 1e-5, "summed over the batch and the code")
        XCTAssertEqual(KLDivergenceLoss.loss(mu: Tensor.zeros([4, 8]), logVariance: Tensor.zeros([4, 8])).item(), 0,
                       "q(z|y) = N(0, I) costs nothing")
    }

    func testModeSeekingTermMatchesItsFormula() {
        let a: [Float] = [0.1, -0.4, 0.9, 0.3, -0.2, 0.0, 0.5, -1.0]
        let b: [Float] = [0.2, -0.1, 0.4, 0.3, 0.6, -0.5, 0.5, 1.0]
        let z1: [Float] = [1, -2, 0.5, 0.25], z2: [Float] = [-1, 0, 0.5, 1.25]
        let imageDistance = zip(a, b).map { Double(Swift.abs($0 - $1)) }.reduce(0, +) / 8
        let codeDistance = zip(z1, z2).map { Double(Swift.abs($0 - $1)) }.reduce(0, +) / 4
        let expected = 1 / (imageDistance / codeDistance + 1e-5)
        let loss = ModeSeekingLoss.loss(images1: Tensor(a, shape: [2, 1, 2, 2]), images2: Tensor(b, shape: [2, 1, 2, 2]),
                                        codes1: Tensor(z1, shape: [2, 2]), codes2: Tensor(z2, shape: [2, 2])).item()
        XCTAssertEqual(loss, expected, accuracy: 1e-4 * expected)
        let same = ModeSeekingLoss.loss(images1: Tensor(a, shape: [2, 4]), images2: Tensor(a, shape: [2, 4]),
                                        codes1: Tensor(z1, shape: [2, 2]), codes2: Tensor(z2, shape: [2, 2])).item()
        XCTAssertEqual(same, 1e5, accuracy: 1, "identical images: bounded by 1/ε")
    }

    func testLatentRegressionTrainsTheGeneratorButGivesTheEncoderNoGradient() throws {
        Torch.manualSeed(3)
        var gc = SRAGANConfig()
        (gc.ngf, gc.blocks, gc.norm, gc.latentChannels) = (8, 1, .layer, 8)
        let g = try SRAGANGenerator(gc)
        var ec = LatentEncoderConfig()
        (ec.nef, ec.blocks) = (8, 3)
        let e = try LatentEncoder(ec)
        let x = Tensor.rand([2, 1, 32, 32]) * 2 - 1, z = Tensor.randn([2, 8])
        let fake = g(x, z: z)
        let loss = LatentRegressionLoss.loss(encoder: e, generated: fake, codes: z)
        XCTAssertEqual(loss.item(), withNoGrad { e(fake).mu.l1Loss(z).item() }, accuracy: 1e-6, "|μ(E(G(x, z))) − z|₁")
        loss.backward()
        XCTAssertEqual(e.namedParameters().filter { $0.1.grad != nil }.map(\.0), [], "E gets no gradient from the term")
        XCTAssertTrue(e.parameters().allSatisfy(\.requiresGrad), "E is trainable again afterwards")
        let generatorGradients = g.parameters().compactMap { $0.grad?.abs().sum().item() }
        XCTAssertEqual(generatorGradients.count, g.parameters().count, "every parameter of G gets a gradient")
        XCTAssertGreaterThan(generatorGradients.reduce(0, +), 0)
    }

    /// Why LSRAGAN's default does not rely on a tiled code alone: after the first convolution a
    /// tiled code is a per-channel constant, which instance norm subtracts exactly. The default
    /// keeps instance norm and lets z modulate the norms (adaptive instance norm) as well.
    func testInstanceNormErasesATiledCodeAndLayerNormKeepsIt() throws {
        for (norm, changes) in [(NormKind.instance, false), (.layer, true)] {
            Torch.manualSeed(5)
            var c = SRAGANConfig()
            (c.ngf, c.blocks, c.attentionEvery, c.norm, c.latentChannels) = (8, 1, 0, norm, 8)
            let g = try SRAGANGenerator(c)
            g.eval()
            let x = Tensor.rand([1, 1, 32, 32]) * 2 - 1
            let d = withNoGrad { maxAbsDifference(g(x, z: Tensor.randn([1, 8])), g(x, z: Tensor.randn([1, 8]))) }
            XCTAssertEqual(d > 1e-3, changes, "\(norm): two codes differ by \(d)")
        }
        let recipe = TrainingConfig.defaults(for: .lsragan, size: 64).sragan
        XCTAssertEqual([recipe.norm], [.instance])
        XCTAssertEqual([recipe.latentModulation, recipe.latentAtInput], [true, true], "z modulates the norms and is tiled at the input")
    }

    /// `--residual-gain` (ReZero): the branch's gain starts at zero, so a block — demodulated,
    /// with attention and a code — is exactly the identity at initialisation; the first backward
    /// pass moves only the gain (the branch's weights see a zero gradient through g = 0), and
    /// once the gain is non-zero the branch counts.
    func testAResidualGainStartsAsTheIdentityAndOnlyTheGainLearnsFirst() throws {
        Torch.manualSeed(11)
        let block = AttentionResidualBlock(channels: 8, norm: .instance, attention: true, reduction: 4, latentChannels: 3,
                                           demodulated: true, residualGain: true)
        XCTAssertEqual(block.stateDict().first?.0, "residual_gain", "the block's own parameter comes before its children, as in PyTorch")
        let x = Tensor.rand([2, 8, 12, 12]) * 2.0 - 1.0, z = Tensor.randn([2, 3])
        XCTAssertEqual(withNoGrad { maxAbsDifference(block(x, code: z), x) }, 0, "x + 0 · branch = x")
        let target = Tensor.rand([2, 8, 12, 12])
        ((block(x, code: z) - target).pow(2)).sum().backward()
        let gain = try XCTUnwrap(block.residualGain)
        XCTAssertGreaterThan(try XCTUnwrap(gain.grad).abs().sum().item() as Double, 0, "the gain learns")
        for (name, p) in block.namedParameters() where name != "residual_gain" {
            XCTAssertEqual(p.grad.map { $0.abs().sum().item() as Double } ?? 0, 0, "\(name): no gradient through g = 0")
        }
        withNoGrad { block.residualGain = Tensor.full([8], 0.5) }
        XCTAssertGreaterThan(withNoGrad { maxAbsDifference(block(x, code: z), x) }, 1e-3, "with g ≠ 0 the branch counts")
    }

    /// `--noise-inputs`: the strengths start at zero, so the generator is at first the one without
    /// noise and only the strengths learn from it; in evaluation the maps are fixed (repeatable,
    /// the same in a batch as alone, a function of the position only), in training they are drawn.
    func testNoiseInputsStartSilentAndTranslateRepeatably() throws {
        Torch.manualSeed(12)
        var c = SRAGANConfig()
        (c.ngf, c.blocks, c.attentionReduction, c.norm, c.upsampling, c.noiseInputs) = (4, 1, 4, .layer, .resizeConv, true)
        let g = try SRAGANGenerator(c)
        XCTAssertEqual(g.stateDict().map(\.0).filter { $0.hasPrefix("noise.") }, ["noise.0.weight", "noise.1.weight"])
        let x = Tensor.rand([2, 1, 16, 24]) * 2.0 - 1.0
        let silent = [Tensor.zeros([1, 1, 8, 12]), Tensor.zeros([1, 1, 16, 24])]
        g.train()
        XCTAssertEqual(withNoGrad { maxAbsDifference(g(x), g(x, noise: silent)) }, 0, "strength 0: drawn noise changes nothing")
        (g(x) * Tensor.rand([2, 3, 16, 24])).sum().backward()
        for (name, p) in g.namedParameters() where name.hasPrefix("noise.") {
            XCTAssertGreaterThan(try XCTUnwrap(p.grad).abs().sum().item() as Double, 0, "\(name) learns")
        }

        withNoGrad { for (k, n) in g.noise.enumerated() { n.weight = Tensor.full([n.weight.size(0)], 0.5 + Double(k)) } }
        XCTAssertGreaterThan(withNoGrad { maxAbsDifference(g(x), g(x)) }, 1e-3, "training draws new maps")
        g.eval()
        let once = withNoGrad { g(x) }
        XCTAssertEqual(withNoGrad { maxAbsDifference(once, g(x)) }, 0, "evaluation is repeatable")
        XCTAssertGreaterThan(withNoGrad { maxAbsDifference(once, g(x, noise: silent)) }, 1e-3, "with strength ≠ 0 the map counts")
        let fixed = [NoiseInjection.constant(layer: 0, height: 8, width: 12), NoiseInjection.constant(layer: 1, height: 16, width: 24)]
        XCTAssertLessThan(withNoGrad { maxAbsDifference(once, g(x, noise: fixed)) }, 1e-6, "evaluation uses the fixed maps")
        let alone = withNoGrad { g(x.narrow(dim: 0, start: 1, length: 1)) }
        XCTAssertLessThan(maxAbsDifference(alone, once.narrow(dim: 0, start: 1, length: 1)), 1e-5, "the same in a batch as alone")
        // The map is kept per size: another size gets its own map, and the first size its own again.
        let wide = Tensor.rand([1, 1, 8, 40]) * 2.0 - 1.0
        let wideFixed = [NoiseInjection.constant(layer: 0, height: 4, width: 20), NoiseInjection.constant(layer: 1, height: 8, width: 40)]
        XCTAssertLessThan(withNoGrad { maxAbsDifference(g(wide), g(wide, noise: wideFixed)) }, 1e-6, "a new size gets its own map")
        XCTAssertEqual(withNoGrad { maxAbsDifference(once, g(x)) }, 0, "and the first size its own again")

        let large = NoiseInjection.constant(layer: 0, height: 256, width: 256)
        XCTAssertEqual(maxAbsDifference(NoiseInjection.constant(layer: 0, height: 8, width: 12),
                                        large.narrow(dim: 2, start: 0, length: 8).narrow(dim: 3, start: 0, length: 12)), 0,
                       "a value depends on its position only")
        XCTAssertEqual(large.mean().item() as Double, 0, accuracy: 0.01, "65,536 values: the mean's deviation is 0.004")
        XCTAssertEqual(large.std().item() as Double, 1, accuracy: 0.01)
        XCTAssertGreaterThan(maxAbsDifference(large.narrow(dim: 2, start: 0, length: 16).narrow(dim: 3, start: 0, length: 16),
                                              NoiseInjection.constant(layer: 1, height: 16, width: 16)), 1, "each layer has its own map")
    }

    // MARK: Configuration

    func testDefaultsFollowTheSpecificationAndOddBatchesAreRefused() throws {
        let l = TrainingConfig.defaults(for: .lsragan, size: 128)
        XCTAssertEqual([l.lambdaL1, l.multimodal.lambdaKL, l.multimodal.lambdaZ, l.multimodal.lambdaGAN, l.multimodal.lambdaGAN2,
                        l.multimodal.lambdaMS], [10, 0.3, 0.5, 1, 1, 0.1], "docs/MULTIMODAL.md's recipe")
        XCTAssertEqual([l.gan], [.lsgan])
        XCTAssertEqual([l.learningRate, l.beta1, l.beta2], [2e-4, 0.5, 0.999])
        XCTAssertEqual(l.gradientClipNorm, 10, "docs/TRAINING.md: the KL blow-up on photographs")
        XCTAssertEqual([TrainingConfig.defaults(for: .bicyclegan).gradientClipNorm, TrainingConfig.defaults(for: .sragan).gradientClipNorm], [0, 0])
        XCTAssertEqual(TrainingConfig.defaults(for: .sragan).sragan.norm, .layer)
        XCTAssertEqual(l.sragan.latentChannels, 8)
        XCTAssertEqual(l.discriminator.inputChannels, 6, "conditional D on (sketch, image)")
        let b = TrainingConfig.defaults(for: .bicyclegan, size: 128)
        XCTAssertEqual([b.latentUNet.levels, b.discriminator.scales, b.discriminator.inputChannels], [7, 2, 3])
        XCTAssertEqual(b.initScheme, .xavier)
        XCTAssertTrue(b.latentUNet.latentAtEveryLevel)
        let m = TrainingConfig.defaults(for: .msgan, size: 256)
        XCTAssertEqual([m.latentUNet.levels, m.discriminator.inputChannels], [8, 6])
        XCTAssertFalse(m.latentUNet.latentAtEveryLevel)
        XCTAssertNoThrow(try m.validate(), "MSGAN does not split batches")

        XCTAssertFalse(b.discriminator.accepts(side: 32), "PyTorch refuses a 4×4 kernel on the 2×2 map there")
        XCTAssertTrue(b.discriminator.accepts(side: 48))
        var small = b
        small.data.preprocess.cropSize = 32
        small.latentUNet.levels = 5
        XCTAssertThrowsError(try small.validate()) { XCTAssertTrue("\($0)".hasPrefix("image size 32 is too small for a discriminator"), "\($0)") }

        var odd = l
        odd.batchSize = 3
        XCTAssertThrowsError(try odd.validate()) {
            XCTAssertEqual("\($0)", "lsragan needs an even batch size (half of each batch takes the encoded path, half the random path, as in BicycleGAN); got 3")
        }
    }

    func testConfigurationsWrittenBeforeTheMultimodalFieldsStillLoad() throws {
        var old = try JSONSerialization.jsonObject(with: Data(TrainingConfig.defaults(for: .sragan, size: 64).json().utf8)) as! [String: Any]
        for key in ["multimodal", "encoder", "latentUNet"] { old[key] = nil }
        var sragan = old["sragan"] as! [String: Any]
        sragan["latentAtEveryStage"] = nil
        old["sragan"] = sragan
        var decoded = try TrainingConfig.from(json: String(decoding: try JSONSerialization.data(withJSONObject: old), as: UTF8.self))
        decoded.syncChannels() // as the trainers and loaders do
        XCTAssertEqual(decoded, TrainingConfig.defaults(for: .sragan, size: 64))
    }

    // MARK: Trainer

    /// A small synthetic data set: `scenes` sketches, each in all four palettes.
    func synthetic(scenes: Int, size: Int = 32, validation: Bool = false) throws -> String {
        let root = makeTemporaryFolder(self) + "/synth"
        let split = validation ? SyntheticDataset.Split(train: 0.75, validation: 0.25, test: 0)
            : SyntheticDataset.Split(train: 1, validation: 0, test: 0)
        try SyntheticDataset.write(count: scenes * 4, modes: 4, size: size, outputFolder: root, seed: 7, split: split)
        return root
    }

    /// Narrow networks for fast tests.
    func config(_ model: ModelKind, size: Int = 32) -> TrainingConfig {
        var c = TrainingConfig.defaults(for: model, size: size)
        c.data.inputChannels = 1
        c.data.preprocess = PreprocessOptions(mode: .none, cropSize: size, flip: false, multiple: c.generatorStride)
        (c.sragan.ngf, c.sragan.blocks, c.sragan.attentionEvery) = (8, 2, 2)
        c.latentUNet.ngf = 4
        (c.encoder.nef, c.encoder.blocks) = (8, 3)
        c.discriminator.ndf = 8
        // Two scales of three layers need 48 pixels.
        c.discriminator.layers = size < 48 ? 2 : 3
        c.lambdaPerceptual = 0
        (c.epochs, c.epochsDecay) = (1000, 0)
        (c.sampleEverySteps, c.saveEveryEpochs, c.logEverySteps) = (0, 0, 1)
        c.loaderWorkers = 1
        c.syncChannels()
        return c
    }

    static let quiet = ProgressReporter(every: 100_000, isTerminal: false)

    func testResumeIsBitIdentical() throws {
        let data = try synthetic(scenes: 3)
        var c = config(.lsragan)
        c.sragan.latentAtEveryStage = true
        c.maxSteps = 6
        let runs = makeTemporaryFolder(self)
        let straight = try MultimodalTrainer(config: c, dataRoot: data, runFolder: runs + "/straight", resume: false)
        XCTAssertEqual(try straight.train(progress: Self.quiet, shouldStop: { false }), .reachedMaxSteps)
        c.maxSteps = 3
        let first = try MultimodalTrainer(config: c, dataRoot: data, runFolder: runs + "/split", resume: false)
        XCTAssertEqual(try first.train(progress: Self.quiet, shouldStop: { false }), .reachedMaxSteps)
        Torch.manualSeed(999) // whatever ran in between must not matter
        let second = try MultimodalTrainer(config: c, dataRoot: data, runFolder: runs + "/split", resume: true, maxSteps: 6)
        XCTAssertEqual(second.step, 3)
        XCTAssertEqual(try second.train(progress: Self.quiet, shouldStop: { false }), .reachedMaxSteps)
        let a = try Checkpoint.load(path: RunFolder(path: runs + "/straight").latestCheckpoint)
        let b = try Checkpoint.load(path: RunFolder(path: runs + "/split").latestCheckpoint)
        XCTAssertEqual(Set(a.networks.keys), ["G", "E", "D", "D2"])
        XCTAssertEqual(Set(a.optimizers.keys), ["G", "E", "D", "D2"])
        for (net, weights) in a.networks {
            for (k, t) in weights { XCTAssertEqual(t.bytes(), b.networks[net]![k]!.bytes(), "\(net).\(k) differs after resume") }
        }
        for (opt, state) in a.optimizers {
            XCTAssertEqual(state.tensors.count, b.optimizers[opt]!.tensors.count)
            for ((na, ta), (nb, tb)) in zip(state.tensors, b.optimizers[opt]!.tensors) {
                XCTAssertEqual(na, nb)
                XCTAssertEqual(ta.bytes(), tb.bytes(), "optimizer \(opt) \(na)")
            }
        }
        XCTAssertEqual(a.rngState, b.rngState)
        XCTAssertEqual(a.configuration.replacingOccurrences(of: "\"maxSteps\" : 6", with: ""),
                       b.configuration.replacingOccurrences(of: "\"maxSteps\" : 6", with: ""))
    }

    func testClipGradNormCoversTheEncoderAndBothDiscriminators() throws {
        let data = try synthetic(scenes: 3)
        var c = config(.lsragan)
        c.maxSteps = 2
        c.gradientClipNorm = 1e-3
        let run = makeTemporaryFolder(self) + "/run"
        let trainer = try MultimodalTrainer(config: c, dataRoot: data, runFolder: run, resume: false)
        XCTAssertEqual(try trainer.train(progress: Self.quiet, shouldStop: { false }), .reachedMaxSteps)
        let log = try String(contentsOfFile: RunFolder(path: run).logFile, encoding: .utf8).split(separator: "\n")
            .map { try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }
        XCTAssertEqual(log.count, 2)
        let encoder = try XCTUnwrap(trainer.encoder), d2 = try XCTUnwrap(trainer.discriminator2)
        for (key, network) in [("grad_norm_G", trainer.generator), ("grad_norm_E", encoder), ("grad_norm_D", trainer.discriminator), ("grad_norm_D2", d2)] as [(String, Module)] {
            let before = try XCTUnwrap(log[1][key] as? Double, key)
            XCTAssertGreaterThan(try XCTUnwrap(log[0][key] as? Double, key), 1e-3, key)
            XCTAssertGreaterThan(before, 1e-3, key)
            // The last update's gradients stay on the parameters: scaled by 1e-3 / (norm + 1e-6).
            let norm = Tensor.stack(network.trainableParameters().compactMap(\.grad).map { $0.norm() }).norm().item() as Double
            XCTAssertEqual(norm, 1e-3 * before / (before + 1e-6), accuracy: 1e-3 * 1e-5, key)
        }
    }

    func testEveryModelLogsEachTermAndDrawsSampleAndValidationGrids() throws {
        let data = try synthetic(scenes: 4, validation: true)
        let expected: [ModelKind: [String]] = [
            // LSRAGAN clips its gradients by default and logs each network's norm.
            .lsragan: ["G_GAN", "G_GAN2", "G_L1", "G_FM", "KL", "z_L1", "MS", "MS_ratio", "D", "D2", "G_total",
                       "grad_norm_G", "grad_norm_E", "grad_norm_D", "grad_norm_D2"],
            .bicyclegan: ["G_GAN", "G_GAN2", "G_L1", "KL", "z_L1", "D", "D2", "G_total"],
            .msgan: ["G_GAN", "G_L1", "MS", "MS_ratio", "D", "G_total"],
        ]
        for (model, keys) in expected.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
            var c = config(model)
            (c.epochs, c.epochsDecay) = (1, 0)
            c.sampleEverySteps = 2
            c.multimodal.sampleCodes = 3
            let run = makeTemporaryFolder(self) + "/run"
            let trainer = try MultimodalTrainer(config: c, dataRoot: data, runFolder: run, resume: false)
            XCTAssertEqual(try trainer.train(progress: Self.quiet, shouldStop: { false }), .finished, "\(model)")
            let folder = RunFolder(path: run)
            let log = try String(contentsOfFile: folder.logFile, encoding: .utf8).split(separator: "\n")
                .map { try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }
            let first = log[0]
            XCTAssertEqual(Set(first.keys).subtracting(["step", "epoch", "lr", "seconds", "steps_per_second"]), Set(keys), "\(model) log keys")
            for key in keys { XCTAssertTrue((first[key] as! Double).isFinite, "\(model) \(key)") }
            let validation = try XCTUnwrap(log.last)
            for key in ["val_L1", "val_L1_random", "val_diversity"] { XCTAssertNotNil(validation[key], "\(model) \(key)") }
            let sample = try Image.load(path: folder.samples + "/step_0000002.png")
            // sketch | encoded | 3 codes | target, 32-pixel cells with 4-pixel gaps.
            XCTAssertEqual(sample.width, 6 * 32 + 7 * 4, "\(model) sample grid columns")
            XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder.validation), ["epoch_0001.png"])
            XCTAssertEqual(Set(try Checkpoint.load(path: folder.latestCheckpoint).networks.keys),
                           model.usesEncoder ? ["G", "E", "D", "D2"] : ["G", "D"])
        }
    }

    func testAStopRequestSavesACheckpointToResumeFrom() throws {
        let data = try synthetic(scenes: 2)
        let run = makeTemporaryFolder(self) + "/run"
        let trainer = try MultimodalTrainer(config: config(.msgan), dataRoot: data, runFolder: run, resume: false)
        var calls = 0
        XCTAssertEqual(try trainer.train(progress: Self.quiet, shouldStop: { calls += 1; return calls == 2 }), .interrupted)
        XCTAssertEqual(try Checkpoint.load(path: RunFolder(path: run).latestCheckpoint).step, 2)
        let resumed = try MultimodalTrainer(config: config(.msgan), dataRoot: data, runFolder: run, resume: true, maxSteps: 3)
        XCTAssertEqual([resumed.step, resumed.position], [2, 2])
        XCTAssertEqual(try resumed.train(progress: Self.quiet, shouldStop: { false }), .reachedMaxSteps)
    }

    func testNonFiniteLossStopsTraining() throws {
        let data = try synthetic(scenes: 2)
        var c = config(.bicyclegan)
        c.maxSteps = 1
        let run = makeTemporaryFolder(self) + "/run"
        _ = try MultimodalTrainer(config: c, dataRoot: data, runFolder: run, resume: false).train(progress: Self.quiet, shouldStop: { false })
        let saved = try Data(contentsOf: URL(fileURLWithPath: RunFolder(path: run).latestCheckpoint))
        let resumed = try MultimodalTrainer(config: c, dataRoot: data, runFolder: run, resume: true, maxSteps: 5)
        withNoGrad { resumed.encoder!.parameters()[0].fillInPlace(.nan) }
        XCTAssertThrowsError(try resumed.train(progress: Self.quiet, shouldStop: { false })) {
            XCTAssertTrue("\($0)".hasPrefix("a loss became non-finite at step 2 ("), "\($0)")
        }
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: RunFolder(path: run).latestCheckpoint)), saved)
    }

    func testExportKeepsTheEncoderAndLoadsWithoutFlags() throws {
        let data = try synthetic(scenes: 2)
        var c = config(.lsragan)
        c.maxSteps = 1
        let run = makeTemporaryFolder(self) + "/run"
        let trainer = try MultimodalTrainer(config: c, dataRoot: data, runFolder: run, resume: false)
        _ = try trainer.train(progress: Self.quiet, shouldStop: { false })
        let fromRun = try GeneratorFile.loadMultimodal(run)
        let file = makeTemporaryFolder(self) + "/model.safetensors"
        try GeneratorFile.export(fromRun.generator, encoder: fromRun.encoder, config: fromRun.config, to: file)
        let metadata = try SafeTensors.load(path: file).metadata
        XCTAssertEqual(metadata[GeneratorFile.modelKey], "lsragan")
        XCTAssertNotNil(metadata[GeneratorFile.encoderKey])
        let fromFile = try GeneratorFile.loadMultimodal(file)
        let x = Tensor.rand([2, 1, 32, 32]) * 2 - 1, z = Tensor.randn([2, 8]), y = Tensor.rand([2, 3, 32, 32]) * 2 - 1
        withNoGrad {
            XCTAssertEqual(fromRun.generator.generate(x, z: z).bytes(), fromFile.generator.generate(x, z: z).bytes())
            XCTAssertEqual(fromRun.encoder!(y).mu.bytes(), fromFile.encoder!(y).mu.bytes())
        }
        // `translate` and the one-to-one loader take multimodal models with z = 0.
        let (generator, config) = try GeneratorFile.load(file)
        XCTAssertEqual(config.model, .lsragan)
        withNoGrad { XCTAssertEqual(generator.translate(x).bytes(), fromFile.generator.generate(x, z: Tensor.zeros([2, 8])).bytes()) }
        XCTAssertThrowsError(try GeneratorFile.loadMultimodal(try exportedOneToOne())) {
            XCTAssertTrue("\($0)".contains("maps each sketch to one image"), "\($0)")
        }
    }

    func exportedOneToOne() throws -> String {
        var c = TrainingConfig.defaults(for: .pix2pix, size: 32)
        c.pix2pix.architecture = .resnet6
        c.pix2pix.ngf = 4
        let file = makeTemporaryFolder(self) + "/pix2pix.safetensors"
        try GeneratorFile.export(try GeneratorFile.make(c), config: c, to: file)
        return file
    }
}
