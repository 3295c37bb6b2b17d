import Torch

/// Counts the elements that convolutions and linear layers output while switched on: the
/// activations a forward pass creates, for memory estimates (`MemoryBudget`). Normalisation and
/// activation functions produce tensors of the same sizes as the layer before them, which the
/// estimate accounts for with a factor.
public enum ActivationCounter {
    static let tally = LayerTally()

    /// Runs `body` with counting on; returns its result and the output elements counted.
    public static func count<T>(_ body: () throws -> T) rethrows -> (result: T, elements: Double) {
        let (result, total) = try tally.count(body)
        return (result, total)
    }

    @inline(__always)
    static func record(_ output: Tensor) { tally.add(Double(output.count)) }
}
