import Foundation

/// Loss weights and options of the one-to-many models (LSRAGAN, BicycleGAN, MSGAN); saved in
/// `TrainingConfig.multimodal`. Defaults follow BicycleGAN, as SPEC.md states.
public struct MultimodalOptions: Sendable, Codable, Equatable, DefaultedConfiguration {
    /// Length of the latent code z.
    public var nz = 8
    /// KL(q(z|y) ‖ N(0, I)), summed over the batch and the code, as BicycleGAN does.
    public var lambdaKL = 0.01
    /// Latent regression |μ(E(G(x, z))) − z|₁ on the random path; it updates G only.
    public var lambdaZ = 0.5
    /// Adversarial weight on the encoded path (D), or the only one for MSGAN.
    public var lambdaGAN = 1.0
    /// Adversarial weight on the random path (D2).
    public var lambdaGAN2 = 1.0
    /// Mode-seeking regulariser 1 / (mean|G(x,z1) − G(x,z2)| / mean|z1 − z2| + 1e-5).
    public var lambdaMS = 1.0
    /// ε in the mode-seeking term 1 / (ratio + ε).
    public var msEpsilon = 1e-5
    /// When positive, the mode-seeking ratio is capped at this value before the term is formed,
    /// so the term stops pushing once samples are that far apart per unit of code distance.
    public var msClamp = 0.0
    /// Discriminators see (sketch, image) pairs; off: the image alone (BicycleGAN's default).
    public var conditionalDiscriminator = true
    /// The random path's D2 sees (sketch, image) pairs; nil: as `conditionalDiscriminator`.
    public var conditionalD2: Bool? = nil
    /// Random codes per row of the sample and validation grids.
    public var sampleCodes = 4

    public init() {}

    /// Whether D2 sees (sketch, image) pairs.
    public var d2IsConditional: Bool { conditionalD2 ?? conditionalDiscriminator }

    public func validate() throws {
        guard nz >= 1 else { throw ModelError("the latent code needs at least one channel (--nz), got \(nz)") }
        guard [lambdaKL, lambdaZ, lambdaGAN, lambdaGAN2, lambdaMS].allSatisfy({ $0 >= 0 && $0.isFinite }) else {
            throw ModelError("loss weights must be finite and not negative")
        }
        guard sampleCodes >= 1 else { throw ModelError("sample grids need at least one random code") }
        guard msEpsilon > 0, msEpsilon.isFinite else { throw ModelError("--ms-epsilon must be a positive number, got \(msEpsilon)") }
        guard msClamp >= 0, msClamp.isFinite else { throw ModelError("--ms-clamp must be 0 (no cap) or a positive number, got \(msClamp)") }
    }
}
