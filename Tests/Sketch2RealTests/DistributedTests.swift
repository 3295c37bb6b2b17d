import Foundation
import NN
import Torch
import XCTest
@testable import Sketch2Real

/// Data-parallel training through the `sketch2real` program: two ranks with batch B take the same
/// steps as one process with batch 2B over the same examples.
final class DistributedTests: XCTestCase {
    /// A small learning rate: gradients at steps 2 and 3 differ also through the weights that
    /// parted at the steps before (see `assertEquivalent`), by an amount proportional to it. At
    /// 2e-4 that reached 6e-4 of the largest moment on one machine (BicycleGAN's generator; 1e-6
    /// to 1e-5 on others); at 2e-6 the largest measured here is 1.5e-6, rounding's own level.
    static let steps = 3, learningRate = 2e-6

    func train(_ model: String, _ extra: [String], data: String, runs: String, batch: Int = 1) throws {
        let common = ["train", "--model", model, "--data", data, "--runs", runs, "--size", "32", "--max-steps", "\(Self.steps)",
                      "--augment", "none", "--ngf", "8", "--ndf", "8", "--blocks", "1", "--workers", "1", "--log-every", "1",
                      "--sample-every", "0", "--seed", "5", "--precision", "fp32", "--lr", "\(Self.learningRate)"] + extra
        let one = try runProgramBounded(common + ["--name", "one", "--batch-size", "\(2 * batch)"], timeout: 300)
        XCTAssertEqual(one.status, 0, one.error + one.output)
        // Two ranks on loopback, as torchrun would start them.
        let port = 20000 + Int.random(in: 0 ..< 20000)
        let results = RankResults()
        let group = DispatchGroup()
        for rank in 0 ..< 2 {
            DispatchQueue.global().async(group: group) {
                let env = ["RANK": "\(rank)", "WORLD_SIZE": "2", "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": "\(port)"]
                let run = try? runProgramBounded(common + ["--name", "two", "--batch-size", "\(batch)"], environment: env, timeout: 300)
                results.set(rank, run)
            }
        }
        XCTAssertEqual(group.wait(timeout: .now() + 400), .success)
        for rank in 0 ..< 2 {
            let run = results.get(rank)
            XCTAssertEqual(run?.status, 0, "rank \(rank): " + (run.map { $0.error + $0.output } ?? "did not run"))
        }
    }

    /// float32 gradients summed in another order agree to a few ulps of the largest; Adam then
    /// moves every weight by at most about lr per step whatever the gradient's size (its update
    /// is m̂/√v̂ ≈ ±1 in the first steps), so weights whose gradient is rounding noise (biases
    /// before instance norm) may part by up to 2·steps·lr, and no weight by more. Weights that
    /// parted change the later steps' gradients in turn, in proportion to lr.
    func assertEquivalent(_ runs: String, _ model: String) throws {
        let a = try Checkpoint.load(path: runs + "/one/checkpoints/latest.safetensors")
        let b = try Checkpoint.load(path: runs + "/two/checkpoints/latest.safetensors")
        XCTAssertEqual(a.step, Self.steps)
        XCTAssertEqual(b.step, Self.steps)
        for net in a.networks.keys.sorted() {
            let moments = a.optimizers[net]!.tensors.filter { $0.0.hasSuffix("exp_avg") }
            let other = Dictionary(uniqueKeysWithValues: b.optimizers[net]!.tensors.map { ($0.0, $0.1) })
            let scale = moments.map { $0.1.abs().max().item() as Double }.max()!
            var worst = (0.0, "")
            for (name, m) in moments {
                let d: Double = (m - other[name]!).abs().max().item()
                if d / scale > worst.0 { worst = (d / scale, name) }
                XCTAssertLessThanOrEqual(d, 1e-4 * scale, "\(model) \(net) \(name): averaged gradients differ")
            }
            print("distributed \(model) \(net): largest moment difference \(worst.0) of the largest moment (\(worst.1)); bound 1e-4")
            for (name, w) in a.networks[net]! where w.dtype.isFloatingPoint {
                let d: Double = (w - b.networks[net]![name]!).abs().max().item()
                XCTAssertLessThanOrEqual(d, 2 * Double(Self.steps) * Self.learningRate * 1.01, "\(model) \(net).\(name)")
            }
        }
    }

    func testTwoRanksTrainLikeOneProcessWithTheirBatchesTogether() throws {
        let data = makeTemporaryFolder(self)
        try writeAlignedDataset(root: data, counts: ["train": 8], size: 40)
        // SRAGAN in 10 KB buckets (dozens per network, reduced during backward as they fill),
        // pix2pix with every bucket reduced after backward. Both with instance norm, whose
        // rounding-noise weights the bounds above account for (SRAGAN's default is layer norm).
        for (model, extra) in [("sragan", ["--norm", "instance", "--bucket-mb", "0.01"]),
                               ("pix2pix", ["--norm", "instance", "--generator", "resnet6", "--no-dropout", "--no-overlap-communication"])] {
            let runs = makeTemporaryFolder(self)
            try train(model, extra, data: data, runs: runs)
            try assertEquivalent(runs, model)
            // Only rank 0 wrote: one log line per step, logged once.
            let log = try String(contentsOfFile: runs + "/two/log.jsonl", encoding: .utf8)
            XCTAssertEqual(log.split(separator: "\n").filter { $0.contains("\"lr\"") }.count, Self.steps)
        }
    }

    /// BicycleGAN: each rank draws the codes and encoder noise of all ranks and keeps its own
    /// rows, and its batch-summed KL counts W times, so 2 ranks × 2 equal 1 process × 4 too.
    func testTwoRanksTrainBicycleGANLikeOneProcess() throws {
        let data = makeTemporaryFolder(self)
        try writeAlignedDataset(root: data, counts: ["train": 8], size: 40)
        let runs = makeTemporaryFolder(self)
        try train("bicyclegan", ["--discriminator-scales", "1", "--nef", "8"], data: data, runs: runs, batch: 2)
        try assertEquivalent(runs, "bicyclegan")
    }

    func testBatchNormIsRefusedWhenDistributed() throws {
        let data = makeTemporaryFolder(self)
        try writeAlignedDataset(root: data, counts: ["train": 4], size: 40)
        let runs = makeTemporaryFolder(self)
        let port = 20000 + Int.random(in: 0 ..< 20000)
        let results = RankResults()
        let group = DispatchGroup()
        for rank in 0 ..< 2 {
            DispatchQueue.global().async(group: group) {
                let env = ["RANK": "\(rank)", "WORLD_SIZE": "2", "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": "\(port)"]
                results.set(rank, try? runProgramBounded(["train", "--model", "pix2pix", "--data", data, "--runs", runs, "--name", "bn",
                                                          "--size", "32", "--generator", "resnet6", "--max-steps", "1"],
                                                         environment: env, timeout: 120))
            }
        }
        XCTAssertEqual(group.wait(timeout: .now() + 200), .success)
        let run = results.get(0)
        XCTAssertNotEqual(run?.status, 0)
        XCTAssertTrue(run?.error.contains("batch norm is not synchronised across ranks") == true, run?.error ?? "")
    }
}

final class RankResults: @unchecked Sendable {
    private let lock = NSLock()
    private var runs: [Int: ProgramRun] = [:]
    func set(_ rank: Int, _ run: ProgramRun?) { lock.withLock { runs[rank] = run } }
    func get(_ rank: Int) -> ProgramRun? { lock.withLock { runs[rank] } }
}
