import Torch

/// Counts floating-point operations of convolutions and linear layers from their shapes while
/// switched on, for the benchmark's FLOPs per step. A call costs 2·MACs forward; when autograd
/// records it, its backward adds 2·MACs for the input gradient (if the input requires one) and
/// 2·MACs for the weight gradient (if the weight requires one). Element-wise operations,
/// normalisation and pooling are not counted.
public enum FLOPCounter {
    static let tally = LayerTally()

    /// Runs `body` with counting on; returns its result and the operations counted.
    /// Not thread-safe: count on one thread while nothing else runs layers.
    public static func count<T>(_ body: () throws -> T) rethrows -> (result: T, flops: Double) {
        let (result, total) = try tally.count(body)
        return (result, total)
    }

    /// Forward + backward operations of one call with `macs` multiply-adds.
    public static func operations(macs: Double, recorded: Bool, inputNeedsGradient: Bool, weightNeedsGradient: Bool) -> Double {
        var passes = 1.0
        if recorded {
            if inputNeedsGradient { passes += 1 }
            if weightNeedsGradient { passes += 1 }
        }
        return 2 * macs * passes
    }

    @inline(__always)
    static func record(macs: @autoclosure () -> Double, input: Tensor, weight: Tensor) {
        guard tally.isActive else { return }
        let recorded = isGradEnabled
        tally.add(operations(macs: macs(), recorded: recorded,
                             inputNeedsGradient: recorded && input.requiresGrad,
                             weightNeedsGradient: recorded && weight.requiresGrad))
    }
}
