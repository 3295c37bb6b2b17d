import Foundation
import Torch

/// Whether the Swift trainer and the PyTorch peer computed the same step from the same
/// weights and batch: the generators' outputs before the step must agree within
/// `forwardTolerance`, every loss the Swift step reports must be reported by the peer and agree
/// within `lossTolerance` (relative, absolute below 1), and the outputs after the step within
/// `outputTolerance` (largest absolute difference, images in [-1, 1]). The looser bound after
/// the step allows for Adam's first update, lr·g/(|g| + ε), which turns rounding differences in
/// near-zero gradients into steps of up to ±lr. The benchmark reports no speed for a case that fails.
public struct ParityCheck: Sendable, Codable, Equatable {
    public static let forwardTolerance = 1e-4
    public static let lossTolerance = 1e-4
    public static let outputTolerance = 2e-2

    public var passed: Bool
    /// Largest relative difference over the losses.
    public var lossDifference: Double
    /// Largest absolute difference between the outputs before and after the step.
    public var forwardDifference: Double
    public var outputDifference: Double
    public var message: String

    public init(swiftLosses: [String: Double], peerLosses: [String: Double], swiftOutput: Tensor, peerOutput: Tensor,
                swiftForward: Tensor? = nil, peerForward: Tensor? = nil) {
        var problems: [String] = []
        func difference(_ a: Tensor, _ b: Tensor, _ what: String, _ tolerance: Double) -> Double {
            guard a.shape == b.shape else {
                problems.append("\(what) have different shapes: \(a.shape) and \(b.shape)")
                return .infinity
            }
            let d = (a - b).abs().max().item()
            if !(d <= tolerance) { problems.append(String(format: "%@ differ by up to %.3g", what, d)) }
            return d
        }
        forwardDifference = 0
        if let swiftForward, let peerForward {
            forwardDifference = difference(swiftForward, peerForward, "outputs before the step", Self.forwardTolerance)
        }
        var worstLoss = 0.0
        for (name, ours) in swiftLosses.sorted(by: { $0.key < $1.key }) {
            guard let theirs = peerLosses[name] else {
                problems.append("the peer does not report \(name)")
                continue
            }
            let difference = abs(ours - theirs) / Swift.max(abs(theirs), 1)
            worstLoss = Swift.max(worstLoss, difference.isNaN ? .infinity : difference)
            if !(difference <= Self.lossTolerance) {
                problems.append(String(format: "%@ differs: Swift %.6g, PyTorch %.6g", name, ours, theirs))
            }
        }
        let worstOutput = difference(swiftOutput, peerOutput, "outputs after the step", Self.outputTolerance)
        passed = problems.isEmpty
        lossDifference = worstLoss
        outputDifference = worstOutput
        message = passed
            ? String(format: "outputs before the step within %.1e, losses within %.1e, outputs after within %.1e", forwardDifference, worstLoss, worstOutput)
            : problems.joined(separator: "; ")
    }
}
