@testable import Sketch2Real
import Torch
import XCTest

final class ModelBenchmarkTests: XCTestCase {
    func testModelsWithAnEncoderTrainOnAnEvenBatch() {
        XCTAssertEqual(ModelBenchmarkCase(model: .lsragan, size: 128, batch: 1).trainingBatch, 2)
        XCTAssertEqual(ModelBenchmarkCase(model: .bicyclegan, size: 128, batch: 4).trainingBatch, 4)
        XCTAssertEqual(ModelBenchmarkCase(model: .sragan, size: 128, batch: 1).trainingBatch, 1)
        XCTAssertEqual(ModelBenchmarkCase(model: .msgan, size: 128, batch: 3).trainingBatch, 3)
        XCTAssertNoThrow(try ModelBenchmarkCase(model: .lsragan, size: 128, batch: 1).config.validate())
    }

    func testParityHoldsForEqualResultsAndRefusesDifferentOnes() {
        let out = Tensor.randn([1, 3, 8, 8]).tanh()
        let losses = ["D": 0.7, "G_L1": 0.25]
        let same = ParityCheck(swiftLosses: losses, peerLosses: losses.mapValues { $0 * (1 + 1e-6) }, swiftOutput: out, peerOutput: out + 1e-4)
        XCTAssertTrue(same.passed, same.message)

        let otherOutput = ParityCheck(swiftLosses: losses, peerLosses: losses, swiftOutput: out, peerOutput: out + 0.1)
        XCTAssertFalse(otherOutput.passed)
        XCTAssertTrue(otherOutput.message.contains("outputs after the step differ"), otherOutput.message)

        let otherLoss = ParityCheck(swiftLosses: losses, peerLosses: ["D": 0.7, "G_L1": 0.26], swiftOutput: out, peerOutput: out)
        XCTAssertFalse(otherLoss.passed)
        XCTAssertTrue(otherLoss.message.contains("G_L1"), otherLoss.message)

        let missing = ParityCheck(swiftLosses: losses, peerLosses: ["D": 0.7], swiftOutput: out, peerOutput: out)
        XCTAssertFalse(missing.passed)
        let nan = ParityCheck(swiftLosses: ["D": .nan], peerLosses: ["D": .nan], swiftOutput: out, peerOutput: out)
        XCTAssertFalse(nan.passed, "a NaN loss is never a match")
        let shapes = ParityCheck(swiftLosses: losses, peerLosses: losses, swiftOutput: out, peerOutput: Tensor.zeros([1, 3, 4, 4]))
        XCTAssertFalse(shapes.passed)
    }

    /// In bf16 a pixel may differ after the step, but both steps must move the image the same
    /// way; before the step, outputs and losses are held to bfloat16 rounding.
    func testBFloat16ParityChecksTheDirectionOfTheStep() {
        Torch.manualSeed(2)
        let before = Tensor.randn([1, 3, 8, 8]).tanh() * 0.5
        let step = Tensor.randn([1, 3, 8, 8]) * 0.3
        let losses = ["D": 0.7, "G_L1": 0.25]
        let noise = Tensor.randn([1, 3, 8, 8]) * 0.03
        let close = ParityCheck(swiftLosses: losses, peerLosses: losses.mapValues { $0 * 1.01 }, swiftOutput: before + step + noise,
                                peerOutput: before + step, swiftForward: before, peerForward: before + 0.01, precision: .bf16)
        XCTAssertTrue(close.passed, close.message)
        XCTAssertGreaterThan(close.stepAgreement, 0.97)
        let float32 = ParityCheck(swiftLosses: losses, peerLosses: losses, swiftOutput: before + step + noise,
                                  peerOutput: before + step, swiftForward: before, peerForward: before)
        XCTAssertFalse(float32.passed, "float32 keeps its pixel bound")
        let otherWay = ParityCheck(swiftLosses: losses, peerLosses: losses, swiftOutput: before - step, peerOutput: before + step,
                                   swiftForward: before, peerForward: before, precision: .bf16)
        XCTAssertFalse(otherWay.passed)
        XCTAssertTrue(otherWay.message.contains("moved the outputs differently"), otherWay.message)
        let farBefore = ParityCheck(swiftLosses: losses, peerLosses: losses, swiftOutput: before + step, peerOutput: before + step,
                                    swiftForward: before + 0.1, peerForward: before, precision: .bf16)
        XCTAssertFalse(farBefore.passed, "outputs before the step are held to 32 bfloat16 roundoffs")
        let farLoss = ParityCheck(swiftLosses: losses, peerLosses: losses.mapValues { $0 * 1.05 }, swiftOutput: before + step,
                                  peerOutput: before + step, swiftForward: before, peerForward: before, precision: .bf16)
        XCTAssertFalse(farLoss.passed)
    }

