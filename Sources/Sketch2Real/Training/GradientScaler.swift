import Foundation
import NN
import Torch

/// Dynamic loss scaling for float16 training, as PyTorch's `torch.amp.GradScaler` with its
/// defaults: each loss is multiplied by `scale` before backward, so that gradients too small for
/// float16 survive the backward pass; the gradients are divided by it again before clipping and
/// the optimiser step. An optimiser step whose gradients hold an infinity or NaN (float16
/// overflowed) is skipped. After each training step the scale halves if any backward of that
/// step overflowed, and doubles after `growthInterval` steps in a row without one.
public final class GradientScaler {
    public private(set) var scale: Double
    /// Training steps in a row without an overflow since the scale last changed.
    public private(set) var growthTracker: Int
    public let growthFactor: Double, backoffFactor: Double, growthInterval: Int
    /// Whether the last `unscale` found a non-finite gradient (its optimiser step is skipped).
    public private(set) var lastFoundInfinity = false
    /// Whether any `unscale` of this training step did.
    private var stepFoundInfinity = false
    /// Training steps in this process with an overflow (one or more optimiser steps skipped), for the log.
    public private(set) var overflowSteps = 0

    public init(scale: Double = 65536, growthTracker: Int = 0, growthFactor: Double = 2, backoffFactor: Double = 0.5,
                growthInterval: Int = 2000) {
        (self.scale, self.growthTracker) = (scale, growthTracker)
        (self.growthFactor, self.backoffFactor, self.growthInterval) = (growthFactor, backoffFactor, growthInterval)
    }

    /// The loss to call backward on.
    public func scaled(_ loss: Tensor) -> Tensor { loss * scale }

    /// Divides the gradients of `parameters` by the scale; returns whether any of them holds an
    /// infinity or NaN, in which case the optimiser step that follows is skipped. One
    /// synchronisation: the largest magnitude over all gradients, which is non-finite exactly
    /// when one element is.
    @discardableResult
    public func unscale(_ parameters: [Tensor]) -> Bool {
        let gradients = parameters.compactMap(\.grad)
        guard !gradients.isEmpty else {
            lastFoundInfinity = false
            return false
        }
        let inverse = 1 / scale
        for g in gradients { g.mulInPlace(inverse) }
        let largest: Double = Tensor.stack(gradients.map { $0.abs().max() }).max().item()
        lastFoundInfinity = !largest.isFinite
        stepFoundInfinity = stepFoundInfinity || lastFoundInfinity
        return lastFoundInfinity
    }

    /// `optimizer.step()` unless the last `unscale` found a non-finite gradient.
    public func step(_ optimizer: Adam) {
        if lastFoundInfinity { return }
        optimizer.step()
    }

    /// At the end of a training step: back off after an overflow, grow after a quiet stretch.
    public func update() {
        if stepFoundInfinity {
            scale *= backoffFactor
            growthTracker = 0
            overflowSteps += 1
        } else {
            growthTracker += 1
            if growthTracker == growthInterval {
                scale *= growthFactor
                growthTracker = 0
            }
        }
        stepFoundInfinity = false
        lastFoundInfinity = false
    }

    /// Its state for a checkpoint's metadata, and back.
    public var checkpointFields: [String: String] { ["gradScale": "\(scale)", "gradScaleGrowthTracker": "\(growthTracker)"] }

    public convenience init?(checkpointFields fields: [String: String]) {
        guard let s = fields["gradScale"].flatMap(Double.init), s.isFinite, s > 0,
              let g = fields["gradScaleGrowthTracker"].flatMap(Int.init), g >= 0 else { return nil }
        self.init(scale: s, growthTracker: g)
    }
}
