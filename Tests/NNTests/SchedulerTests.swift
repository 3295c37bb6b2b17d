import Foundation
import NN
import Torch
import XCTest

/// Learning-rate schedules against torch.optim.lr_scheduler (schedulers.safetensors): two
/// optimisers with base rates 2e-4 and 1e-3, as PyTorch's two parameter groups.
final class SchedulerTests: XCTestCase {
    static let baseRates = [2e-4, 1e-3]

    static func rule(_ spec: JSON) -> LearningRateRule {
        switch spec["rule"].string {
        case "linearDecay":
            return .linearDecay(constantEpochs: spec["n_epochs"].int, decayEpochs: spec["n_epochs_decay"].int,
                                epochCount: spec["epoch_count"].int)
        case "step": return .step(stepSize: spec["step_size"].int, gamma: spec["gamma"].double)
        case "cosine": return .cosine(period: spec["T_max"].int, minRate: spec["eta_min"].double)
        default: fatalError("unknown rule \(spec["rule"].string)")
        }
    }

    static func optimizers() -> [any Optimizer] {
        baseRates.map { Adam([Tensor.zeros([1]).requiringGrad()], learningRate: $0) }
    }

    func testRatesMatchPyTorchEpochByEpoch() throws {
        let fixture = try Fixture("schedulers")
        XCTAssertEqual(fixture.cases, ["cosine", "linear_decay", "step"])
        for name in fixture.cases {
            let expected = try fixture.tensor("\(name).lr")
            XCTAssertEqual(expected.shape, [2, 11])
            let optimizers = Self.optimizers()
            let scheduler = LearningRateScheduler(Self.rule(try fixture.json(name)), optimizers: optimizers)
            var rates = [scheduler.currentRates]
            for _ in 0 ..< 10 {
                scheduler.step()
                rates.append(optimizers.map(\.learningRate))
            }
            XCTAssertEqual(scheduler.epoch, 10)
            for group in 0 ..< 2 {
                let pytorch = expected.select(dim: 0, index: group).toArray(Double.self)
                for (epoch, (swift, torch)) in zip(rates.map { $0[group] }, pytorch).enumerated() {
                    XCTAssertEqual(swift, torch, accuracy: 1e-12 * Swift.abs(torch) + 1e-20,
                                   "\(name), group \(group), epoch \(epoch)")
                }
            }
        }
    }

    /// The pix2pix rule's shape, spelled out: three constant epochs, then down by 1/5 per epoch.
    func testLinearDecayValues() {
        let rule = LearningRateRule.linearDecay(constantEpochs: 3, decayEpochs: 4, epochCount: 1)
        let factors = (0 ..< 9).map { rule.rate(base: 1, epoch: $0) }
        for (got, want) in zip(factors, [1, 1, 1, 0.8, 0.6, 0.4, 0.2, 0, -0.2]) {
            XCTAssertEqual(got, want, accuracy: 1e-15)
        }
        XCTAssertEqual(LearningRateRule.constant.rate(base: 0.3, epoch: 99), 0.3)
    }

    /// Four epochs, state through JSON (as a checkpoint stores it), new optimisers and a new
    /// scheduler, six more: the same rates as ten epochs straight.
    func testStateSaveAndLoadContinuesIdentically() throws {
        let fixture = try Fixture("schedulers")
        for name in fixture.cases {
            let rule = Self.rule(try fixture.json(name))
            let straightOptimizers = Self.optimizers()
            let straight = LearningRateScheduler(rule, optimizers: straightOptimizers)
            var straightRates: [[Double]] = []
            for _ in 0 ..< 10 {
                straight.step()
                straightRates.append(straight.currentRates)
            }

            let first = LearningRateScheduler(rule, optimizers: Self.optimizers())
            var rates: [[Double]] = []
            for _ in 0 ..< 4 {
                first.step()
                rates.append(first.currentRates)
            }
            let json = try JSONEncoder().encode(first.state)
            let resumedOptimizers = Self.optimizers()
            let resumed = LearningRateScheduler(rule, optimizers: resumedOptimizers)
            try resumed.load(try JSONDecoder().decode(LearningRateScheduler.State.self, from: json))
            XCTAssertEqual(resumed.epoch, 4)
            XCTAssertEqual(resumed.state, first.state)
            XCTAssertEqual(resumed.currentRates, rates.last!, "loading applies the rate at once")
            for _ in 0 ..< 6 {
                resumed.step()
                rates.append(resumedOptimizers.map(\.learningRate))
            }
            XCTAssertEqual(rates, straightRates, name)
        }
    }

    /// Base rates come from the state, not from whatever rate the new optimiser was built with.
    func testLoadUsesTheSavedBaseRates() throws {
        let scheduler = LearningRateScheduler(.step(stepSize: 1, gamma: 0.5), optimizers: Self.optimizers())
        scheduler.step()
        let other = [Adam([Tensor.zeros([1]).requiringGrad()], learningRate: 7),
                     Adam([Tensor.zeros([1]).requiringGrad()], learningRate: 9)]
        let resumed = LearningRateScheduler(.step(stepSize: 1, gamma: 0.5), optimizers: other)
        try resumed.load(scheduler.state)
        XCTAssertEqual(resumed.baseRates, Self.baseRates)
        XCTAssertEqual(other.map(\.learningRate), [1e-4, 5e-4])
    }

    func testLoadRefusesAnotherRuleOrOptimizerCount() {
        let scheduler = LearningRateScheduler(.step(stepSize: 2, gamma: 0.5), optimizers: Self.optimizers())
        let cosine = LearningRateScheduler(.cosine(period: 5, minRate: 0), optimizers: Self.optimizers())
        XCTAssertEqual(errorMessage { try cosine.load(scheduler.state) },
                       "scheduler in the checkpoint uses a different rule: step(stepSize: 2, gamma: 0.5)")
        let single = LearningRateScheduler(.step(stepSize: 2, gamma: 0.5), optimizers: [Self.optimizers()[0]])
        XCTAssertEqual(errorMessage { try single.load(scheduler.state) },
                       "scheduler in the checkpoint drives 2 optimizers, this one 1")
        XCTAssertEqual(single.epoch, 0)
    }
}
