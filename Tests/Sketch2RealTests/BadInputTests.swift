import Foundation
import NN
import Torch
import XCTest
#if canImport(Glibc)
import Glibc
#endif
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
        c.lambdaL1 = 100
        c.data.preprocess = PreprocessOptions(mode: .resizeAndCrop, loadSize: 100_000, cropSize: 100_000, flip: true, multiple: 4)
        XCTAssertThrowsError(try c.validate()) {
            XCTAssertEqual("\($0)", "image size 100000 is larger than 4096, the largest side this program trains or evaluates on")
        }
        var build = DatasetBuilder.Options()
        build.size = 100_000
        XCTAssertThrowsError(try build.validate()) { XCTAssertEqual("\($0)", "--size must be a multiple of 4 from 16 to 4096, got 100000") }
    }

    /// A configuration (from a model file or the command line) asking for an absurd network is
    /// refused before any layer is built.
    func testAbsurdNetworkSizesAreRefusedBeforeBuilding() throws {
        var g = SRAGANConfig()
        g.blocks = 100_000
        XCTAssertThrowsError(try SRAGANGenerator(g)) { XCTAssertEqual("\($0)", "the residual block count must be at most 64, got 100000") }
        g.blocks = 6
        g.ngf = 1 << 20
        XCTAssertThrowsError(try SRAGANGenerator(g)) { XCTAssertEqual("\($0)", "ngf must be at most 1024, got 1048576") }
        var c = TrainingConfig.defaults(for: .pix2pix, size: 64)
        c.discriminator.ndf = 5000
        XCTAssertThrowsError(try c.validate()) { XCTAssertEqual("\($0)", "ndf must be at most 1024, got 5000") }
    }

    /// An `--out` or `--runs` that is a file: the path and the reason, not a Foundation dump.
    func testFileSystemErrorsNameThePathAndTheReason() throws {
        let file = makeTemporaryFolder(self) + "/afile"
        XCTAssertTrue(FileManager.default.createFile(atPath: file, contents: Data("x".utf8)))
        let data = makeTemporaryFolder(self)
        try writeAlignedDataset(root: data, counts: ["train": 1], size: 64)
        let train = try runProgram(["train", "--data", data, "--runs", file, "--name", "x", "--size", "64", "--max-steps", "1"])
        XCTAssertNotEqual(train.status, 0)
        XCTAssertTrue(train.error.contains("\(file)/x: Not a directory"), train.error)
        XCTAssertFalse(train.error.contains("NSCocoaErrorDomain"), train.error)
        let synth = try runProgram(["dataset", "synth", "--count", "8", "--modes", "4", "--size", "32", "--out", file + "/d"])
        XCTAssertNotEqual(synth.status, 0)
        XCTAssertFalse(synth.error.contains("NSCocoaErrorDomain"), synth.error)
        XCTAssertTrue(synth.error.contains("Not a directory"), synth.error)
    }

    /// `--size 100000` is refused before anything is allocated or written.
    func testHugeSizesAreRefusedByTheCommandLine() throws {
        let data = makeTemporaryFolder(self)
        try writeAlignedDataset(root: data, counts: ["train": 1], size: 32)
        let runs = makeTemporaryFolder(self)
        let train = try runProgram(["train", "--data", data, "--runs", runs, "--name", "huge", "--size", "100000"])
        XCTAssertNotEqual(train.status, 0)
        XCTAssertTrue(train.error.contains("image size 100000 is larger than 4096"), train.error)
        XCTAssertFalse(FileManager.default.fileExists(atPath: runs + "/huge/checkpoints"), "no run folder is started")
        let eval = try runProgram(["eval", "--model", runs + "/huge", "--data", data, "--size", "100000", "--out", makeTemporaryFolder(self)])
        XCTAssertNotEqual(eval.status, 0)
        XCTAssertTrue(eval.error.contains("--size must be from 16 to 4096, got 100000."), eval.error)
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

extension BadInputTests {
    /// `--batch-size -1` reaches the range check instead of "Missing value".
    func testNegativeNumbersReachTheRangeCheck() throws {
        let data = makeTemporaryFolder(self)
        try writeAlignedDataset(root: data, counts: ["train": 1], size: 32)
        let runs = makeTemporaryFolder(self)
        let train = try runProgram(["train", "--data", data, "--runs", runs, "--name", "n", "--size", "32", "--batch-size", "-1"])
        XCTAssertNotEqual(train.status, 0)
        XCTAssertTrue(train.error.contains("--batch-size must be at least 1, got -1"), train.error)
        XCTAssertFalse(train.error.contains("Missing value"), train.error)
        let info = try runProgram(["info", "--no-benchmark", "--threads", "-2"])
        XCTAssertNotEqual(info.status, 0)
        XCTAssertTrue(info.error.contains("--threads must be at least 1, got -2"), info.error)
    }

    /// A file whose name is not UTF-8 is reported as such (not "no such file"), and the other
    /// files of its folder are still translated.
    func testNamesThatAreNotUTF8AreExplainedAndTheRestContinues() throws {
        let root = makeTemporaryFolder(self)
        try FileManager.default.createDirectory(atPath: root + "/in", withIntermediateDirectories: true)
        try gradientImage(width: 24, height: 16).save(path: root + "/in/good.png")
        // "caf\xE9.png" in Latin-1: created with the raw bytes, which no Swift String can hold.
        let png = try gradientImage(width: 24, height: 16).encoded(fileExtension: "png")
        var name = Array((root + "/in/caf").utf8CString.dropLast()) + [CChar(bitPattern: 0xE9)] + Array(".png".utf8CString)
        let fd = name.withUnsafeMutableBufferPointer { open($0.baseAddress!, O_CREAT | O_WRONLY, 0o644) }
        XCTAssertGreaterThanOrEqual(fd, 0)
        _ = png.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        close(fd)
        let (generator, config) = try tinyOneToOne()
        let model = root + "/m.safetensors"
        try GeneratorFile.export(generator, config: config, to: model)
        let out = root + "/out"
        let r = try runProgram(["translate", "--model", model, root + "/in", "--out", out])
        XCTAssertTrue((r.error + r.output).contains("it is not valid UTF-8"), r.error + r.output)
        XCTAssertFalse((r.error + r.output).contains("no such file"), r.error + r.output)
        XCTAssertTrue(FileManager.default.fileExists(atPath: out + "/good.png"), "the good sibling is written")
    }
}

extension BadInputTests {
    /// Errors from `--vgg19-weights` and from a model file's stored configuration name the file.
    func testWeightAndModelFileErrorsNameTheFile() throws {
        let folder = makeTemporaryFolder(self)
        XCTAssertThrowsError(try VGG19Features(weightsPath: folder + "/nope.safetensors")) {
            XCTAssertEqual("\($0)", "--vgg19-weights \(folder)/nope.safetensors: no such file")
        }
        let wrong = folder + "/wrong.safetensors"
        try SafeTensors(tensors: [(name: "x", tensor: Tensor.zeros([2]))]).save(path: wrong)
        XCTAssertThrowsError(try VGG19Features(weightsPath: wrong)) {
            XCTAssertTrue("\($0)".hasPrefix("--vgg19-weights \(wrong): "), "\($0)")
            XCTAssertTrue("\($0)".contains("expected torchvision's VGG19"), "\($0)")
        }
        let (generator, config) = try tinyOneToOne()
        let file = folder + "/model.safetensors"
        try GeneratorFile.export(generator, config: config, to: file)
        let original = try SafeTensors.load(path: file)
        var metadata = original.metadata
        let json = metadata[GeneratorFile.trainingKey]!
        let edited = json.replacingOccurrences(of: "\"ngf\"\\s*:\\s*4\\b", with: "\"ngf\": 5000", options: .regularExpression)
        XCTAssertNotEqual(edited, json, "the stored configuration names ngf")
        metadata[GeneratorFile.trainingKey] = edited
        try SafeTensors(tensors: original.tensors, metadata: metadata).save(path: file)
        XCTAssertThrowsError(try GeneratorFile.load(file)) {
            XCTAssertEqual("\($0)", "\(file): its stored model configuration cannot be built (ngf must be at most 1024, got 5000); export the model again with `sketch2real export`")
        }
    }
}
