import NN
import Torch

/// Generator architectures of the pix2pix baseline.
public enum Pix2PixArchitecture: String, Sendable, Codable, CaseIterable {
    case unet256, unet128, resnet9, resnet6

    public var downsamplings: Int {
        switch self {
        case .unet256: 8
        case .unet128: 7
        case .resnet9, .resnet6: 2
        }
    }
}

public struct Pix2PixConfig: Sendable, Codable, Equatable, DefaultedConfiguration {
    public var architecture: Pix2PixArchitecture = .unet256
    public var inputChannels = 1
    public var outputChannels = 3
    public var ngf = 64
    public var norm: NormKind = .batch
    public var dropout = true

    public init() {}

    /// Input sides must be multiples of this.
    public var stride: Int { 1 << architecture.downsamplings }

    public func validate() throws {
        guard [1, 3].contains(inputChannels), [1, 3].contains(outputChannels), ngf >= 1 else {
            throw ModelError("image channels must be 1 or 3 and ngf positive")
        }
        try ModelLimits.check("ngf", ngf, atMost: ModelLimits.width)
    }
}

/// One level of pix2pix's U-Net: down-convolution, the inner levels, up-convolution, and the
/// skip connection `cat(x, model(x))` (not at the outermost level). Names `model.<i>.*`,
/// nested as in pix2pix's `UnetSkipConnectionBlock`.
public final class UNetBlock: Module, UnaryLayer {
    public let model: Sequential
    let outermost: Bool

    init(outer: Int, inner: Int, input: Int? = nil, submodule: UNetBlock?, outermost: Bool = false,
         innermost: Bool = false, norm: NormKind, dropout: Bool) {
        let bias = norm.convolutionsNeedBias
        let input = input ?? outer
        let downconv = Conv2d(input, inner, kernelSize: 4, stride: 2, padding: 1, bias: bias)
        var layers: [any UnaryLayer]
        if outermost {
            let upconv = ConvTranspose2d(inner * 2, outer, kernelSize: 4, stride: 2, padding: 1)
            layers = [downconv, submodule!, ReLU(), upconv, Tanh()]
        } else if innermost {
            let upconv = ConvTranspose2d(inner, outer, kernelSize: 4, stride: 2, padding: 1, bias: bias)
            layers = [LeakyReLU(0.2), downconv, ReLU(), upconv, norm.layer(outer)]
        } else {
            let upconv = ConvTranspose2d(inner * 2, outer, kernelSize: 4, stride: 2, padding: 1, bias: bias)
            layers = [LeakyReLU(0.2), downconv, norm.layer(inner), submodule!, ReLU(), upconv, norm.layer(outer)]
            if dropout { layers.append(Dropout(0.5)) }
        }
        model = Sequential(layers)
        self.outermost = outermost
        super.init()
    }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        outermost ? model(x) : Tensor.cat([x, model(x)], dim: 1)
    }
}

/// pix2pix's generators: U-Net (8 or 7 levels, 64-128-256-512…, dropout in the three inner
/// 512 decoder blocks) or ResNet (6 or 9 residual blocks). Names `model.*` as in pix2pix.
public final class Pix2PixGenerator: Module {
    public let config: Pix2PixConfig
    public let model: Module & UnaryLayer

    public init(_ config: Pix2PixConfig) throws {
        try config.validate()
        self.config = config
        let ngf = config.ngf, norm = config.norm
        switch config.architecture {
        case .unet256, .unet128:
            var block = UNetBlock(outer: ngf * 8, inner: ngf * 8, submodule: nil, innermost: true, norm: norm, dropout: false)
            for _ in 0 ..< (config.architecture.downsamplings - 5) {
                block = UNetBlock(outer: ngf * 8, inner: ngf * 8, submodule: block, norm: norm, dropout: config.dropout)
            }
            block = UNetBlock(outer: ngf * 4, inner: ngf * 8, submodule: block, norm: norm, dropout: false)
            block = UNetBlock(outer: ngf * 2, inner: ngf * 4, submodule: block, norm: norm, dropout: false)
            block = UNetBlock(outer: ngf, inner: ngf * 2, submodule: block, norm: norm, dropout: false)
            model = UNetBlock(outer: config.outputChannels, inner: ngf, input: config.inputChannels, submodule: block,
                              outermost: true, norm: norm, dropout: false)
        case .resnet9, .resnet6:
            let bias = norm.convolutionsNeedBias
            var layers: [any UnaryLayer] = [ReflectionPad2d(3), Conv2d(config.inputChannels, ngf, kernelSize: 7, bias: bias), norm.layer(ngf), ReLU()]
            for (i, o) in [(ngf, ngf * 2), (ngf * 2, ngf * 4)] {
                layers += [Conv2d(i, o, kernelSize: 3, stride: 2, padding: 1, bias: bias), norm.layer(o), ReLU()]
            }
            for _ in 0 ..< (config.architecture == .resnet9 ? 9 : 6) {
                layers.append(AttentionResidualBlock(channels: ngf * 4, norm: norm, dropout: config.dropout, attention: false))
            }
            for (i, o) in [(ngf * 4, ngf * 2), (ngf * 2, ngf)] {
                layers += [ConvTranspose2d(i, o, kernelSize: 3, stride: 2, padding: 1, outputPadding: 1, bias: bias), norm.layer(o), ReLU()]
            }
            layers += [ReflectionPad2d(3), Conv2d(ngf, config.outputChannels, kernelSize: 7), Tanh()]
            model = Sequential(layers)
        }
        super.init()
    }

    /// Runs in `Torch.precision` (see `Torch.mixedPrecision`); the output is float32.
    public func callAsFunction(_ x: Tensor) -> Tensor { Torch.mixedPrecision { model(x) } }
}
