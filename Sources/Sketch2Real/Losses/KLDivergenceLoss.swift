import Torch

/// KL(N(μ, σ²) ‖ N(0, I)) = −½ Σ (1 + log σ² − μ² − σ²), summed over the batch and the code
/// as BicycleGAN sums it (so its weight λ_kl acts per image, not per element).
public enum KLDivergenceLoss {
    public static func loss(mu: Tensor, logVariance: Tensor) -> Tensor {
        ((1.0 + logVariance - mu.square() - logVariance.exp()).sum()) * -0.5
    }
}
