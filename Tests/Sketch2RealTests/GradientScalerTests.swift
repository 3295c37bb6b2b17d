import Foundation
import NN
import Torch
import XCTest
@testable import Sketch2Real

/// float16 training: the gradient scaler (PyTorch's GradScaler rules) and a training run under
/// float16 autocast on the CPU (libtorch 2.15 has CPU float16 autocast; GPUs without bfloat16
/// are where `--precision auto` picks it).
final class GradientScalerTests: XCTestCase {
    /// A linear layer and a loss whose gradient is known: d/dw of sum(w·x) is x.
    func layer() -> (Linear, Tensor) {
        Torch.manualSeed(1)
        return (Linear(3, 1), Tensor([Float(1), 2, 3], shape: [1, 3]))
    }

    func testUnscaledGradientsEqualThoseOfTheUnscaledLoss() {
        let (a, x) = layer()
        a(x).sum().backward()
        let plain = a.weight.grad!.toArray(Float.self)
        a.weight.grad!.zeroInPlace()
        a.bias!.grad!.zeroInPlace()
        let scaler = GradientScaler(scale: 1024)
        scaler.scaled(a(x).sum()).backward()
        XCTAssertEqual(a.weight.grad!.toArray(Float.self), plain.map { $0 * 1024 })
        XCTAssertFalse(scaler.unscale(a.parameters()))
        // A power-of-two scale divides exactly.
        XCTAssertEqual(a.weight.grad!.toArray(Float.self), plain)
    }

    /// An overflowed gradient skips the optimiser step (weights and Adam state untouched) and
    /// halves the scale; `growthInterval` quiet steps double it.
    func testAnOverflowSkipsTheStepAndHalvesTheScaleAndQuietStepsGrowIt() {
        let (a, x) = layer()
        let adam = Adam(a.parameters(), learningRate: 0.1)
        let scaler = GradientScaler(scale: 8, growthInterval: 2)
        let before = a.weight.toArray(Float.self)
        (a(x).sum() * Double.infinity).backward()
        XCTAssertTrue(scaler.unscale(a.parameters()))
        scaler.step(adam)
        XCTAssertEqual(a.weight.toArray(Float.self), before, "the step was skipped")
        XCTAssertTrue(adam.state().tensors.isEmpty, "Adam took no step")
        scaler.update()
        XCTAssertEqual(scaler.scale, 4)
        XCTAssertEqual(scaler.overflowSteps, 1)
        for i in 1 ... 2 {
            adam.zeroGrad()
            scaler.scaled(a(x).sum()).backward()
            XCTAssertFalse(scaler.unscale(a.parameters()))
            scaler.step(adam)
            scaler.update()
            XCTAssertEqual(scaler.growthTracker, i % 2, "after quiet step \(i)")
        }
        XCTAssertEqual(scaler.scale, 8, "two quiet steps double the scale")
        XCTAssertNotEqual(a.weight.toArray(Float.self), before)
        // NaN counts as an overflow as well.
        adam.zeroGrad()
        (a(x).sum() * Double.nan).backward()
        XCTAssertTrue(scaler.unscale(a.parameters()))
        XCTAssertEqual(GradientScaler(checkpointFields: scaler.checkpointFields)?.scale, 8)
        XCTAssertNil(GradientScaler(checkpointFields: ["gradScale": "inf", "gradScaleGrowthTracker": "0"]))
        XCTAssertNil(GradientScaler(checkpointFields: ["gradScale": "-2", "gradScaleGrowthTracker": "0"]))
    }

    func config(size: Int = 32) -> TrainingConfig {
        var c = TrainingConfig.defaults(for: .sragan, size: size)
        c.data.preprocess = PreprocessOptions(mode: .none, cropSize: size, flip: false, multiple: 4)
        c.sragan.ngf = 8
        c.sragan.blocks = 1
        c.discriminator.ndf = 8
        c.epochs = 1000
        c.epochsDecay = 0
        c.sampleEverySteps = 0
        c.saveEveryEpochs = 0
        c.logEverySteps = 1
        c.loaderWorkers = 1
        // Float16 is emulated on most CPUs: the perceptual network (HED-VGG16) would make the steps slow.
        c.lambdaPerceptual = 0
        return c
    }

