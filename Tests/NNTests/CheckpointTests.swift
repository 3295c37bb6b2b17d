import Foundation
import NN
import Torch
import XCTest

final class CheckpointTests: XCTestCase {
    /// Conv, batch norm (an int64 buffer), dropout (so the RNG state matters) and a
    /// spectrally normalised conv (power-iteration buffers).
    static func makeGenerator(lastKernel: Int = 3, spectral: Bool = true) -> Sequential {
        let last = Conv2d(4, 3, kernelSize: Size2(lastKernel), padding: Size2(lastKernel / 2))
        if spectral { last.applySpectralNorm() }
        return Sequential(Conv2d(3, 4, kernelSize: 3, padding: 1), BatchNorm2d(4), LeakyReLU(0.2), Dropout(0.5), last)
    }

    static func makeDiscriminator() -> Sequential {
        Sequential(Conv2d(3, 2, kernelSize: 4, stride: 2, padding: 1), LeakyReLU(0.2), Linear(4, 1))
    }

    /// Everything a training run checkpoints.
    struct Run {
        let generator = CheckpointTests.makeGenerator()
        let discriminator = CheckpointTests.makeDiscriminator()
        let gOptimizer: Adam
        let dOptimizer: SGD
        let scheduler: LearningRateScheduler

        init() {
            gOptimizer = Adam(generator.parameters(), learningRate: 2e-3, betas: (0.5, 0.999))
            dOptimizer = SGD(discriminator.parameters(), learningRate: 1e-2, momentum: 0.9)
            scheduler = LearningRateScheduler(.step(stepSize: 1, gamma: 0.5), optimizers: [gOptimizer, dOptimizer])
        }

        /// One step on fresh random data; the scheduler advances every second step.
        func train(step: Int) {
            let x = Tensor.randn([2, 3, 8, 8])
            let target = Tensor.randn([2, 3, 8, 8]) * 0.5
            gOptimizer.zeroGrad()
            generator(x).mseLoss(target).backward()
            gOptimizer.step()
            dOptimizer.zeroGrad()
            discriminator(x).mean().backward()
            dOptimizer.step()
            if step % 2 == 1 { scheduler.step() }
        }

        func checkpoint(step: Int, epoch: Int, configuration: String = #"{"netG":"tiny","ngf":4}"#,
                        extra: [String: String] = [:]) -> Checkpoint {
            Checkpoint(step: step, epoch: epoch, configuration: configuration, extra: extra,
                       networks: ["generator": generator, "discriminator": discriminator],
                       optimizers: ["G": gOptimizer, "D": dOptimizer], schedulers: ["lr": scheduler])
        }

        func restore(_ c: Checkpoint, rng: Bool = true) throws {
            try c.restore(networks: ["generator": generator, "discriminator": discriminator],
                          optimizers: ["G": gOptimizer, "D": dOptimizer], schedulers: ["lr": scheduler], restoreRNG: rng)
        }
    }

    func savedRun(steps: Int, in folder: String) throws -> (Run, Checkpoint, String) {
        Torch.manualSeed(21)
        let run = Run()
        for step in 0 ..< steps { run.train(step: step) }
        let c = run.checkpoint(step: steps, epoch: steps / 2, extra: ["note": "Sketch→Real ✓", "best_loss": "0.125"])
        let path = folder + "/ckpt.safetensors"
        try c.save(path: path)
        return (run, c, path)
    }

