import Foundation
import NN
import Torch
import XCTest
@testable import Sketch2Real

/// What LSRAGAN must learn on synthetic scenes whose four colourings (modes) are known: a
/// sketch maps to visibly different images under different codes, and the code the encoder
/// reads from a photo brings that photo's colouring back.
final class MultimodalLearningTests: XCTestCase {
    struct Measurement {
        var differentCodes = 0.0
        var sameCode = 0.0
        var encodedL1 = 0.0
        var randomL1 = 0.0
        var realSpread = 0.0
    }

    /// Over the first `scenes` training sketches: mean pairwise L1 of 8 samples with different
    /// codes; L1 between two runs with the same code; L1 to each of the scene's four photos of
    /// the result for that photo's code and of the random samples; spread of the four photos.
    func measure(_ trainer: MultimodalTrainer, scenes: Int) throws -> Measurement {
        let dataset = trainer.loader.dataset
        let model = MultimodalModel(generator: trainer.generator, encoder: trainer.encoder, config: trainer.config)
        let sampler = MultimodalSampler(model: model)
        defer { trainer.generator.train(); trainer.encoder?.train() }
        var m = Measurement()
        Torch.manualSeed(11)
        for scene in 0 ..< scenes {
            // Files are sorted: scene s is examples 4s…4s+3, one per palette.
            let examples = try (0 ..< 4).map { try dataset.sample(4 * scene + $0, draw: .init(x: 0, y: 0, flip: false)) }
            let sketch = Image(tensor: examples[0].input)
            let codes = sampler.randomCodes(8)
            let samples = Tensor.cat(try sampler.tensors(for: sketch, codes: codes), dim: 0)
            m.differentCodes += PixelDiversity.meanPairwiseL1(samples) / Double(scenes)
            let again = Tensor.cat(try sampler.tensors(for: sketch, codes: codes), dim: 0)
            m.sameCode += (samples - again).abs().mean().item() / Double(scenes)
            let photos = Tensor.stack(examples.map { $0.target! })
            m.realSpread += PixelDiversity.meanPairwiseL1(photos) / Double(scenes)
            for example in examples {
                let target = example.target!.unsqueezed(0)
                let code = try sampler.code(of: Image(tensor: target))
                m.encodedL1 += try sampler.tensors(for: sketch, codes: code)[0].l1Loss(target).item() / Double(4 * scenes)
                m.randomL1 += samples.l1Loss(target.expand(samples.shape)).item() / Double(4 * scenes)
            }
        }
        return m
    }

    /// About 600 steps of a narrow LSRAGAN (ngf 8, two residual blocks, no VGG term) on 8 scenes ×
    /// 4 palettes at 64²: under a minute in a debug build on two cores.
    func testLSRAGANSamplesDifferByCodeAndTheEncodedCodeRebuildsThePhoto() throws {
        let steps = 600
        let root = makeTemporaryFolder(self) + "/synth"
        try SyntheticDataset.write(count: 8 * 4, modes: 4, size: 64, outputFolder: root, seed: 3,
                                   split: .init(train: 1, validation: 0, test: 0))
        var c = TrainingConfig.defaults(for: .lsragan, size: 64)
        c.data.inputChannels = 1
        c.data.preprocess = PreprocessOptions(mode: .none, cropSize: 64, flip: false, multiple: 4)
        (c.sragan.ngf, c.sragan.blocks, c.sragan.attentionEvery, c.sragan.upsampling) = (8, 2, 2, .resizeConv)
        (c.encoder.nef, c.encoder.blocks) = (16, 4)
        c.discriminator.ndf = 16
        c.lambdaPerceptual = 0
        (c.epochs, c.epochsDecay, c.maxSteps) = (1000, 0, steps)
        (c.sampleEverySteps, c.saveEveryEpochs, c.logEverySteps) = (0, 0, 50)
        c.loaderWorkers = 1
        c.syncChannels()
        let trainer = try MultimodalTrainer(config: c, dataRoot: root, runFolder: makeTemporaryFolder(self) + "/run", resume: false)
        let before = try measure(trainer, scenes: 4)
        let start = Date()
        XCTAssertEqual(try trainer.train(progress: ProgressReporter(every: 100_000, isTerminal: false), shouldStop: { false }), .reachedMaxSteps)
        let seconds = Date().timeIntervalSince(start)
        let after = try measure(trainer, scenes: 4)
        print(String(format: "LSRAGAN on 4 palettes, %d steps in %.1f s: samples of a sketch differ by L1 %.4f with different codes (%.4f before training), %.2e with the same code; the four photos of a scene differ by %.4f. L1 to the photo: %.4f with its encoded code, %.4f with random codes (before training %.4f, %.4f).",
                     steps, seconds, after.differentCodes, before.differentCodes, after.sameCode, after.realSpread,
                     after.encodedL1, after.randomL1, before.encodedL1, before.randomL1))
        XCTAssertEqual(after.sameCode, 0, "the same code gives the same image")
        XCTAssertGreaterThan(after.differentCodes, 0.05, "different codes must give visibly different images")
        XCTAssertGreaterThan(after.differentCodes, 2 * before.differentCodes, "training must widen what the code does")
        XCTAssertGreaterThan(after.differentCodes, 0.25 * after.realSpread, "a good part of the real variety")
        XCTAssertLessThan(after.encodedL1, 0.8 * after.randomL1, "the encoded code rebuilds its photo better than random codes")
    }
}