    func testAFailedParityRowShowsNoSpeed() {
        var failed = ModelBenchmarkRow(benchCase: ModelBenchmarkCase(model: .sragan, size: 128, batch: 1))
        let out = Tensor.zeros([1, 3, 8, 8])
        failed.parity = ParityCheck(swiftLosses: ["D": 1], peerLosses: ["D": 2], swiftOutput: out, peerOutput: out)
        failed.failure = "parity check failed"
        failed.swiftStep = 1
        failed.peerStep = 2
        var good = ModelBenchmarkRow(benchCase: ModelBenchmarkCase(model: .lsragan, size: 128, batch: 1))
        good.parity = ParityCheck(swiftLosses: ["D": 1], peerLosses: ["D": 1], swiftOutput: out, peerOutput: out)
        (good.swiftStep, good.peerStep, good.swiftInference, good.peerInference) = (0.5, 0.6, 0.1, 0.2)
        (good.swiftPeakBytes, good.peerPeakBytes, good.trainingFLOPs) = (100 * 1_048_576, 200 * 1_048_576, 30e9)
        XCTAssertFalse(failed.hasSpeed)
        XCTAssertTrue(good.hasSpeed)
        XCTAssertEqual(good.trainingSpeedRatio, 1.2, accuracy: 1e-12)
        XCTAssertEqual(good.inferenceSpeedRatio, 2, accuracy: 1e-12)
        XCTAssertEqual(good.memoryRatio, 0.5, accuracy: 1e-12)
        XCTAssertEqual(good.swiftTrainingImages, 4, accuracy: 1e-12, "trains on batch 2")

        let report = ModelBenchmarkReport(command: "sketch2real bench", date: "now", machine: ["cpu test"], peakGFLOPS: 60,
                                          swiftThreads: 1, peerThreads: "1", steps: 1, rounds: 1, inferenceRuns: 1,
                                          rows: [failed, good], loaderPairsPerSecond: [128: 50])
        let lines = report.text.split(separator: "\n")
        let failedLine = lines.first { $0.hasPrefix("sragan") }!
        XCTAssertTrue(failedLine.contains("FAILED"))
        XCTAssertFalse(failedLine.contains("1000"), "no step time for a failed row")
        let goodLine = lines.first { $0.hasPrefix("lsragan") }!
        XCTAssertTrue(goodLine.contains("b1 (train b2)"))
        XCTAssertTrue(goodLine.contains("1.20") && goodLine.contains("2.00") && goodLine.contains("0.50"), String(goodLine))
        XCTAssertTrue(report.markdown.contains("| lsragan 128² b1 (train b2) fp32 |"))
        XCTAssertNoThrow(try report.json())
    }

    func testMedianOfEvenAndOddCounts() {
        XCTAssertEqual(ModelBenchmarkRunner.median([3, 1, 2]), 2)
        XCTAssertEqual(ModelBenchmarkRunner.median([4, 1, 2, 3]), 2.5)
    }
}

extension ModelBenchmarkTests {
    func testTargetsNameTheModelsThatMissThem() {
        let out = Tensor.zeros([1, 3, 8, 8])
        func row(_ model: ModelKind, _ size: Int, _ train: Double, _ infer: Double, _ memory: Double) -> ModelBenchmarkRow {
            var r = ModelBenchmarkRow(benchCase: ModelBenchmarkCase(model: model, size: size, batch: 1))
            r.parity = ParityCheck(swiftLosses: [:], peerLosses: [:], swiftOutput: out, peerOutput: out)
            (r.swiftStep, r.peerStep, r.swiftInference, r.peerInference) = (1, train, 1, infer)
            (r.swiftPeakBytes, r.peerPeakBytes) = (memory, 1)
            return r
        }
        let report = ModelBenchmarkReport(command: "", date: "", machine: [], peakGFLOPS: 60, swiftThreads: 1, peerThreads: "1",
                                          steps: 1, rounds: 1, inferenceRuns: 1,
                                          rows: [row(.sragan, 128, 1.2, 1.4, 0.9), row(.pix2pix, 128, 1.1, 1.4, 0.9),
                                                 row(.sragan, 256, 1.06, 1.35, 1.1)],
                                          loaderPairsPerSecond: [:])
        let t = report.targets
        XCTAssertTrue(t[0].contains("MISSED by pix2pix"), t[0])
        XCTAssertTrue(t[1].hasPrefix("training × ≥ 1.05 at 256² batch 1: met"), t[1])
        XCTAssertTrue(t[2].contains(": met"), t[2])
        XCTAssertTrue(t[3].contains("MISSED by sragan"), t[3])
    }
}
