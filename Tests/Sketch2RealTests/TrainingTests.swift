import Foundation
import NN
import Torch
import XCTest
@testable import Sketch2Real

final class TrainingTests: XCTestCase {
    /// Four fixed 64² pairs: a sketch-like grey input and a colourful target derived from it.
    func tinyDataset(size: Int = 64, count: Int = 4) throws -> String {
        try writeGreyToColourPairs(self, size: size, count: count)
    }

    func config(_ model: ModelKind, size: Int = 64) -> TrainingConfig {
        var c = TrainingConfig.defaults(for: model, size: size)
        c.data.preprocess = PreprocessOptions(mode: .none, cropSize: size, flip: false, multiple: 4)
        c.sragan.ngf = 16
        c.sragan.blocks = 2
        c.sragan.attentionEvery = 1
        // The learning margins of docs/TESTING.md were measured with this decoder.
        c.sragan.upsampling = .transposed
        c.pix2pix.architecture = .resnet6
        c.pix2pix.ngf = 16
        c.pix2pix.dropout = false
        c.discriminator.ndf = 16
        c.epochs = 1000
        c.epochsDecay = 0
        c.sampleEverySteps = 0
        c.saveEveryEpochs = 0
        c.logEverySteps = 50
        c.loaderWorkers = 1
        c.seed = learningSeed(c.seed)
        c.syncChannels()
        return c
    }

    func meanL1(_ t: PairedTrainer) throws -> Double {
        let ds = t.loader.dataset
        t.generator.eval()
        defer { t.generator.train() }
        var total = 0.0
        for i in 0 ..< ds.count {
            let s = try ds.sample(i, draw: .init(x: 0, y: 0, flip: false))
            let out = withNoGrad { t.generator.translate(s.input.unsqueezed(0)) }
            total += out.squeezed(0).l1Loss(s.target!).item()
        }
        return total / Double(ds.count)
    }

    func overfit(_ model: ModelKind, steps: Int) throws -> (before: Double, after: Double) {
        let data = try tinyDataset()
        var c = config(model)
        c.maxSteps = steps
        let trainer = try PairedTrainer(config: c, dataRoot: data, runFolder: makeTemporaryFolder(self) + "/run", resume: false)
        let before = try meanL1(trainer)
        let outcome = try trainer.train(progress: ProgressReporter(every: 1000, isTerminal: false), shouldStop: { false })
        XCTAssertEqual(outcome, .reachedMaxSteps)
        let after = try meanL1(trainer)
        print("\(model) overfit: L1 to target \(before) → \(after) after \(steps) steps")
        return (before, after)
    }

    func testSRAGANOverfitsATinySet() throws {
        let r = try overfit(.sragan, steps: 200)
        reportLearningMargin("SRAGAN overfits", "L1 after / before", value: r.after / r.before, threshold: 0.4, above: false)
        XCTAssertLessThan(r.after, r.before * 0.4, "SRAGAN L1 \(r.before) → \(r.after)")
    }

    func testPix2PixOverfitsATinySet() throws {
        let r = try overfit(.pix2pix, steps: 200)
        reportLearningMargin("pix2pix overfits", "L1 after / before", value: r.after / r.before, threshold: 0.4, above: false)
        XCTAssertLessThan(r.after, r.before * 0.4, "pix2pix L1 \(r.before) → \(r.after)")
    }

