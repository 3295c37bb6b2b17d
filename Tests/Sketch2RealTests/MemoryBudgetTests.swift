import Foundation
import NN
import Torch
import XCTest
@testable import Sketch2Real

/// The memory estimate bounds what a job really uses, and a job that would not fit is refused
/// with both numbers before anything is allocated.
final class MemoryBudgetTests: XCTestCase {
    /// Translating a 512² sketch with the bundled SRAGAN: resident memory rises by less than the
    /// estimate, and the estimate is not absurdly larger than that rise.
    func testTheEstimateBoundsWhatTranslationUses() throws {
        guard residentBytes() != nil else { throw XCTSkip("/proc/self/statm is not available") }
        let (generator, _) = try GeneratorFile.load(BundledModels.path(BundledModels.translation))
        let translator = Translator(generator: generator)
        let sketch = gradientImage(width: 512, height: 512)
        _ = try translator.translate(gradientImage(width: 64, height: 64))  // kernels and pools warmed up
        let estimate = MemoryBudget.inferenceCost(generator).bytes(width: 512, height: 512)
        let before = residentBytes()!
        let peak = PeakSampler { residentBytes() ?? 0 }
        _ = try translator.translate(sketch)
        let rise = peak.stop() - before
        print(String(format: "MemoryBudget: 512² SRAGAN translation: resident memory rose by %.0f MiB, estimate %.0f MiB (%.1f×)",
                     rise / 1_048_576, estimate / 1_048_576, estimate / max(rise, 1)))
        XCTAssertLessThan(rise, estimate, "the estimate is an upper bound")
        XCTAssertLessThan(estimate, 8 * max(rise, 64 * 1_048_576), "the estimate is not absurdly pessimistic")
    }

    /// The activation part grows linearly with the batch and with the crop's pixels; the
    /// weights' part stays.
    func testTrainingEstimatesGrowWithTheBatchAndTheCrop() throws {
        func estimate(size: Int, batch: Int) throws -> Double {
            var c = TrainingConfig.defaults(for: .sragan, size: size)
            c.lambdaPerceptual = 0
            c.batchSize = batch
            return try MemoryBudget.trainingBytes(c)
        }
        let (b1, b2, b4) = (try estimate(size: 64, batch: 1), try estimate(size: 64, batch: 2), try estimate(size: 64, batch: 4))
        let perImage = b2 - b1, weights = b1 - perImage
        XCTAssertGreaterThan(perImage, 0)
        XCTAssertEqual(b4 - b2, 2 * perImage, accuracy: 1e-6 * b4)
        XCTAssertEqual(try estimate(size: 128, batch: 1) - weights, 4 * perImage, accuracy: 1e-6 * b4)
    }

    /// A two-scale PatchGAN's coarser scale is probed at a side it accepts: at 128² (which it
    /// accepts) the check measures instead of failing inside libtorch, as it did at the
    /// generator's 32-pixel probe.
    func testAMultiScaleDiscriminatorIsProbedAtASideItAccepts() throws {
        var c = TrainingConfig.defaults(for: .sragan, size: 128)
        c.lambdaPerceptual = 0
        c.discriminator.scales = 2
        XCTAssertTrue(c.discriminator.accepts(side: 128))
        XCTAssertFalse(c.discriminator.accepts(side: 32))
        XCTAssertGreaterThan(try MemoryBudget.trainingBytes(c), 0)
    }

    /// The trainer checks memory on the networks it built, and probing them changes nothing the
    /// run trains with: as many modules are built with the check as without it, and a step after
    /// it gives the same weights — batch-norm statistics, dropout and spectral norm included.
    func testTheTrainingCheckProbesTheTrainersNetworksWithoutChangingThem() throws {
        let data = makeTemporaryFolder(self)
        try writeAlignedDataset(root: data, counts: ["train": 2], size: 32)
        var config = TrainingConfig.defaults(for: .sragan, size: 32)
        config.lambdaPerceptual = 0
        (config.sragan.ngf, config.sragan.blocks, config.discriminator.ndf) = (8, 1, 8)
        (config.sragan.norm, config.discriminator.norm) = (.batch, .batch)
        config.sragan.dropout = true
        config.discriminator.spectralNorm = true
        (config.batchSize, config.maxSteps, config.augment) = (2, 1, nil)
        var constructed: [Int] = [], weights: [[String: [Float]]] = []
        for checked in [false, true] {
            let before = Module.constructedCount
            let trainer = try Trainer.make(config: config, dataRoot: data, runFolder: makeTemporaryFolder(self) + "/run", resume: false,
                                           checkMemory: checked)
            constructed.append(Module.constructedCount - before)
            _ = try trainer.train(progress: ProgressReporter(silent: true), shouldStop: { false })
            weights.append(Dictionary(uniqueKeysWithValues: trainer.trainedGenerator.stateDict().map { ($0.0, $0.1.to(.float32).toArray(Float.self)) }))
        }
        XCTAssertEqual(constructed[0], constructed[1], "the check builds no network of its own")
        XCTAssertEqual(weights[0].keys.sorted(), weights[1].keys.sorted())
        for (name, w) in weights[0] { XCTAssertEqual(w, weights[1][name], "\(name) differs after the check") }
    }

