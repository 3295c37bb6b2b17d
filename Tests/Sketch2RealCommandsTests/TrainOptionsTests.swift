import ArgumentParser
import Foundation
import XCTest
@testable import Sketch2Real
@testable import Sketch2RealCommands

/// `train`'s options, parsed in-process: what the user does not give stays the library's.
final class TrainOptionsTests: XCTestCase {
    func parse(_ arguments: [String]) throws -> TrainCommand {
        try TrainCommand.parse(["--data", "/nonexistent", "--name", "run", "--augment", "none"] + arguments)
    }

    func testOptionsNotGivenLeaveTheFamilysDefaults() throws {
        for kind in ModelKind.allCases {
            for size in [128, 256] {
                let c = try parse(["--model", kind.rawValue, "--size", "\(size)"]).makeConfig()
                var expected = TrainingConfig.defaults(for: kind, size: size)
                expected.data.preprocess.multiple = expected.generatorStride
                XCTAssertEqual(c, expected, "\(kind) at \(size)")
            }
        }
    }

    func testOptionsGivenOverrideOnlyTheirFields() throws {
        let c = try parse(["--model", "lsragan", "--size", "128", "--ngf", "32", "--nz", "4", "--epochs", "3", "--seed", "9",
                           "--upsampling", "transposed", "--lambda-ms", "0.5", "--no-latent-modulation", "--init-from", "runs/x"]).makeConfig()
        var expected = TrainingConfig.defaults(for: .lsragan, size: 128)
        (expected.sragan.ngf, expected.pix2pix.ngf, expected.latentUNet.ngf) = (32, 32, 32)
        expected.multimodal.nz = 4
        expected.epochs = 3
        expected.seed = 9
        expected.sragan.upsampling = .transposed
        expected.multimodal.lambdaMS = 0.5
        expected.sragan.latentModulation = false
        expected.initFrom = "runs/x"
        expected.data.preprocess.multiple = expected.generatorStride
        expected.syncChannels()
        XCTAssertEqual(c, expected)

        let s = try parse(["--model", "sragan", "--size", "128", "--demodulate", "--residual-gain", "--noise-inputs"]).makeConfig()
        var sragan = TrainingConfig.defaults(for: .sragan, size: 128)
        (sragan.sragan.demodulate, sragan.sragan.residualGain, sragan.sragan.noiseInputs) = (true, true, true)
        sragan.data.preprocess.multiple = sragan.generatorStride
        XCTAssertEqual(s, sragan)
    }

    func testInitFromAndResumeAreRefusedTogether() {
        XCTAssertThrowsError(try parse(["--resume", "--init-from", "runs/x"])) {
            XCTAssertEqual(TrainCommand.message(for: $0),
                           "--init-from starts a new run from other weights; --resume continues this run from its own checkpoint: pass one of them.")
        }
    }

    func testUnknownModelsAreRefusedWithTheKnownOnes() {
        XCTAssertThrowsError(try parse(["--model", "sragan2"])) {
            XCTAssertTrue(TrainCommand.message(for: $0).contains("sragan2"), TrainCommand.message(for: $0))
        }
        XCTAssertNil(ModelKind(rawValue: "sragan2"))
        XCTAssertEqual(ModelKind.names, "sragan, pix2pix, lsragan, bicyclegan, msgan")
    }
}