    func testRunFolderHoldsConfigLogSamplesAndValidation() throws {
        let data = try tinyDataset(size: 32, count: 3)
        try FileManager.default.createDirectory(atPath: data + "/val", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: data + "/train/0.png", toPath: data + "/val/0.png")
        var c = config(.sragan, size: 32)
        c.lambdaPerceptual = 0
        c.epochs = 1
        c.epochsDecay = 1
        c.sampleEverySteps = 2
        c.logEverySteps = 1
        c.saveEveryEpochs = 1
        let run = makeTemporaryFolder(self) + "/run"
        let trainer = try PairedTrainer(config: c, dataRoot: data, runFolder: run, resume: false)
        XCTAssertEqual(try trainer.train(progress: ProgressReporter(every: 100, isTerminal: false), shouldStop: { false }), .finished)
        let folder = RunFolder(path: run)
        XCTAssertEqual(try TrainingConfig.from(json: String(contentsOfFile: folder.configFile, encoding: .utf8)), trainer.config)
        let log = try String(contentsOfFile: folder.logFile, encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(log.count, 6 + 2, "one line per step plus one validation line per epoch")
        let first = try JSONSerialization.jsonObject(with: Data(log[0].utf8)) as! [String: Any]
        for key in ["step", "epoch", "lr", "G_GAN", "G_L1", "D", "steps_per_second"] { XCTAssertNotNil(first[key], key) }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder.samples).sorted(), ["step_0000002.png", "step_0000004.png", "step_0000006.png"])
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder.validation).sorted(), ["epoch_0001.png", "epoch_0002.png"])
        XCTAssertTrue(FileManager.default.fileExists(atPath: folder.epochCheckpoint(2)))
        // The learning rate decays linearly in the second epoch (pix2pix's rule: 1 − 1/2).
        let lrs = log.compactMap { (try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])?["lr"] as? Double }
        XCTAssertEqual(lrs.first, 2e-4)
        XCTAssertEqual(lrs.last!, 1e-4, accuracy: 1e-12)
        XCTAssertThrowsError(try PairedTrainer(config: c, dataRoot: data, runFolder: run, resume: false)) {
            XCTAssertEqual("\($0)", "\(run) already holds a run: pass --resume to continue it, or choose another --name")
        }
    }

    func testNonFiniteLossStopsAndKeepsTheLastCheckpoint() throws {
        // Four pairs, so step 3 falls inside the first epoch (an epoch's end writes a checkpoint).
        let data = try tinyDataset(size: 32, count: 4)
        var c = config(.sragan, size: 32)
        c.lambdaPerceptual = 0
        c.maxSteps = 2
        let run = makeTemporaryFolder(self) + "/run"
        let trainer = try PairedTrainer(config: c, dataRoot: data, runFolder: run, resume: false)
        _ = try trainer.train(progress: ProgressReporter(every: 100, isTerminal: false), shouldStop: { false })
        let saved = try Data(contentsOf: URL(fileURLWithPath: RunFolder(path: run).latestCheckpoint))
        let resumed = try PairedTrainer(config: c, dataRoot: data, runFolder: run, resume: true, maxSteps: 10)
        withNoGrad { resumed.generator.parameters()[0].fillInPlace(.nan) }
        XCTAssertThrowsError(try resumed.train(progress: ProgressReporter(every: 100, isTerminal: false), shouldStop: { false })) {
            XCTAssertTrue("\($0)".hasPrefix("a loss became non-finite at step 3 ("), "\($0)")
        }
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: RunFolder(path: run).latestCheckpoint)), saved, "the last good checkpoint is untouched")
    }

    // MARK: --clip-grad-norm

    func testClipGradNormBoundsEachNetworksGradientAndLogsTheNorms() throws {
        let data = try tinyDataset(size: 32, count: 2)
        var c = config(.sragan, size: 32)
        c.lambdaPerceptual = 0
        c.maxSteps = 2
        c.logEverySteps = 1
        c.gradientClipNorm = 1e-3
        let run = makeTemporaryFolder(self) + "/run"
        let trainer = try PairedTrainer(config: c, dataRoot: data, runFolder: run, resume: false)
        XCTAssertEqual(try trainer.train(progress: ProgressReporter(every: 100, isTerminal: false), shouldStop: { false }), .reachedMaxSteps)
        let log = try String(contentsOfFile: RunFolder(path: run).logFile, encoding: .utf8).split(separator: "\n")
            .map { try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }
        XCTAssertEqual(log.count, 2)
        for (key, network) in [("grad_norm_G", trainer.generator), ("grad_norm_D", trainer.discriminator)] as [(String, Module)] {
            // The norm before clipping, above this tiny bound at every step.
            for record in log { XCTAssertGreaterThan(try XCTUnwrap(record[key] as? Double, key), 1e-3, key) }
            // The last update's gradients stay on the parameters: scaled by 1e-3 / (norm + 1e-6).
            let before = log[1][key] as! Double
            let norm = Tensor.stack(network.trainableParameters().compactMap(\.grad).map { $0.norm() }).norm().item() as Double
            XCTAssertEqual(norm, 1e-3 * before / (before + 1e-6), accuracy: 1e-3 * 1e-5, key)
        }
        XCTAssertEqual(try TrainingConfig.from(json: String(contentsOfFile: RunFolder(path: run).configFile, encoding: .utf8)).gradientClipNorm, 1e-3)
        c.gradientClipNorm = -1
        XCTAssertThrowsError(try c.validate()) {
            XCTAssertEqual("\($0)", "--clip-grad-norm must be 0 (off) or a positive finite norm, got -1.0")
        }
    }

    // MARK: --init-from

    func sameWeights(_ a: Module, _ b: Module) -> Bool {
        let x = Dictionary(a.stateDict(), uniquingKeysWith: { l, _ in l }), y = Dictionary(b.stateDict(), uniquingKeysWith: { l, _ in l })
        return x.keys.sorted() == y.keys.sorted() && x.allSatisfy { k, t in t.shape == y[k]!.shape && (t - y[k]!).abs().max().item() as Double == 0 }
    }

    func testInitFromStartsANewRunFromAnotherRunsWeights() throws {
        let data = try tinyDataset(size: 32, count: 2)
        var c = config(.sragan, size: 32)
        c.maxSteps = 3
        let first = makeTemporaryFolder(self) + "/first"
        let a = try PairedTrainer(config: c, dataRoot: data, runFolder: first, resume: false)
        XCTAssertEqual(try a.train(progress: ProgressReporter(every: 1000, isTerminal: false), shouldStop: { false }), .reachedMaxSteps)

        // A run folder gives its generator and discriminator; the new run starts at step 0.
        var d = c
        d.initFrom = first
        d.seed = c.seed + 1
        let b = try PairedTrainer(config: d, dataRoot: data, runFolder: makeTemporaryFolder(self) + "/second", resume: false)
        XCTAssertEqual(b.warmStarted, ["D", "G"])
        XCTAssertEqual(try GeneratorFile.read(first).otherNetworks.keys.sorted(), ["D"], "one read of the checkpoint gives every network")
        XCTAssertTrue(sameWeights(a.generator, b.generator))
        XCTAssertTrue(sameWeights(a.discriminator, b.discriminator))
        XCTAssertEqual(b.step, 0)
        let fresh = try PairedTrainer(config: { var f = c; f.seed = c.seed + 1; return f }(), dataRoot: data,
                                      runFolder: makeTemporaryFolder(self) + "/fresh", resume: false)
        XCTAssertFalse(sameWeights(a.generator, fresh.generator))

        // An exported model gives the generator only; the discriminator keeps its initialisation.
        let file = makeTemporaryFolder(self) + "/g.safetensors"
        try GeneratorFile.export(a.generator, config: a.config, to: file, half: true)
        d.initFrom = file
        let e = try PairedTrainer(config: d, dataRoot: data, runFolder: makeTemporaryFolder(self) + "/third", resume: false)
        XCTAssertEqual(e.warmStarted, ["G"])
        XCTAssertEqual(try GeneratorFile.read(file).otherNetworks.count, 0)
        XCTAssertTrue(sameWeights(fresh.discriminator, e.discriminator))
        let g = Dictionary(e.generator.stateDict(), uniquingKeysWith: { l, _ in l })
        for (k, t) in a.generator.stateDict() {
            // float16 storage: within half a float16 step of the trained weight.
            XCTAssertLessThanOrEqual((t - g[k]!).abs().max().item() as Double, (t.abs().max().item() as Double) / 1024 + 1e-7, k)
        }

        // Another architecture is refused with the names that differ, before anything changes.
        var p = config(.pix2pix, size: 32)
        p.initFrom = first
        let refused = makeTemporaryFolder(self) + "/fourth"
        XCTAssertThrowsError(try PairedTrainer(config: p, dataRoot: data, runFolder: refused, resume: false)) {
            let text = "\($0)"
            XCTAssertTrue(text.hasPrefix("--init-from \(first): checkpoint network 'D' does not match the model"), text)
            XCTAssertTrue(text.hasSuffix("(it was trained as sragan; start from a run of the same architecture)"), text)
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: refused + "/config.json"))
    }

}
