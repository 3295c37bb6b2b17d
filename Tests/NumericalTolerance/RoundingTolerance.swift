import Foundation
import Torch

/// How far a floating-point result may lie from a reference of the same computation, on any CPU,
/// thread count and kernel path. Every parity test against a stored PyTorch fixture uses this
/// rule and states the reduction length it passes in. Explained for float32; float64 and the
/// 16-bit types follow with their own unit roundoff.
///
/// Why the bound holds. Each float32 operation rounds with relative error at most
/// u = 2⁻²⁴ ≈ 5.96e-8. A value formed by summing K terms carries an error bounded by
/// γ_K·Σ|terms|, γ_K = K·u / (1 − K·u), in the worst case (Higham, *Accuracy and Stability of
/// Numerical Algorithms*, §3.1), whatever the order of the additions. That order is what differs
/// between machines: AVX2 and AVX-512 kernels block and vectorise sums differently, oneDNN picks
/// other tilings per CPU, and two threads split a reduction where one does not.
///
/// The worst case assumes every rounding errs the same way. Rounding errors of different
/// operations behave as independent, mean-zero variables, and then the error stays below
/// λ·√K·u·Σ|terms| with probability at least 1 − 2·K·exp(−λ²/2) (Higham and Mary, "A new approach
/// to probabilistic rounding error analysis", SIAM J. Sci. Comput. 41(5), 2019). With λ = 10 that
/// probability of failure is below 1e-19 per element, so the bound is as safe as the worst case
/// in practice and √K times tighter: tight enough to catch a wrong weight or a missing term.
/// Both sides of a comparison carry such an error (the reference ran on another machine), so the
/// allowance is twice one side's.
///
/// - K is the *reduction length*: the number of roundings on the longest path from the inputs to
///   one element. For one op it is the length of its sum (C·kh·kw for a convolution's output,
///   N·H·W for its weight gradient, H·W for an instance norm); for a network it is the sum of
///   those along the path, forward and backward. Each test derives it from its shapes.
/// - Σ|terms| is not known per element. The element's own magnitude plus the tensor's root mean
///   square stands in for it: an element that is a difference of large terms (a bias gradient
///   behind an instance norm is zero in exact arithmetic and a few ulps of the tensor's size in
///   float32) is compared against the size of its tensor, not relatively to itself.
///
/// - Gradients are sums over a whole backward pass, and a gradient that cancels to zero in exact
///   arithmetic (the bias of a convolution in front of an instance norm, a tiled code behind a
///   batch norm) keeps rounding error of the size of the terms it summed, not of itself. So a
///   gradient is measured against the root mean square of all the pass's reference gradients
///   together, the vector an optimiser sees (`scale`), when that is larger than its own.
///
/// The check, per element: |a − e| ≤ 2·λ·√K·u·(|e| + max(rms(e), scale)), λ = 10.
public struct RoundingTolerance: Sendable, CustomStringConvertible {
    /// Half the distance from 1 to the next number of the type.
    public let unitRoundoff: Double

    /// The longest chain of roundings that feeds one element (see the type's comment).
    public let reductionLength: Int

    public init(_ dtype: DType = .float32, reductionLength: Int) {
        precondition(reductionLength >= 1, "a reduction length counts at least one rounding")
        self.reductionLength = reductionLength
        switch dtype {
        case .float64: unitRoundoff = 0x1p-53
        case .float16: unitRoundoff = 0x1p-11
        case .bfloat16: unitRoundoff = 0x1p-8
        default: unitRoundoff = 0x1p-24
        }
    }

    /// Standard deviations of the probabilistic bound (see the type's comment).
    public static let lambda = 10.0

    /// One side's relative error allowance, λ·√K·u.
    public var relativeError: Double { Self.lambda * Double(reductionLength).squareRoot() * unitRoundoff }

    /// The largest |a − e| allowed for an element whose reference is `expected`, in a tensor whose
    /// root mean square is `rms`.
    public func bound(expected: Double, rms: Double) -> Double {
        2 * relativeError * (Swift.abs(expected) + rms)
    }

    /// The relative error allowed for a mean over many elements whose errors are each within
    /// λ·√K·u of their term: even if all of them erred the same way, the mean's relative error
    /// stays within √K·u per standard deviation, and three standard deviations are allowed.
    public var meanRelativeError: Double { 3 * Double(reductionLength).squareRoot() * unitRoundoff }

    public var description: String { "rounding bound for reduction length \(reductionLength) (u = \(unitRoundoff))" }

    /// Nil when every element is within the bound, else a sentence naming the worst element, how
    /// many differ, and the bound. Shapes must agree; NaN matches NaN, infinities must be equal.
    public func mismatch(_ actual: Tensor, _ expected: Tensor, scale: Double = 0) -> String? {
        guard actual.isDefined else { return "result is undefined" }
        if actual.shape != expected.shape { return "shape \(actual.shape), expected \(expected.shape)" }
        let a = actual.detached().toArray(Double.self), e = expected.detached().toArray(Double.self)
        return mismatch(a, e, scale: scale)
    }

    public func mismatch(_ a: [Double], _ e: [Double], scale: Double = 0) -> String? {
        guard a.count == e.count else { return "\(a.count) elements, expected \(e.count)" }
        let rms = Swift.max(Self.rms(e), scale)
        var worst: (index: Int, ratio: Double)?
        var bad = 0
        for i in a.indices {
            if a[i].isNaN && e[i].isNaN { continue }
            if !e[i].isFinite || !a[i].isFinite {
                if a[i] != e[i] { return "element \(i) is \(a[i]), expected \(e[i])" }
                continue
            }
            let allowed = bound(expected: e[i], rms: rms)
            let difference = Swift.abs(a[i] - e[i])
            guard difference > allowed else { continue }
            bad += 1
            let ratio = allowed > 0 ? difference / allowed : .infinity
            if ratio > (worst?.ratio ?? 0) { worst = (i, ratio) }
        }
        guard let w = worst else { return nil }
        let allowed = bound(expected: e[w.index], rms: rms)
        return "\(bad) of \(a.count) elements differ beyond the \(self); worst is element \(w.index): "
            + "\(a[w.index]) vs expected \(e[w.index]), |difference| \(Swift.abs(a[w.index] - e[w.index])) > \(allowed)"
    }

    /// Root mean square of the finite values.
    public static func rms(_ values: [Double]) -> Double {
        let finite = values.filter(\.isFinite)
        return finite.isEmpty ? 0 : (finite.reduce(0) { $0 + $1 * $1 } / Double(finite.count)).squareRoot()
    }

    /// Root mean square over several tensors taken together (a backward pass's gradients).
    public static func rms(_ tensors: [Tensor]) -> Double {
        rms(tensors.flatMap { $0.detached().toArray(Double.self) })
    }

    /// The largest |a − e| / bound over the elements: below 1 passes. Tests report it so a margin
    /// can be read off a run.
    public func usage(_ actual: Tensor, _ expected: Tensor, scale: Double = 0) -> Double {
        let a = actual.detached().toArray(Double.self), e = expected.detached().toArray(Double.self)
        let rms = Swift.max(Self.rms(e), scale)
        var worst = 0.0
        for i in a.indices where a[i].isFinite && e[i].isFinite {
            let allowed = bound(expected: e[i], rms: rms)
            let d = Swift.abs(a[i] - e[i])
            worst = Swift.max(worst, allowed > 0 ? d / allowed : (d > 0 ? .infinity : 0))
        }
        return worst
    }
}