    static func assertSameOptimizerState(_ a: OptimizerState, _ b: OptimizerState, _ what: String,
                                         file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a.tensors.map(\.name), b.tensors.map(\.name), "\(what): names", file: file, line: line)
        for (x, y) in zip(a.tensors, b.tensors) { assertIdentical(x.tensor, y.tensor, "\(what): \(x.name)", file: file, line: line) }
        XCTAssertEqual(a.hyperparameters, b.hyperparameters, "\(what): hyperparameters", file: file, line: line)
    }

    // MARK: Round trip

    func testRoundTripIsBitIdentical() throws {
        let folder = try temporaryFolder(self)
        let (run, original, path) = try savedRun(steps: 3, in: folder)
        let fileBytes = try Data(contentsOf: URL(fileURLWithPath: path))
        XCTAssertEqual(try original.encode(), fileBytes, "encoding is deterministic")

        let loaded = try Checkpoint.load(path: path)
        XCTAssertEqual(loaded.step, 3)
        XCTAssertEqual(loaded.epoch, 1)
        XCTAssertEqual(loaded.configuration, #"{"netG":"tiny","ngf":4}"#)
        XCTAssertEqual(loaded.extra, ["note": "Sketch→Real ✓", "best_loss": "0.125"])
        XCTAssertEqual(loaded.schedulers, ["lr": run.scheduler.state])
        XCTAssertEqual(loaded.rngState, original.rngState)
        XCTAssertNotNil(loaded.rngState)
        XCTAssertEqual(Set(loaded.networks.keys), ["generator", "discriminator"])
        for (name, module) in [("generator", run.generator as Module), ("discriminator", run.discriminator)] {
            let stored = loaded.networks[name]!
            XCTAssertEqual(stored.keys.sorted(), module.stateDict().map(\.0).sorted())
            for (key, t) in module.stateDict() { assertIdentical(stored[key], t, "\(name).\(key)") }
        }
        Self.assertSameOptimizerState(loaded.optimizers["G"]!, run.gOptimizer.state(), "G")
        Self.assertSameOptimizerState(loaded.optimizers["D"]!, run.dOptimizer.state(), "D")
        XCTAssertEqual(try loaded.encode(), fileBytes, "decode then encode gives the same file")

        // Into fresh objects with other weights, other optimiser state and another RNG state.
        Torch.manualSeed(99)
        let fresh = Run()
        fresh.train(step: 0)
        try fresh.restore(loaded)
        assertIdentical(snapshot(fresh.generator), snapshot(run.generator), "generator")
        assertIdentical(snapshot(fresh.discriminator), snapshot(run.discriminator), "discriminator")
        Self.assertSameOptimizerState(fresh.gOptimizer.state(), run.gOptimizer.state(), "G restored")
        Self.assertSameOptimizerState(fresh.dOptimizer.state(), run.dOptimizer.state(), "D restored")
        XCTAssertEqual(fresh.scheduler.state, run.scheduler.state)
        XCTAssertEqual(fresh.gOptimizer.learningRate, run.gOptimizer.learningRate)
        XCTAssertEqual(Torch.rngState(), original.rngState)

        // Every byte: a checkpoint of the restored objects is the same file.
        let again = fresh.checkpoint(step: loaded.step, epoch: loaded.epoch, configuration: loaded.configuration,
                                     extra: loaded.extra)
        XCTAssertEqual(try again.encode(), fileBytes)
    }

    func testCheckpointWithoutRNGStateLeavesTheRNGAlone() throws {
        let folder = try temporaryFolder(self)
        Torch.manualSeed(3)
        let run = Run()
        let c = Checkpoint(step: 0, epoch: 0, configuration: "{}", networks: ["generator": run.generator], includeRNG: false)
        try c.save(path: folder + "/c.safetensors")
        let loaded = try Checkpoint.load(path: folder + "/c.safetensors")
        XCTAssertNil(loaded.rngState)
        XCTAssertTrue(loaded.optimizers.isEmpty)
        XCTAssertTrue(loaded.schedulers.isEmpty)
        Torch.manualSeed(4)
        let before = Torch.rngState()
        try loaded.restore(networks: ["generator": run.generator])
        XCTAssertEqual(Torch.rngState(), before)
    }

    // MARK: Resume

    /// N steps, checkpoint, M more in a "new process" (fresh objects, reseeded RNG)
    /// must give the weights of N + M steps straight, to the bit.
    func testResumeContinuesBitIdentically() throws {
        let folder = try temporaryFolder(self)
        let (n, m) = (3, 4)

        Torch.manualSeed(21)
        let straight = Run()
        for step in 0 ..< n + m { straight.train(step: step) }

        _ = try savedRun(steps: n, in: folder)
        Torch.manualSeed(12345)
        let resumed = Run()
        let c = try Checkpoint.load(path: folder + "/ckpt.safetensors")
        try resumed.restore(c)
        for step in c.step ..< n + m { resumed.train(step: step) }

        assertIdentical(snapshot(resumed.generator), snapshot(straight.generator), "generator")
        assertIdentical(snapshot(resumed.discriminator), snapshot(straight.discriminator), "discriminator")
        Self.assertSameOptimizerState(resumed.gOptimizer.state(), straight.gOptimizer.state(), "G")
        Self.assertSameOptimizerState(resumed.dOptimizer.state(), straight.dOptimizer.state(), "D")
        XCTAssertEqual(resumed.scheduler.state, straight.scheduler.state)

        // Without the RNG state the data and dropout masks differ, so the comparison above
        // does depend on the checkpoint restoring it.
        Torch.manualSeed(12345)
        let noRNG = Run()
        try noRNG.restore(c, rng: false)
        for step in c.step ..< n + m { noRNG.train(step: step) }
        XCTAssertNotEqual(noRNG.generator.stateDict()[0].1.bytes(), straight.generator.stateDict()[0].1.bytes())
    }

    // MARK: Damaged and foreign files

    func headerLength(_ data: Data) -> UInt64 {
        data.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
    }

    func header(_ data: Data) -> (length: Int, dataStart: Int) {
        let n = Int(headerLength(data))
        return (n, 8 + n)
    }

    func testFlippedDataByteIsReportedAsDamage() throws {
        let folder = try temporaryFolder(self)
        let (_, _, path) = try savedRun(steps: 1, in: folder)
        var data = try Data(contentsOf: URL(fileURLWithPath: path))
        let recorded = try XCTUnwrap(SafeTensors.decode(data).metadata["checksum"])
        let start = header(data).dataStart
        for offset in [start, start + 37, data.count - 1] {
            var damaged = data
            damaged[offset] ^= 0x10
            try damaged.write(to: URL(fileURLWithPath: path))
            let message = errorMessage { _ = try Checkpoint.load(path: path) }
            XCTAssertTrue(message.hasPrefix("\(path): checkpoint is damaged (checksum "), message)
            XCTAssertTrue(message.hasSuffix(" does not match the recorded \(recorded.dropFirst(6)))"), message)
            XCTAssertNotNil(message.range(of: #"checksum [0-9a-f]{8} does not"#, options: .regularExpression), message)
        }

        // The metadata is covered too: a step count edited in place is damage as well.
        let field = Data(#""step":"1""#.utf8)
        let range = try XCTUnwrap(data.range(of: field, in: 8 ..< start))
        data.replaceSubrange(range, with: Data(#""step":"2""#.utf8))
        try data.write(to: URL(fileURLWithPath: path))
        XCTAssertTrue(errorMessage { _ = try Checkpoint.load(path: path) }.contains("checkpoint is damaged"))
    }

    func testTruncatedFilesAreReportedAsTruncated() throws {
        let folder = try temporaryFolder(self)
        let (_, _, path) = try savedRun(steps: 1, in: folder)
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        let (length, start) = header(data)

        let cut = data.count - 100
        try data.prefix(cut).write(to: URL(fileURLWithPath: path))
        let inData = errorMessage { _ = try Checkpoint.load(path: path) }
        XCTAssertTrue(inData.hasPrefix("\(path): truncated (tensor '"), inData)
        XCTAssertTrue(inData.hasSuffix("of the data, which has \(cut - start)) — not a readable checkpoint"), inData)

        try data.prefix(20).write(to: URL(fileURLWithPath: path))
        XCTAssertEqual(errorMessage { _ = try Checkpoint.load(path: path) },
                       "\(path): truncated or not a safetensors file (header needs \(length) bytes, file has 12 after the length) — not a readable checkpoint")

        try data.prefix(5).write(to: URL(fileURLWithPath: path))
        XCTAssertEqual(errorMessage { _ = try Checkpoint.load(path: path) },
                       "\(path): not a safetensors file (only 5 bytes) — not a readable checkpoint")
    }

    func testForeignFilesAreRefused() throws {
        let folder = try temporaryFolder(self)
        let path = folder + "/foreign"

        // Pseudo-random bytes (a fixed linear congruential sequence, so the message is known).
        var state: UInt64 = 0x2545_F491_4F6C_DD1D
        let noise = Data((0 ..< 4096).map { _ -> UInt8 in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return UInt8(truncatingIfNeeded: state >> 56)
        })
        try noise.write(to: URL(fileURLWithPath: path))
        XCTAssertEqual(errorMessage { _ = try Checkpoint.load(path: path) },
                       "\(path): not a safetensors file (header length \(headerLength(noise)) is implausible) — not a readable checkpoint")

        // The start of a PNG file: signature and IHDR chunk.
        let png = Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52,
                        0, 0, 0, 1, 0, 0, 0, 1, 8, 6, 0, 0, 0, 0x1F, 0x15, 0xC4, 0x89])
        try png.write(to: URL(fileURLWithPath: path))
        XCTAssertEqual(errorMessage { _ = try Checkpoint.load(path: path) },
                       "\(path): not a safetensors file (header length 727905341920923785 is implausible) — not a readable checkpoint")

        // A valid safetensors file (weights only, as Python's safetensors writes them).
        try SafeTensors(tensors: [("weight", Tensor.ones([2, 2]))]).save(path: path)
        XCTAssertEqual(errorMessage { _ = try Checkpoint.load(path: path) },
                       "\(path): not a Sketch2Real checkpoint (safetensors file without format 'sketch2real-checkpoint')")

        try SafeTensors(tensors: [("weight", Tensor.ones([2]))],
                        metadata: ["format": "sketch2real-checkpoint", "format_version": "1"]).save(path: path)
        XCTAssertEqual(errorMessage { _ = try Checkpoint.load(path: path) }, "\(path): checkpoint has no checksum")

        // A JSON header that is not an object.
        var notJSON = Data()
        withUnsafeBytes(of: UInt64(8).littleEndian) { notJSON.append(contentsOf: $0) }
        notJSON.append(Data("[1,2,3] ".utf8))
        try notJSON.write(to: URL(fileURLWithPath: path))
        XCTAssertEqual(errorMessage { _ = try Checkpoint.load(path: path) },
                       "\(path): not a safetensors file (header is not a JSON object) — not a readable checkpoint")

        XCTAssertEqual(errorMessage { _ = try Checkpoint.load(path: folder + "/missing") }, "\(folder)/missing: no such checkpoint")
    }

    func testNewerFormatVersionIsRefused() throws {
        let folder = try temporaryFolder(self)
        let (_, _, path) = try savedRun(steps: 1, in: folder)
        var data = try Data(contentsOf: URL(fileURLWithPath: path))
        let range = try XCTUnwrap(data.range(of: Data(#""format_version":"1""#.utf8)))
        data.replaceSubrange(range, with: Data(#""format_version":"9""#.utf8))
        try data.write(to: URL(fileURLWithPath: path))
        XCTAssertEqual(errorMessage { _ = try Checkpoint.load(path: path) },
                       "\(path): checkpoint format version 9 is not supported (expected 1)")
    }

    // MARK: Wrong model

    func testWrongModelIsRefusedAndLeftUnchanged() throws {
        let folder = try temporaryFolder(self)
        let (_, _, path) = try savedRun(steps: 1, in: folder)
        let c = try Checkpoint.load(path: path)

        Torch.manualSeed(8)
        let wider = Self.makeGenerator(lastKernel: 5)
        let before = snapshot(wider)
        XCTAssertEqual(errorMessage { try c.restore(networks: ["generator": wider]) },
                       "checkpoint network 'generator' does not match the model: 4.weight_orig is [3, 4, 3, 3] in the checkpoint but [3, 4, 5, 5] in the model; 4.weight_v is [36] in the checkpoint but [100] in the model")
        assertIdentical(snapshot(wider), before, "mismatched model")

        let plain = Self.makeGenerator(spectral: false)
        let plainBefore = snapshot(plain)
        XCTAssertEqual(errorMessage { try c.restore(networks: ["generator": plain]) },
                       "checkpoint network 'generator' does not match the model: missing 4.weight; unexpected 4.weight_orig, 4.weight_u, 4.weight_v")
        assertIdentical(snapshot(plain), plainBefore, "model without spectral norm")

        // One matching and one mismatching network: neither changes.
        let generator = Self.makeGenerator()
        let generatorBefore = snapshot(generator)
        let discriminator = Sequential(Conv2d(3, 2, kernelSize: 4, stride: 2, padding: 1), LeakyReLU(0.2), Linear(4, 2))
        XCTAssertEqual(errorMessage { try c.restore(networks: ["generator": generator, "discriminator": discriminator]) },
                       "checkpoint network 'discriminator' does not match the model: 2.bias is [1] in the checkpoint but [2] in the model; 2.weight is [1, 4] in the checkpoint but [2, 4] in the model")
        assertIdentical(snapshot(generator), generatorBefore, "matching network next to a mismatching one")

        XCTAssertEqual(errorMessage { try c.restore(networks: ["critic": generator]) },
                       "checkpoint has no network 'critic' (it has: discriminator, generator)")
        XCTAssertEqual(errorMessage { try c.restore(networks: [:], optimizers: ["E": Adam([])]) },
                       "checkpoint has no optimizer 'E'")
        XCTAssertEqual(errorMessage {
            try c.restore(networks: [:], schedulers: ["x": LearningRateScheduler(.constant, optimizers: [])])
        }, "checkpoint has no scheduler 'x'")
        assertIdentical(snapshot(generator), generatorBefore, "after refused restores")
    }

    // MARK: Atomic saves

    func testSavesLeaveNoTemporaryFiles() throws {
        let folder = try temporaryFolder(self)
        let (run, _, path) = try savedRun(steps: 1, in: folder)
        XCTAssertEqual(try folderContents(folder), ["ckpt.safetensors"])

        // Overwriting replaces the file as a whole.
        try run.checkpoint(step: 42, epoch: 5).save(path: path)
        XCTAssertEqual(try folderContents(folder), ["ckpt.safetensors"])
        XCTAssertEqual(try Checkpoint.load(path: path).step, 42)

        // A failed rename (the destination is a folder) cleans up after itself.
        try FileManager.default.createDirectory(atPath: folder + "/taken", withIntermediateDirectories: false)
        let message = errorMessage { try run.checkpoint(step: 1, epoch: 0).save(path: folder + "/taken") }
        XCTAssertTrue(message.hasPrefix("cannot write \(folder)/taken: "), message)
        XCTAssertEqual(try folderContents(folder), ["ckpt.safetensors", "taken"])

        XCTAssertEqual(errorMessage { try run.checkpoint(step: 1, epoch: 0).save(path: folder + "/absent/c.safetensors") },
                       "cannot write \(folder)/absent/c.safetensors: folder \(folder)/absent does not exist")
        XCTAssertEqual(try folderContents(folder), ["ckpt.safetensors", "taken"])
    }
}
