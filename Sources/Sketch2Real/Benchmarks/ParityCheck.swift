import Foundation
import Torch

/// Whether the Swift trainer and the PyTorch peer computed the same step from the same
/// weights and batch: the generators' outputs before the step must agree within
/// `forwardTolerance`, every loss the Swift step reports must be reported by the peer and agree
/// within `lossTolerance` (relative, absolute below 1), and the outputs after the step within
/// `outputTolerance` (largest absolute difference, images in [-1, 1]). The looser bound after
/// the step allows for Adam's first update, lr·g/(|g| + ε), which turns rounding differences in
/// near-zero gradients into steps of up to ±lr. The benchmark reports no speed for a case that fails.
///
/// In bfloat16 both sides round every convolution's inputs and outputs to 8 significant bits
/// (unit roundoff u = 2⁻⁹), but not at the same places: PyTorch 1.13's autocast runs transposed
/// convolutions in float32, ours in bfloat16, and the order of sums differs. A difference of a
/// few u per layer, grown over the ~20 layers between sketch and image, gives the bounds below:
/// 32u (0.0625) on outputs in [-1, 1] before the step, 8u (0.0156) relative on each loss, and
/// after the step no bound on single pixels: a gradient element near zero takes either sign
/// under bfloat16 rounding, and Adam's first step turns each sign into ±lr, so single pixels can
/// differ by a good part of the step (0.26 of a mean change of 0.33 for SRAGAN at 128²). What
/// must hold is that both steps move the image the same way: the cosine between the two sides'
/// output changes is at least 0.97 (measured 0.9986 SRAGAN, 0.9997 pix2pix, 0.9914 LSRAGAN at
/// 128² on an AMD EPYC Zen 4; float32 gives 1.0000).
public struct ParityCheck: Sendable, Codable, Equatable {
    static let bf16StepAgreement = 0.97
    public static let forwardTolerance = 1e-4
    public static let lossTolerance = 1e-4
    public static let outputTolerance = 2e-2
    static let bf16Roundoff = 1.0 / 512

    public static func tolerances(_ precision: Precision) -> (forward: Double, loss: Double, output: Double) {
        precision == .bf16
            ? (32 * bf16Roundoff, 8 * bf16Roundoff, .infinity)
            : (forwardTolerance, lossTolerance, outputTolerance)
    }

    public var passed: Bool
    /// Largest relative difference over the losses.
    public var lossDifference: Double
    /// Largest absolute difference between the outputs before and after the step.
    public var forwardDifference: Double
    public var outputDifference: Double
    /// Cosine between the two sides' changes of the output over the step (1: the same update).
    public var stepAgreement: Double
    public var message: String

    public init(swiftLosses: [String: Double], peerLosses: [String: Double], swiftOutput: Tensor, peerOutput: Tensor,
                swiftForward: Tensor? = nil, peerForward: Tensor? = nil, precision: Precision = .fp32) {
        let bounds = Self.tolerances(precision)
        var problems: [String] = []
        func difference(_ a: Tensor, _ b: Tensor, _ what: String, _ tolerance: Double) -> Double {
            guard a.shape == b.shape else {
                problems.append("\(what) have different shapes: \(a.shape) and \(b.shape)")
                return .infinity
            }
            let d = (a - b).abs().max().item()
            if !(d <= tolerance) { problems.append(String(format: "%@ differ by up to %.3g (%.3g on average)", what, d, (a - b).abs().mean().item())) }
            return d
        }
        forwardDifference = 0
        if let swiftForward, let peerForward {
            forwardDifference = difference(swiftForward, peerForward, "outputs before the step", bounds.forward)
        }
        var worstLoss = 0.0
        for (name, ours) in swiftLosses.sorted(by: { $0.key < $1.key }) {
            guard let theirs = peerLosses[name] else {
                problems.append("the peer does not report \(name)")
                continue
            }
            let difference = abs(ours - theirs) / Swift.max(abs(theirs), 1)
            worstLoss = Swift.max(worstLoss, difference.isNaN ? .infinity : difference)
            if !(difference <= bounds.loss) {
                problems.append(String(format: "%@ differs: Swift %.6g, PyTorch %.6g", name, ours, theirs))
            }
        }
        let worstOutput = difference(swiftOutput, peerOutput, "outputs after the step", bounds.output)
        stepAgreement = .nan
        if let swiftForward, let peerForward, swiftOutput.shape == peerOutput.shape, swiftForward.shape == peerForward.shape {
            let a = (swiftOutput - swiftForward).flatten(), b = (peerOutput - peerForward).flatten()
            stepAgreement = a.dot(b).item() / Swift.max(1e-30, (a.norm() * b.norm()).item())
        }
        if precision == .bf16, !(stepAgreement >= Self.bf16StepAgreement) {
            problems.append(String(format: "the step moved the outputs differently (cosine %.4f between the two sides' changes, below %.2f)",
                                   stepAgreement, Self.bf16StepAgreement))
        }
        passed = problems.isEmpty
        lossDifference = worstLoss
        outputDifference = worstOutput
        message = passed
            ? String(format: "outputs before the step within %.1e, losses within %.1e, outputs after within %.1e, step cosine %.4f",
                     forwardDifference, worstLoss, worstOutput, stepAgreement)
            : problems.joined(separator: "; ")
    }
}
