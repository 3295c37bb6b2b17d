import Foundation
import NN
import Torch
import XCTest
@testable import Sketch2Real

/// The projected discriminator (`train --projected-discriminator`): its shapes, what it trains
/// and what it keeps fixed, its warm-up, resume, and the configurations it refuses.
final class ProjectedDiscriminatorTests: XCTestCase {
    /// A small SRAGAN with the projected discriminator, as TrainingTests configures its runs.
    func config(size: Int = 32) -> TrainingConfig {
        var c = TrainingConfig.defaults(for: .sragan, size: size)
        c.data.preprocess = PreprocessOptions(mode: .none, cropSize: size, flip: false, multiple: 4)
        c.data.inputChannels = 3
        c.sragan.ngf = 8
        c.sragan.blocks = 1
        c.discriminator.ndf = 8
        (c.epochs, c.epochsDecay) = (1000, 0)
        (c.sampleEverySteps, c.saveEveryEpochs, c.logEverySteps, c.loaderWorkers) = (0, 0, 50, 1)
        c.projected = ProjectedDiscriminatorConfig()
        c.syncChannels()
        return c
    }

    /// Pairs of a grey input and a colourful target derived from it.
    func tinyDataset(size: Int, count: Int) throws -> String {
        try writeGreyToColourPairs(self, size: size, count: count)
    }

    func testOneLogitMapPerStageAtHalfTheTapsResolution() throws {
        Torch.manualSeed(1)
        let d = try ProjectedDiscriminator(ProjectedDiscriminatorConfig(), backbone: HEDVGG16Features())
        let pair = Tensor.rand([2, 4, 64, 64]) * 2.0 - 1.0
        let maps = d(pair)
        // relu2_2, relu3_3 and relu4_3 of a 64² image are 32², 16² and 8²; each head halves once.
        XCTAssertEqual(maps.map(\.shape), [[2, 1, 16, 16], [2, 1, 8, 8], [2, 1, 4, 4]])
        // The state dict holds the mixing buffers and the heads, not the 14.7 M backbone weights.
        let names = d.stateDict().map(\.0)
        XCTAssertTrue(names.contains("mixes.0.weight"))
        XCTAssertTrue(names.contains { $0.hasPrefix("heads.2.model.4.") })
        XCTAssertFalse(names.contains { $0.contains("block") })
        XCTAssertEqual(d.namedBuffers().filter { $0.0.hasPrefix("mixes.") }.map(\.1.shape), [[64, 128, 1, 1], [64, 256, 1, 1], [64, 512, 1, 1]])
        XCTAssertTrue(d.trainableParameters().allSatisfy { p in !d.namedBuffers().contains { $0.1.bytes() == p.bytes() } })
    }

    func testTheSketchReachesEveryHead() throws {
        Torch.manualSeed(2)
        let d = try ProjectedDiscriminator(ProjectedDiscriminatorConfig(), backbone: HEDVGG16Features())
        let image = Tensor.rand([1, 3, 32, 32]) * 2.0 - 1.0
        let a = d(Tensor.cat([Tensor.ones([1, 1, 32, 32]), image], dim: 1))
        let b = d(Tensor.cat([-Tensor.ones([1, 1, 32, 32]), image], dim: 1))
        for (x, y) in zip(a, b) { XCTAssertGreaterThan((x - y).abs().max().item(), 1e-4, "the sketch changes every head's output") }
    }

    func testWarmUpRampsGsWeightLinearly() {
        var p = ProjectedDiscriminatorConfig()
        p.weight = 2
        XCTAssertEqual(p.weight(atStep: 0), 2)
        p.warmupSteps = 100
        XCTAssertEqual(p.weight(atStep: 0), 0)
        XCTAssertEqual(p.weight(atStep: 25), 0.5, accuracy: 1e-12)
        XCTAssertEqual(p.weight(atStep: 100), 2)
        XCTAssertEqual(p.weight(atStep: 5000), 2)
    }

    /// A step trains the heads and G (through the frozen backbone) and leaves the mixing and
    /// the backbone as they were; the losses are logged under G_proj and D_proj.
    func testAStepTrainsTheHeadsAndKeepsTheMixingAndBackboneFixed() throws {
        let data = try tinyDataset(size: 32, count: 2)
        var c = config()
        c.maxSteps = 2
        let t = try PairedTrainer(config: c, dataRoot: data, runFolder: makeTemporaryFolder(self) + "/run", resume: false)
        let p = try XCTUnwrap(t.projected)
        XCTAssertTrue(p.backbone === (t.perceptual?.network as? HEDVGG16Features), "the perceptual loss's HED-VGG16 is shared")
        // (Only the mixing: the heads' spectral norms keep power-iteration buffers that change.)
        func mixingBytes() -> [[UInt8]] { p.namedBuffers().filter { $0.0.hasPrefix("mixes.") }.map { $0.1.bytes() } }
        let mixing = mixingBytes()
        XCTAssertEqual(mixing.count, 3)
        let heads = p.namedParameters().map { $0.1.bytes() }
        let backbone = p.backbone.network.stateDict().prefix(4).map { $0.1.bytes() }
        let batch = try t.loader.dataset.sample(0, draw: .init(x: 0, y: 0, flip: false))
        let losses = t.trainStep(input: batch.input.unsqueezed(0), target: batch.target!.unsqueezed(0))
        XCTAssertNotNil(losses.projected)
        XCTAssertNotNil(losses.projectedDiscriminator)
        XCTAssertEqual(Set(losses.named.keys).isSuperset(of: ["G_proj", "D_proj"]), true)
        XCTAssertTrue(mixingBytes() == mixing, "the random mixing is fixed")
        XCTAssertTrue(p.namedParameters().map { $0.1.bytes() } != heads, "the heads learn")
        XCTAssertTrue(p.backbone.network.stateDict().prefix(4).map { $0.1.bytes() } == backbone, "the backbone is frozen")
        XCTAssertTrue(p.trainableParameters().allSatisfy(\.requiresGrad), "the heads are trainable again after G's update")
    }

