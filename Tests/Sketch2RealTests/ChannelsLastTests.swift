import Foundation
import NN
import Torch
import XCTest
@testable import Sketch2Real

/// `--memory-format channels-last`: the same numbers in another memory layout, weights that stay
/// channels-last through training, and files that do not change.
final class ChannelsLastTests: XCTestCase {
    func testAChannelsLastGeneratorComputesTheSameAndSavesTheSameBytes() throws {
        Torch.manualSeed(4)
        var c = SRAGANConfig()
        c.ngf = 8
        c.blocks = 1
        let g = try SRAGANGenerator(c)
        g.eval()
        let x = Tensor.rand([2, 1, 32, 32]) * 2.0 - 1.0
        let before = withNoGrad { g(x) }
        let saved = g.stateDict().map { ($0.0, $0.1.bytes()) }
        let weights = g.parameters()
        g.useChannelsLast()
        let convolutions = g.parameters().filter { $0.rank == 4 }
        XCTAssertFalse(convolutions.isEmpty)
        XCTAssertTrue(convolutions.allSatisfy(\.isChannelsLast))
        // In place: the same tensors (what an optimiser holds) now channels-last.
        XCTAssertTrue(zip(weights, g.parameters()).allSatisfy { $0.0 === $0.1 })
        let after = withNoGrad { g(x) }
        XCTAssertTrue(after.isChannelsLast, "the activations follow the weights' layout")
        let scale: Double = before.abs().max().item()
        let difference: Double = (after - before).abs().max().item()
        // Other kernels sum in another order: float32 rounding over each output's reduction.
        XCTAssertLessThan(difference, 1e-5 * scale)
        for ((name, bytes), (name2, t)) in zip(saved, g.stateDict()) {
            XCTAssertEqual(name, name2)
            XCTAssertEqual(bytes, t.bytes(), "\(name): a saved tensor is written in NCHW order either way")
        }
    }

    /// Three training steps channels-last: the weights stay channels-last (Adam updates in place),
    /// the losses are those of the contiguous run to float32 rounding, and the checkpoint loads
    /// into a contiguous generator.
    func testTrainingChannelsLastMatchesContiguousTraining() throws {
        let data = try writeGreyToColourPairs(self, size: 32, count: 2, phaseStep: 0.3)
        var c = TrainingConfig.defaults(for: .sragan, size: 32)
        c.data.preprocess = PreprocessOptions(mode: .none, cropSize: 32, flip: false, multiple: 4)
        (c.sragan.ngf, c.sragan.blocks, c.discriminator.ndf) = (8, 1, 8)
        (c.epochs, c.epochsDecay, c.sampleEverySteps, c.saveEveryEpochs, c.logEverySteps, c.loaderWorkers, c.maxSteps) = (100, 0, 0, 0, 1, 1, 3)
        c.syncChannels()
        var losses: [[Double]] = []
        var trainers: [PairedTrainer] = []
        for channelsLast in [false, true] {
            Torch.channelsLast = channelsLast
            defer { Torch.channelsLast = false }
            let folder = makeTemporaryFolder(self) + "/run"
            let t = try PairedTrainer(config: c, dataRoot: data, runFolder: folder, resume: false)
            _ = try t.train(progress: ProgressReporter(every: 1000, isTerminal: false), shouldStop: { false })
            let log = try String(contentsOfFile: folder + "/log.jsonl", encoding: .utf8).split(separator: "\n")
                .compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
            losses.append(log.compactMap { $0["G_L1"] as? Double })
            trainers.append(t)
        }
        XCTAssertEqual(losses[0].count, 3)
        XCTAssertTrue(trainers[1].generator.parameters().filter { $0.rank == 4 }.allSatisfy(\.isChannelsLast))
        for (a, b) in zip(losses[0], losses[1]) { XCTAssertEqual(a, b, accuracy: 1e-4 * a, "L1 per step") }
        // Its checkpoint is an ordinary one.
        let (g, _) = try GeneratorFile.load(trainers[1].loop.run.path)
        XCTAssertFalse(g.parameters().filter { $0.rank == 4 }.contains(where: { $0.isChannelsLast && $0.shape[1] > 1 && $0.shape[2] * $0.shape[3] > 1 }))
        XCTAssertEqual(MemoryFormatChoice.auto.resolve(device: .cpu, precision: .bf16).channelsLast, false)
        XCTAssertEqual(MemoryFormatChoice.auto.resolve(device: .cuda(0), precision: .bf16).channelsLast, true)
        XCTAssertEqual(MemoryFormatChoice.auto.resolve(device: .cuda(0), precision: .fp32).channelsLast, false)
    }
}
