import Torch

/// Extended difference of Gaussians (Winnemöller, Kyprianidis & Olsen 2012), in its τ form:
///
///     D = G_σ(L) − τ·G_kσ(L)          L: luma in [0, 1]
///     S = 1                            where D ≥ ε
///     S = 1 + tanh(φ·(D − ε))          elsewhere
///
/// The p form of the paper, (1 + p)·G_σ − p·G_kσ, is the same operator scaled by 1 + p, with
/// τ = p / (1 + p). Keeping τ < 1 and ε ≤ 0 makes every flat region, dark or light, map to
/// white, so only the dark side of an intensity step draws a line: a line drawing rather than
/// the paper's toned, woodcut-like renderings.
public struct XDoGSketch: SketchExtractor, Codable, Equatable, Sendable {
    /// Scale of the finer Gaussian, in pixels: the line width grows with it.
    public var sigma: Double
    /// Ratio of the coarser Gaussian's scale to the finer one's (1.6 approximates a Laplacian of Gaussian).
    public var k: Double
    /// Weight of the coarser Gaussian; closer to 1 draws weaker edges too.
    public var tau: Double
    /// Level of D below which a pixel darkens; lower values keep only stronger edges.
    public var epsilon: Double
    /// Steepness of the fall to black below ε: large values give nearly binary lines.
    public var phi: Double

    /// Defaults chosen on photos 190–512 px wide: lines one to three pixels wide on outlines and
    /// strong texture; flat and smoothly shaded regions stay white whatever their brightness.
    public init(sigma: Double = 0.8, k: Double = 1.6, tau: Double = 0.98, epsilon: Double = -0.01, phi: Double = 200) {
        self.sigma = sigma
        self.k = k
        self.tau = tau
        self.epsilon = epsilon
        self.phi = phi
    }

    public func sketch(_ photo: Image) throws -> Image {
        guard sigma > 0, k > 0, phi > 0, sigma.isFinite, k.isFinite, tau.isFinite, epsilon.isFinite, phi.isFinite else {
            throw SketchError("XDoG needs finite settings with sigma, k and phi above 0 (sigma \(sigma), k \(k), phi \(phi))")
        }
        return try withNoGrad {
            let luma = photo.grayscale().pixels.contiguous()
            let fine = try ImageOps.gaussianBlur(luma, sigma: sigma)
            let coarse = try ImageOps.gaussianBlur(luma, sigma: sigma * k)
            let d = fine - coarse * tau
            // 1 + tanh(φ(D − ε)) is at least 1 exactly where D ≥ ε, so the clamp is the case split.
            let s = (((d - epsilon) * phi).tanh() + 1.0).clamp(min: 0, max: 1)
            return Image(pixels: s.contiguous())
        }
    }
}
