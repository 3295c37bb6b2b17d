import NN
import Torch

/// Configuration of a (multi-scale) conditional PatchGAN discriminator.
public struct DiscriminatorConfig: Sendable, Codable, Equatable, DefaultedConfiguration {
    /// Channels of the input: condition + image for a conditional D.
    public var inputChannels = 4
    public var ndf = 64
    /// Stride-2 layers after the first (3 gives the 70×70 receptive field).
    public var layers = 3
    public var norm: NormKind = .instance
    /// Discriminators at successively halved resolutions (pix2pixHD's num_D).
    public var scales = 1
    /// Each further scale's width as a fraction of the previous one's.
    public var widthFactorPerScale = 0.5
    public var spectralNorm = false

    public init() {}

    public func validate() throws {
        guard inputChannels >= 1, ndf >= 1, layers >= 1, scales >= 1 else {
            throw ModelError("discriminator channels, width, layer and scale counts must be positive")
        }
        try ModelLimits.check("ndf", ndf, atMost: ModelLimits.width)
        try ModelLimits.check("the discriminator's layer count", layers, atMost: ModelLimits.discriminatorLayers)
        try ModelLimits.check("the discriminator's scale count", scales, atMost: ModelLimits.discriminatorScales)
    }

    /// Whether every scale's 4×4 convolutions (padding 1) fit images of this side: the
    /// coarsest scale needs about 3·2^layers pixels.
    public func accepts(side: Int) -> Bool {
        var s = side
        for k in 0 ..< scales {
            if k > 0 { s = (s - 1) / 2 + 1 }
            var t = s
            for n in 0 ... layers + 1 {
                guard t + 2 >= 4 else { return false }
                t = n < layers ? (t - 2) / 2 + 1 : t - 1
            }
            guard t >= 1 else { return false }
        }
        return true
    }
}

/// pix2pix's N-layer PatchGAN: C64 (no norm), then C128, C256 stride 2, C512 stride 1, and a
/// 1-channel map; 4×4 kernels, padding 1, LeakyReLU 0.2. State-dict names `model.<i>.*`, as
/// pix2pix's `NLayerDiscriminator`.
public final class PatchDiscriminator: Module, UnaryLayer {
    public let model: Sequential
    /// Indices in `model` after which an intermediate feature map is taken (for feature matching).
    let featureIndices: [Int]

    public init(inputChannels: Int, ndf: Int, layers: Int, norm: NormKind, spectralNorm: Bool) {
        let bias = norm.convolutionsNeedBias
        func conv(_ i: Int, _ o: Int, stride: Int, bias: Bool) -> Conv2d {
            let c = Conv2d(i, o, kernelSize: 4, stride: Size2(stride), padding: 1, bias: bias)
            if spectralNorm { c.applySpectralNorm() }
            return c
        }
        var seq: [any UnaryLayer] = [conv(inputChannels, ndf, stride: 2, bias: true), LeakyReLU(0.2)]
        var indices = [1]
        var mult = 1
        for n in 1 ... layers {
            let previous = mult
            mult = Swift.min(1 << n, 8)
            seq += [conv(ndf * previous, ndf * mult, stride: n == layers ? 1 : 2, bias: bias), norm.layer(ndf * mult), LeakyReLU(0.2)]
            indices.append(seq.count - 1)
        }
        seq.append(conv(ndf * mult, 1, stride: 1, bias: true))
        indices.append(seq.count - 1)
        model = Sequential(seq)
        featureIndices = indices
        super.init()
    }

    public func callAsFunction(_ x: Tensor) -> Tensor { model(x) }

    /// Activations after each LeakyReLU, then the output map (last).
    public func features(_ x: Tensor) -> [Tensor] {
        var out: [Tensor] = []
        var h = x
        var next = 0
        for (i, layer) in model.layers.enumerated() {
            h = layer(h)
            if next < featureIndices.count, featureIndices[next] == i {
                out.append(h)
                next += 1
            }
        }
        return out
    }
}

/// One or more PatchGANs, each on a 2× average-pooled copy of the previous scale's input.
/// State-dict names `scales.<k>.model.<i>.*`.
public final class MultiScaleDiscriminator: Module {
    public let config: DiscriminatorConfig
    public let scales: [PatchDiscriminator]

    public init(_ config: DiscriminatorConfig) throws {
        try config.validate()
        self.config = config
        var width = Double(config.ndf)
        var list: [PatchDiscriminator] = []
        for _ in 0 ..< config.scales {
            list.append(PatchDiscriminator(inputChannels: config.inputChannels, ndf: Swift.max(1, Int(width.rounded())),
                                           layers: config.layers, norm: config.norm, spectralNorm: config.spectralNorm))
            width *= config.widthFactorPerScale
        }
        scales = list
        super.init()
    }

    static func downsample(_ x: Tensor) -> Tensor {
        x.avgPool2d(kernel: 3, stride: 2, padding: 1, countIncludePad: false)
    }

    /// Output maps, finest scale first; computed in `Torch.precision`, returned in float32.
    public func callAsFunction(_ x: Tensor) -> [Tensor] { Torch.mixedPrecision { outputs(x) } }

    func outputs(_ x: Tensor) -> [Tensor] {
        var out: [Tensor] = []
        var h = x
        for (k, d) in scales.enumerated() {
            if k > 0 { h = Self.downsample(h) }
            out.append(d(h))
        }
        return out
    }

    /// Per scale: intermediate activations, then the output map; computed in
    /// `Torch.precision`, returned in float32.
    public func features(_ x: Tensor) -> [[Tensor]] { Torch.mixedPrecision { allFeatures(x) } }

    func allFeatures(_ x: Tensor) -> [[Tensor]] {
        var out: [[Tensor]] = []
        var h = x
        for (k, d) in scales.enumerated() {
            if k > 0 { h = Self.downsample(h) }
            out.append(d.features(h))
        }
        return out
    }
}