    /// SRAGAN under float16 autocast: the networks run in float16 (the scale is in the log and
    /// the checkpoint), the L1 loss falls, and a resumed run continues bit for bit, the scale
    /// included.
    func testFloat16TrainingLearnsLogsItsScaleAndResumesBitIdentically() throws {
        let saved = Torch.precision
        Torch.precision = .fp16
        defer { Torch.precision = saved }
        let data = try writeGreyToColourPairs(self, size: 32, count: 3)
        let quiet = ProgressReporter(every: 1000, isTerminal: false)
        var c = config()
        c.maxSteps = 24
        let folder = makeTemporaryFolder(self) + "/run"
        let trainer = try PairedTrainer(config: c, dataRoot: data, runFolder: folder, resume: false)
        let x = try trainer.loader.dataset.sample(0, draw: .init(x: 0, y: 0, flip: false))
        // The generator's convolutions really run in float16.
        let firstConvolution = (trainer.generator as! SRAGANGenerator).namedModules().compactMap { $0.1 as? Conv2d }.first!
        let inner = Torch.autocast(.fp16) { firstConvolution(x.input.unsqueezed(0)) }
        XCTAssertEqual(inner.dtype, .float16)
        _ = try trainer.train(progress: quiet, shouldStop: { false })
        let log = try String(contentsOfFile: folder + "/log.jsonl", encoding: .utf8).split(separator: "\n")
            .compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }.filter { $0["step"] != nil && $0["lr"] != nil }
        let l1 = log.compactMap { $0["G_L1"] as? Double }
        XCTAssertEqual(l1.count, 24)
        let first = l1.prefix(5).reduce(0, +) / 5, last = l1.suffix(5).reduce(0, +) / 5
        print("learning-margin {\"test\": \"fp16 SRAGAN\", \"statistic\": \"L1 last 5 / first 5 steps\", \"value\": \(last / first), \"threshold\": 0.8, \"above\": false}")
        XCTAssertLessThan(last, 0.8 * first)
        XCTAssertNotNil(log.last?["grad_scale"] as? Double)
        let checkpoint = try Checkpoint.load(path: RunFolder(path: folder).latestCheckpoint)
        XCTAssertEqual(checkpoint.extra["gradScale"].flatMap(Double.init), trainer.loop.scaler?.scale)

        // 4 steps straight against 2 + 2 resumed.
        c.maxSteps = 4
        let straightFolder = makeTemporaryFolder(self) + "/straight"
        _ = try PairedTrainer(config: c, dataRoot: data, runFolder: straightFolder, resume: false).train(progress: quiet, shouldStop: { false })
        c.maxSteps = 2
        let splitFolder = makeTemporaryFolder(self) + "/split"
        _ = try PairedTrainer(config: c, dataRoot: data, runFolder: splitFolder, resume: false).train(progress: quiet, shouldStop: { false })
        let second = try PairedTrainer(config: c, dataRoot: data, runFolder: splitFolder, resume: true, maxSteps: 4)
        XCTAssertNotNil(second.loop.scaler)
        _ = try second.train(progress: quiet, shouldStop: { false })
        let a = try Checkpoint.load(path: RunFolder(path: straightFolder).latestCheckpoint)
        let b = try Checkpoint.load(path: RunFolder(path: splitFolder).latestCheckpoint)
        XCTAssertEqual(a.extra["gradScale"], b.extra["gradScale"])
        for net in ["G", "D"] {
            for (k, t) in a.networks[net]! { XCTAssertEqual(t.bytes(), b.networks[net]![k]!.bytes(), "\(net).\(k) differs after resume") }
        }
    }
}