    /// G's gradient from the projected term alone is not zero: the backbone passes it on.
    func testTheProjectedTermAloneGivesGAGradient() throws {
        Torch.manualSeed(3)
        let g = try SRAGANGenerator({ var s = SRAGANConfig(); s.ngf = 8; s.blocks = 1; return s }())
        let d = try ProjectedDiscriminator(ProjectedDiscriminatorConfig(), backbone: HEDVGG16Features())
        let x = Tensor.rand([1, 1, 32, 32]) * 2.0 - 1.0
        let loss = GANMode.hinge.generatorLoss(fake: d(Tensor.cat([x, g(x)], dim: 1)))
        loss.backward()
        let norm = g.parameters().compactMap(\.grad).map { $0.pow(2).sum().item() }.reduce(0, +)
        XCTAssertGreaterThan(norm, 0)
    }

    /// Four steps straight equal two, a new trainer resumed from the checkpoint, and two more,
    /// bit for bit, the projected discriminator and its optimiser included.
    func testResumeIsBitIdenticalWithTheProjectedDiscriminator() throws {
        let data = try tinyDataset(size: 32, count: 3)
        let quiet = ProgressReporter(every: 1000, isTerminal: false)
        var c = config()
        c.maxSteps = 4
        let straightFolder = makeTemporaryFolder(self) + "/straight"
        let straight = try PairedTrainer(config: c, dataRoot: data, runFolder: straightFolder, resume: false)
        _ = try straight.train(progress: quiet, shouldStop: { false })
        c.maxSteps = 2
        let splitFolder = makeTemporaryFolder(self) + "/split"
        let first = try PairedTrainer(config: c, dataRoot: data, runFolder: splitFolder, resume: false)
        _ = try first.train(progress: quiet, shouldStop: { false })
        let second = try PairedTrainer(config: c, dataRoot: data, runFolder: splitFolder, resume: true, maxSteps: 4)
        XCTAssertEqual(try second.train(progress: quiet, shouldStop: { false }), .reachedMaxSteps)
        let a = try Checkpoint.load(path: RunFolder(path: straightFolder).latestCheckpoint)
        let b = try Checkpoint.load(path: RunFolder(path: splitFolder).latestCheckpoint)
        XCTAssertEqual(b.step, 4)
        XCTAssertEqual(Set(a.networks.keys), ["G", "D", "DP"])
        for net in ["G", "D", "DP"] {
            let wa = a.networks[net]!, wb = b.networks[net]!
            XCTAssertEqual(Set(wa.keys), Set(wb.keys))
            for (k, t) in wa { XCTAssertEqual(t.bytes(), wb[k]!.bytes(), "\(net).\(k) differs after resume") }
            for ((na, ta), (nb, tb)) in zip(a.optimizers[net]!.tensors, b.optimizers[net]!.tensors) {
                XCTAssertEqual(na, nb)
                XCTAssertEqual(ta.bytes(), tb.bytes(), "optimizer \(net) \(na)")
            }
        }
    }

    func testConfigurationsWithoutItStillLoadAndTheRefusals() throws {
        let old = try TrainingConfig.decoded(from: Data(#"{"model": "sragan"}"#.utf8))
        XCTAssertNil(old.projected)
        let partial = try TrainingConfig.decoded(from: Data(#"{"model": "sragan", "projected": {"weight": 0.5}}"#.utf8))
        XCTAssertEqual(partial.projected?.weight, 0.5)
        XCTAssertEqual(partial.projected?.stages, [2, 3, 4])

        var multimodal = TrainingConfig.defaults(for: .lsragan, size: 64)
        multimodal.projected = ProjectedDiscriminatorConfig()
        XCTAssertThrowsError(try multimodal.validate()) {
            XCTAssertEqual("\($0)", "--projected-discriminator is for the one-to-one models (sragan, pix2pix), not lsragan")
        }
        var c = config()
        c.projected?.stages = [2, 5]
        XCTAssertThrowsError(try c.validate()) {
            XCTAssertEqual("\($0)", "projected discriminator: stages must be distinct HED-VGG16 stages 1–4 (got [2, 5])")
        }
        c = config()
        c.vgg19Weights = "/nonexistent/vgg19.safetensors"
        XCTAssertThrowsError(try c.validate()) { XCTAssertTrue("\($0)".contains("use one or the other"), "\($0)") }
    }

    func testTheOptionTurnsItOnFromTheCommandLine() throws {
        let data = try tinyDataset(size: 32, count: 2)
        let runs = makeTemporaryFolder(self)
        let r = try runProgram(["train", "--data", data, "--runs", runs, "--name", "p", "--size", "32", "--load-size", "32",
                                "--ngf", "8", "--ndf", "8", "--blocks", "1", "--max-steps", "2", "--log-every", "1",
                                "--sample-every", "0", "--workers", "1", "--precision", "fp32", "--input-channels", "3",
                                "--projected-discriminator", "--projected-warmup", "10"])
        XCTAssertEqual(r.status, 0, r.error + r.output)
        XCTAssertTrue(r.output.contains("G_proj"), r.output)
        XCTAssertTrue(r.output.contains("D_proj"), r.output)
        let saved = try TrainingConfig.decoded(from: Data(contentsOf: URL(fileURLWithPath: runs + "/p/config.json")))
        XCTAssertEqual(saved.projected?.warmupSteps, 10)
        XCTAssertEqual(saved.projected?.conditionChannels, 3)
    }
}
