import Torch

/// Scales the gradients of `parameters` so that their joint L2 norm is at most `maxNorm`, as
/// `torch.nn.utils.clip_grad_norm_` does (norm type 2): the norm of the per-tensor norms, then
/// every gradient multiplied by min(1, maxNorm / (norm + 1e-6)). Parameters without a gradient
/// are skipped. Returns the norm before clipping (0 when no parameter has a gradient).
@discardableResult
public func clipGradientNorm(_ parameters: [Tensor], maxNorm: Double) -> Double {
    let gradients = parameters.compactMap(\.grad)
    guard !gradients.isEmpty else { return 0 }
    let total = Tensor.stack(gradients.map { $0.norm() }).norm()
    let norm = total.item()
    let coefficient = Swift.min(1, maxNorm / (norm + 1e-6))
    if coefficient < 1 { for g in gradients { g.mulInPlace(coefficient) } }
    return norm
}
