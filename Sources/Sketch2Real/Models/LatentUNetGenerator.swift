import NN
import Torch

/// Configuration of the U-Net generator with a latent code (BicycleGAN, MSGAN).
public struct LatentUNetConfig: Sendable, Codable, Equatable, DefaultedConfiguration {
    public var inputChannels = 1
    public var outputChannels = 3
    public var ngf = 64
    /// Stride-2 levels: 8 for 256² images, 7 for 128², 6 for 64² (at least 5).
    public var levels = 8
    public var norm: NormKind = .instance
    public var dropout = false
    /// Code length (nz).
    public var latentChannels = 8
    /// true: the code is concatenated at every level (BicycleGAN's G_Unet_add_all);
    /// false: only to the input (pix2pix + z, as MSGAN).
    public var latentAtEveryLevel = true

    public init() {}

    /// Levels for square images of `size` pixels: the innermost level works at 1×1.
    public static func levels(forSize size: Int) -> Int {
        var n = 0
        while (1 << (n + 1)) <= size { n += 1 }
        return Swift.max(5, n)
    }

    /// Input sides must be multiples of this.
    public var stride: Int { 1 << levels }

    public func validate() throws {
        guard [1, 3].contains(inputChannels), [1, 3].contains(outputChannels), ngf >= 1, latentChannels >= 0 else {
            throw ModelError("image channels must be 1 or 3, ngf positive and the code length not negative")
        }
        guard (5 ... 12).contains(levels) else { throw ModelError("U-Net levels must lie in 5…12, got \(levels)") }
        try ModelLimits.check("ngf", ngf, atMost: ModelLimits.width)
        try ModelLimits.check("the latent code length", latentChannels, atMost: ModelLimits.latentChannels)
    }
}

/// BicycleGAN's U-Net generator `G(x, z)`: widths ngf, 2·ngf, 4·ngf, then 8·ngf for the
/// remaining levels; 4×4 convolutions with biases, LeakyReLU 0.2 down, ReLU up, tanh out.
/// State-dict names `model.down.*`, `model.submodule.…`, `model.up.*`.
public final class LatentUNetGenerator: Module {
    public let config: LatentUNetConfig
    public let model: LatentUNetBlock

    public init(_ config: LatentUNetConfig) throws {
        try config.validate()
        self.config = config
        let ngf = config.ngf, norm = config.norm, nz = config.latentChannels
        let inner = config.latentAtEveryLevel ? nz : 0
        var block = LatentUNetBlock(input: ngf * 8, outer: ngf * 8, inner: ngf * 8, latent: inner, submodule: nil,
                                    innermost: true, norm: norm, dropout: false)
        for _ in 0 ..< (config.levels - 5) {
            block = LatentUNetBlock(input: ngf * 8, outer: ngf * 8, inner: ngf * 8, latent: inner, submodule: block,
                                    norm: norm, dropout: config.dropout)
        }
        block = LatentUNetBlock(input: ngf * 4, outer: ngf * 4, inner: ngf * 8, latent: inner, submodule: block, norm: norm, dropout: false)
        block = LatentUNetBlock(input: ngf * 2, outer: ngf * 2, inner: ngf * 4, latent: inner, submodule: block, norm: norm, dropout: false)
        block = LatentUNetBlock(input: ngf, outer: ngf, inner: ngf * 2, latent: inner, submodule: block, norm: norm, dropout: false)
        model = LatentUNetBlock(input: config.inputChannels, outer: config.outputChannels, inner: ngf, latent: nz,
                                submodule: block, outermost: true, norm: norm, dropout: false)
        super.init()
    }

    /// N×C×H×W sketches and N×nz codes → N×3×H×W images in [-1, 1].
    /// Runs in `Torch.precision` (see `Torch.mixedPrecision`); the output is float32.
    public func callAsFunction(_ x: Tensor, z: Tensor) -> Tensor { Torch.mixedPrecision { model(x, z: z) } }
}