    func testRefusalsSayWhatIsNeededAndWhatIsAvailable() throws {
        let available = MemoryBudget.Available(bytes: 100 << 20, source: "MemAvailable")
        XCTAssertNil(MemoryBudget.refusal(needs: 50 * 1_048_576, for: "x", available: available))
        XCTAssertEqual(MemoryBudget.refusal(needs: 3 * 1_073_741_824, for: "a.png: translating 9000×9000 pixels", available: available),
                       "a.png: translating 9000×9000 pixels needs about 3.0 GiB of memory, but 100 MiB is available (MemAvailable); use a smaller size or batch, or pass --ignore-memory-limit to try anyway")
        XCTAssertEqual(MemoryBudget.parseBytes("512M"), 512 << 20)
        XCTAssertEqual(MemoryBudget.parseBytes("2g"), 2 << 30)
        XCTAssertEqual(MemoryBudget.parseBytes("1000"), 1000)
        XCTAssertNil(MemoryBudget.parseBytes("lots"))
    }

    /// Under a limit of 64 MiB: `translate` refuses the large sketch by name and still writes the
    /// small one; `train` refuses before creating a run folder; both go ahead with
    /// --ignore-memory-limit.
    func testCommandsRefuseJobsThatDoNotFit() throws {
        let root = makeTemporaryFolder(self)
        try FileManager.default.createDirectory(atPath: root + "/in", withIntermediateDirectories: true)
        try gradientImage(width: 32, height: 32).save(path: root + "/in/small.png")
        try gradientImage(width: 1600, height: 1600).save(path: root + "/in/large.png")
        let limited = ["SKETCH2REAL_MEMORY_LIMIT": "64M"]
        let model = try BundledModels.path(BundledModels.translation)
        let translated = try runProgram(["translate", "--model", model, root + "/in", "--out", root + "/out"], environment: limited)
        XCTAssertNotEqual(translated.status, 0)
        XCTAssertTrue(translated.error.contains("\(root)/in/large.png: translating 1600×1600 pixels needs about"), translated.error)
        XCTAssertTrue(translated.error.contains("($SKETCH2REAL_MEMORY_LIMIT)"), translated.error)
        XCTAssertTrue(FileManager.default.fileExists(atPath: root + "/out/small.png"))
        XCTAssertFalse(FileManager.default.fileExists(atPath: root + "/out/large.png"))

        let data = root + "/data"
        try writeAlignedDataset(root: data, counts: ["train": 2], size: 256)
        let train = try runProgram(["train", "--data", data, "--runs", root + "/runs", "--name", "big", "--size", "256", "--batch-size", "8", "--max-steps", "1"],
                                   environment: limited)
        XCTAssertNotEqual(train.status, 0)
        XCTAssertTrue(train.error.contains("training sragan on 256² crops in batches of 8 needs about"), train.error)
        XCTAssertFalse(FileManager.default.fileExists(atPath: root + "/runs/big"), "nothing is started")
    }
}

/// This process's resident memory in bytes, from /proc/self/statm.
func residentBytes() -> Double? {
    guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8),
          let pages = text.split(separator: " ").dropFirst().first.flatMap({ Double($0) }) else { return nil }
    return pages * Double(sysconf(Int32(_SC_PAGESIZE)))
}

/// Samples a value on a background thread every few milliseconds until stopped; returns the peak.
final class PeakSampler: @unchecked Sendable {
    private let lock = NSLock()
    private var peak = 0.0
    private var running = true
    private let done = DispatchSemaphore(value: 0)

    init(_ read: @escaping @Sendable () -> Double) {
        Thread { [self] in
            while lock.withLock({ running }) {
                let v = read()
                lock.withLock { peak = Swift.max(peak, v) }
                usleep(2_000)
            }
            done.signal()
        }.start()
    }

    func stop() -> Double {
        lock.withLock { running = false }
        done.wait()
        return lock.withLock { peak }
    }
}
