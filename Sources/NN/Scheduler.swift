import Foundation
import Torch

/// A learning-rate rule evaluated per epoch, as PyTorch's `LambdaLR`/`StepLR`/`CosineAnnealingLR`:
/// `step()` advances the epoch counter and sets each optimiser's rate to `baseRate · factor(epoch)`.
public enum LearningRateRule: Sendable, Codable, Equatable {
    /// pix2pix: constant for `constantEpochs`, then linearly to zero over `decayEpochs`
    /// (`1 − max(0, epoch + epochCount − constantEpochs) / (decayEpochs + 1)`; epochCount 1).
    case linearDecay(constantEpochs: Int, decayEpochs: Int, epochCount: Int = 1)
    /// Multiply by `gamma` every `stepSize` epochs.
    case step(stepSize: Int, gamma: Double)
    /// Half a cosine from the base rate down to `minRate` over `period` epochs.
    case cosine(period: Int, minRate: Double)
    case constant

    /// The rate at `epoch` for a given base rate.
    public func rate(base: Double, epoch: Int) -> Double {
        switch self {
        case let .linearDecay(constantEpochs, decayEpochs, epochCount):
            let decayed = Double(Swift.max(0, epoch + epochCount - constantEpochs)) / Double(decayEpochs + 1)
            return base * (1 - decayed)
        case let .step(stepSize, gamma):
            return base * Foundation.pow(gamma, Double(epoch / stepSize))
        case let .cosine(period, minRate):
            return minRate + (base - minRate) * (1 + Foundation.cos(Double.pi * Double(epoch) / Double(period))) / 2
        case .constant:
            return base
        }
    }
}

/// Applies a `LearningRateRule` to optimisers.
public final class LearningRateScheduler {
    public let rule: LearningRateRule
    public let optimizers: [any Optimizer]
    public private(set) var baseRates: [Double]
    /// Epochs completed so far (PyTorch's `last_epoch`).
    public private(set) var epoch: Int = 0

    public init(_ rule: LearningRateRule, optimizers: [any Optimizer]) {
        self.rule = rule
        self.optimizers = optimizers
        baseRates = optimizers.map(\.learningRate)
        apply()
    }

    public func step() {
        epoch += 1
        apply()
    }

    public var currentRates: [Double] { optimizers.map(\.learningRate) }

    private func apply() {
        for (o, base) in zip(optimizers, baseRates) { o.learningRate = rule.rate(base: base, epoch: epoch) }
    }

    /// What a checkpoint needs to continue the schedule.
    public struct State: Codable, Equatable, Sendable {
        public var rule: LearningRateRule
        public var epoch: Int
        public var baseRates: [Double]
    }

    public var state: State { State(rule: rule, epoch: epoch, baseRates: baseRates) }

    public func load(_ state: State) throws {
        guard state.rule == rule else { throw TorchError("scheduler in the checkpoint uses a different rule: \(state.rule)") }
        guard state.baseRates.count == optimizers.count else {
            throw TorchError("scheduler in the checkpoint drives \(state.baseRates.count) optimizers, this one \(optimizers.count)")
        }
        baseRates = state.baseRates
        epoch = state.epoch
        apply()
    }
}
