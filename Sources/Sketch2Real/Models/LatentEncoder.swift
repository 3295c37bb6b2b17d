import NN
import Torch

/// Configuration of the image → latent-code encoder E; saved with multimodal models.
public struct LatentEncoderConfig: Sendable, Codable, Equatable, DefaultedConfiguration {
    /// Channels of the images it encodes (the photos).
    public var inputChannels = 3
    /// Length of the code (nz).
    public var latentChannels = 8
    /// Width of the first convolution (BicycleGAN's nef).
    public var nef = 64
    /// Residual blocks, each halving the resolution.
    public var blocks = 4
    public var norm: NormKind = .instance

    public init() {}

    /// Block `n` (from 1) widens nef·min(4, n) → nef·min(4, n + 1), as BicycleGAN's E_ResNet.
    func width(_ n: Int) -> Int { nef * Swift.min(4, n) }

    /// Images must be at least this many pixels on each side.
    public var minimumSide: Int { 2 << blocks }

    public func validate() throws {
        guard [1, 3].contains(inputChannels) else { throw ModelError("the encoder's image channels must be 1 or 3, got \(inputChannels)") }
        guard latentChannels >= 1, nef >= 1, blocks >= 1 else {
            throw ModelError("the encoder's code length, width and block count must be positive")
        }
        try ModelLimits.check("nef", nef, atMost: ModelLimits.width)
        try ModelLimits.check("the encoder's block count", blocks, atMost: ModelLimits.blocks)
        try ModelLimits.check("the encoder's code length", latentChannels, atMost: ModelLimits.latentChannels)
    }
}

/// BicycleGAN's ResNet encoder E: a stride-2 4×4 conv to nef channels, residual blocks with
/// average-pool downsampling, LeakyReLU 0.2, a global average pool and two linear heads giving
/// the mean μ and log-variance log σ² of q(z | image).
///
/// State-dict names `conv.<i>.*`, `fc.0.*`, `fcVar.0.*` as BicycleGAN's `E_ResNet`. BicycleGAN
/// pools with a fixed 8×8 window (256² inputs); the global pool here gives the same result
/// there and accepts any size of at least `minimumSide`.
public final class LatentEncoder: Module {
    public let config: LatentEncoderConfig
    public let conv: Sequential
    public let fc: Sequential
    public let fcVar: Sequential

    public init(_ config: LatentEncoderConfig) throws {
        try config.validate()
        self.config = config
        var layers: [any UnaryLayer] = [Conv2d(config.inputChannels, config.nef, kernelSize: 4, stride: 2, padding: 1)]
        for n in 1 ... config.blocks {
            layers.append(EncoderBasicBlock(inChannels: config.width(n), outChannels: config.width(n + 1), norm: config.norm))
        }
        layers.append(LeakyReLU(0.2))
        conv = Sequential(layers)
        let features = config.width(config.blocks + 1)
        fc = Sequential(Linear(features, config.latentChannels))
        fcVar = Sequential(Linear(features, config.latentChannels))
        super.init()
    }

    /// N×C×H×W images in [-1, 1] → (μ, log σ²), each N×nz.
    /// Computed in `Torch.precision` (see `Torch.mixedPrecision`), returned in float32.
    public func callAsFunction(_ y: Tensor) -> (mu: Tensor, logVariance: Tensor) {
        let both = Torch.mixedPrecision { () -> [Tensor] in
            let pooled = conv(y).mean(dims: [2, 3])
            return [fc(pooled), fcVar(pooled)]
        }
        return (both[0], both[1])
    }

    /// A reparameterised sample z = μ + ε·exp(½ log σ²), ε ~ N(0, I) from the global generator
    /// (or `noise` when given), with μ and log σ² for the KL term.
    public func sample(_ y: Tensor, noise: ((_ rows: Int, _ columns: Int) -> Tensor)? = nil) -> (z: Tensor, mu: Tensor, logVariance: Tensor) {
        let (mu, logVariance) = self(y)
        let eps = noise?(mu.size(0), mu.size(1)) ?? Tensor.randn(mu.shape, dtype: mu.dtype, device: mu.device)
        return (mu + eps * (logVariance * 0.5).exp(), mu, logVariance)
    }
}
