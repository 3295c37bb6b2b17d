import Foundation
import NN
import Torch
import XCTest
@testable import Sketch2Real

/// Training, resuming, interrupting and translating through the `sketch2real` program itself.
final class TrainingCommandTests: XCTestCase {
    func dataset(count: Int = 5, size: Int = 40) throws -> String {
        let root = makeTemporaryFolder(self)
        try writeAlignedDataset(root: root, counts: ["train": count], size: size)
        return root
    }

    func trainArguments(data: String, runs: String, name: String) -> [String] {
        ["train", "--model", "pix2pix", "--generator", "resnet6", "--data", data, "--runs", runs, "--name", name,
         "--size", "32", "--load-size", "36", "--ngf", "8", "--ndf", "8", "--input-channels", "3",
         "--epochs", "2", "--epochs-decay", "2", "--sample-every", "0", "--log-every", "1", "--workers", "1"]
    }

    func checkpointBytes(_ run: String) throws -> Checkpoint {
        try Checkpoint.load(path: RunFolder(path: run).latestCheckpoint)
    }

    /// N steps straight equal N/2 steps, exit, and a resumed process running to N, bit for bit
    /// (dropout in the generator makes the random generator's state matter).
    func testResumeInANewProcessIsBitIdentical() throws {
        let data = try dataset()
        let runs = makeTemporaryFolder(self)
        var r = try runProgram(trainArguments(data: data, runs: runs, name: "straight") + ["--max-steps", "8"])
        XCTAssertEqual(r.status, 0, r.error + r.output)
        r = try runProgram(trainArguments(data: data, runs: runs, name: "split") + ["--max-steps", "4"])
        XCTAssertEqual(r.status, 0, r.error + r.output)
        // What a kill after step 6 leaves: log records past the checkpoint, a line cut short
        // and a temporary file from a checkpoint write.
        let split = RunFolder(path: runs + "/split")
        let logged = try String(contentsOfFile: split.logFile, encoding: .utf8)
        try (logged + "{\"lr\":0.0002,\"step\":5}\n{\"lr\":0.0002,\"step\":6}\n{\"lr\":0.00").write(toFile: split.logFile, atomically: true, encoding: .utf8)
        let stale = split.checkpoints + "/.latest.safetensors.tmp-123-456"
        XCTAssertTrue(FileManager.default.createFile(atPath: stale, contents: Data(repeating: 7, count: 100)))
        r = try runProgram(["train", "--data", data, "--runs", runs, "--name", "split", "--resume", "--max-steps", "8"])
        XCTAssertEqual(r.status, 0, r.error + r.output)
        XCTAssertTrue(r.output.contains("resuming at step 4, epoch 1"), r.output)
        XCTAssertFalse(FileManager.default.fileExists(atPath: stale), "the interrupted write's temporary file is removed")
        let steps = try String(contentsOfFile: split.logFile, encoding: .utf8).split(separator: "\n").map { line -> Int? in
            let record = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            return record?["lr"] == nil ? nil : (record?["step"] as? NSNumber)?.intValue
        }.compactMap { $0 }
        XCTAssertEqual(steps, Array(1 ... 8), "every step is logged once after the resume")
        let a = try checkpointBytes(runs + "/straight"), b = try checkpointBytes(runs + "/split")
        XCTAssertEqual(a.step, 8)
        XCTAssertEqual(b.step, 8)
        for net in ["G", "D"] {
            let wa = a.networks[net]!, wb = b.networks[net]!
            XCTAssertEqual(Set(wa.keys), Set(wb.keys))
            for (k, t) in wa { XCTAssertEqual(t.bytes(), wb[k]!.bytes(), "\(net).\(k) differs after resume") }
        }
        for opt in ["G", "D"] {
            for ((na, ta), (nb, tb)) in zip(a.optimizers[opt]!.tensors, b.optimizers[opt]!.tensors) {
                XCTAssertEqual(na, nb)
                XCTAssertEqual(ta.bytes(), tb.bytes(), "optimizer \(opt) \(na)")
            }
        }
        XCTAssertEqual(a.rngState, b.rngState)
    }

    func testInterruptLeavesALoadableCheckpoint() throws {
        let data = try dataset()
        let runs = makeTemporaryFolder(self)
        let process = Process()
        process.executableURL = repositoryRoot.appendingPathComponent(".build/debug/sketch2real")
        process.arguments = trainArguments(data: data, runs: runs, name: "int") + ["--epochs", "1000"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let log = runs + "/int/log.jsonl"
        let deadline = Date().addingTimeInterval(120)
        while Date() < deadline {
            if let text = try? String(contentsOfFile: log, encoding: .utf8), text.split(separator: "\n").count >= 3 { break }
            usleep(50_000)
        }
        // Ctrl-C pressed three times in a row: still one request, and the checkpoint is written.
        for _ in 0 ..< 3 where process.isRunning {
            process.interrupt()
            usleep(15_000)
        }
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 130, "exits with the interrupt status after saving")
        let c = try checkpointBytes(runs + "/int")
        XCTAssertGreaterThanOrEqual(c.step, 3)
        XCTAssertNotNil(c.networks["G"])
        let (generator, config) = try GeneratorFile.load(runs + "/int")
        XCTAssertEqual(config.model, .pix2pix)
        XCTAssertGreaterThan(generator.parameterCount, 0)
    }

    func testTranslateHandlesOddSizesGreyRGBAAndCorruptFiles() throws {
        let data = try dataset(count: 2)
        let runs = makeTemporaryFolder(self)
        let r = try runProgram(trainArguments(data: data, runs: runs, name: "tr") + ["--max-steps", "2", "--input-channels", "1"])
        XCTAssertEqual(r.status, 0, r.error)
        let model = runs + "/model.safetensors"
        let e = try runProgram(["export", runs + "/tr", "--out", model])
        XCTAssertEqual(e.status, 0, e.error)
        let inputs = makeTemporaryFolder(self)
        try gradientImage(width: 37, height: 53, channels: 1).save(path: inputs + "/odd-grey.png")
        let rgba = Tensor((0 ..< 20 * 30 * 4).map { UInt8($0 % 256) }, shape: [20, 30, 4])
        try Data(ImageOps.encode(rgba, fileExtension: ".png")).write(to: URL(fileURLWithPath: inputs + "/rgba.png"))
        try gradientImage(width: 64, height: 48).save(path: inputs + "/colour.jpg")
        _ = FileManager.default.createFile(atPath: inputs + "/corrupt.png", contents: Data([0x89, 0x50, 0x4E, 0x47, 1, 2, 3]))
        let out = makeTemporaryFolder(self)
        let t = try runProgram(["translate", "--model", model, inputs, "--out", out])
        XCTAssertEqual(t.status, 1, "a failed file makes the exit status 1")
        XCTAssertTrue(t.error.contains("\(inputs)/corrupt.png: not a readable image"), t.error)
        XCTAssertTrue(t.output.contains("translated 3 of 4 sketches"), t.output)
        let odd = try Image.load(path: out + "/odd-grey.png")
        XCTAssertEqual([odd.width, odd.height, odd.channels], [37, 53, 3], "output keeps the input's size")
        XCTAssertEqual(try Image.load(path: out + "/rgba.png").width, 30)
        XCTAssertEqual(try Image.load(path: out + "/colour.png").height, 48)
        let missing = try runProgram(["translate", "--model", runs + "/nope", inputs, "--out", out])
        XCTAssertNotEqual(missing.status, 0)
        XCTAssertTrue(missing.error.contains("\(runs)/nope: no such model file or run folder"), missing.error)
    }
}
