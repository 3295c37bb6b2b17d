import Foundation
import NN
import Torch
import XCTest
@testable import Sketch2Real

/// Bad input gets a clear error that names the thing and what to change, and nothing is lost.
final class BadInputTests: XCTestCase {
    func tinyOneToOne() throws -> (any SketchToImageGenerator, TrainingConfig) {
        var c = TrainingConfig.defaults(for: .sragan, size: 32)
        (c.sragan.ngf, c.sragan.blocks) = (4, 1)
        c.syncChannels()
        return (try GeneratorFile.make(c), c)
    }

    func testModelsWithNonFiniteWeightsAreRefusedOnLoad() throws {
        let (generator, config) = try tinyOneToOne()
        withNoGrad { generator.namedParameters().first { $0.0.hasSuffix("weight") }!.1.fillInPlace(.nan) }
        let file = makeTemporaryFolder(self) + "/diverged.safetensors"
        try GeneratorFile.export(generator, config: config, to: file)
        XCTAssertThrowsError(try GeneratorFile.load(file)) { error in
            let message = "\(error)"
            XCTAssertTrue(message.hasPrefix("\(file): 1 weight tensor(s) hold NaN or infinite values (encoder.1.weight)"), message)
            XCTAssertTrue(message.contains("export an earlier checkpoint"), message)
        }
    }

    func testMalformedTrainingMetadataIsNamedAsSuch() throws {
        let (generator, config) = try tinyOneToOne()
        let file = makeTemporaryFolder(self) + "/model.safetensors"
        try GeneratorFile.export(generator, config: config, to: file)
        let original = try SafeTensors.load(path: file)
        var metadata = original.metadata
        metadata[GeneratorFile.trainingKey] = "{\"model\": 12"
        try SafeTensors(tensors: original.tensors, metadata: metadata).save(path: file)
        XCTAssertThrowsError(try GeneratorFile.load(file)) { error in
            XCTAssertTrue("\(error)".hasPrefix("\(file): its sketch2real.training metadata is not a readable training configuration"), "\(error)")
        }
    }

    func testDatasetCheckReportsAMissingTrainSplit() throws {
        let root = makeTemporaryFolder(self)
        try FileManager.default.createDirectory(atPath: root + "/test", withIntermediateDirectories: true)
        try ImageGrid.joinedHorizontally([gradientImage(width: 16, height: 16), gradientImage(width: 16, height: 16)])
            .save(path: root + "/test/a.png")
        let report = try DatasetChecker.check(root: root)
        XCTAssertFalse(report.isHealthy)
        XCTAssertEqual(report.splits.first?.split, "train")
        XCTAssertEqual(report.splits.first?.problems.first?.hasPrefix("\(root) has no train split"), true, "\(report.splits)")
    }

    func testOptionsOutsideTheirRangeAreRefused() throws {
        var c = TrainingConfig.defaults(for: .sragan, size: 64)
        c.maxSteps = -1
        XCTAssertThrowsError(try c.validate()) { XCTAssertTrue("\($0)".hasPrefix("--max-steps must be 0"), "\($0)") }
        c.maxSteps = 0
        c.learningRate = .infinity
        XCTAssertThrowsError(try c.validate()) { XCTAssertTrue("\($0)".contains("positive finite number (got inf)"), "\($0)") }
        c.learningRate = 2e-4
        c.lambdaL1 = .nan
        XCTAssertThrowsError(try c.validate()) { XCTAssertEqual("\($0)", "loss weights must be finite and not negative") }
    }

    func testAnEpochWithoutAUsablePairStopsTraining() throws {
        let root = makeTemporaryFolder(self)
        try FileManager.default.createDirectory(atPath: root + "/train", withIntermediateDirectories: true)
        for i in 0 ..< 3 { try Data("not a picture".utf8).write(to: URL(fileURLWithPath: "\(root)/train/\(i).png")) }
        var c = TrainingConfig.defaults(for: .sragan, size: 32)
        (c.sragan.ngf, c.sragan.blocks, c.discriminator.ndf) = (4, 1, 4)
        c.data.preprocess = PreprocessOptions(mode: .none, cropSize: 32, flip: false, multiple: 4)
        (c.epochs, c.epochsDecay, c.loaderWorkers, c.onBadFile) = (5, 0, 1, .skip)
        c.syncChannels()
        let run = makeTemporaryFolder(self) + "/run"
        let trainer = try PairedTrainer(config: c, dataRoot: root, runFolder: run, resume: false)
        XCTAssertThrowsError(try trainer.train(progress: ProgressReporter(every: 1000, isTerminal: false), shouldStop: { false })) { error in
            XCTAssertTrue("\(error)".hasPrefix("epoch 1 yielded no usable training pair: all 3 file(s) of the training split were skipped"), "\(error)")
        }
        let checkpoints = (try? FileManager.default.contentsOfDirectory(atPath: run + "/checkpoints")) ?? []
        XCTAssertEqual(checkpoints, [], "no untrained checkpoint is written")
    }

    func testCommandLineBoundsThreadsAndSamples() throws {
        let threads = try runProgram(["info", "--no-benchmark", "--threads", "100000"])
        XCTAssertNotEqual(threads.status, 0)
        XCTAssertTrue(threads.error.contains("--threads must be at most the \(ProcessInfo.processInfo.activeProcessorCount) processor(s)"), threads.error)
        let sketch = makeTemporaryFolder(self) + "/s.png"
        try gradientImage(width: 16, height: 16).save(path: sketch)
        let samples = try runProgram(["sample", sketch, "--n", "100000", "--out", makeTemporaryFolder(self)])
        XCTAssertNotEqual(samples.status, 0)
        XCTAssertTrue(samples.error.contains("--n must be at most 256 samples per sketch, got 100000"), samples.error)
    }
}

extension BadInputTests {
    func testInputsWithTheSameNameFromTwoFoldersAreAllWritten() throws {
        let root = makeTemporaryFolder(self)
        for folder in ["a", "b"] {
            try FileManager.default.createDirectory(atPath: "\(root)/\(folder)", withIntermediateDirectories: true)
            try gradientImage(width: 24, height: 16, phase: folder == "a" ? 0 : 0.5).save(path: "\(root)/\(folder)/x.png")
        }
        let (generator, config) = try tinyOneToOne()
        let model = root + "/m.safetensors"
        try GeneratorFile.export(generator, config: config, to: model)
        let out = root + "/out"
        let r = try runProgram(["translate", "--model", model, root + "/a", root + "/b", "--out", out])
        XCTAssertEqual(r.status, 0, r.error)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: out).sorted(), ["x-2.png", "x.png"])
        XCTAssertTrue(r.output.contains("note: another input is also named x; \(root)/b/x.png is written as x-2.png"), r.output)
        XCTAssertTrue(r.output.contains("translated 2 of 2 sketches"), r.output)
    }
}
