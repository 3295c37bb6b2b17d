import NN
import Torch

/// The residual block of BicycleGAN's ResNet encoder: (norm,) LeakyReLU, 3×3 conv, (norm,)
/// LeakyReLU, 3×3 conv to the new width, 2×2 average pool — plus a shortcut that pools first
/// and then widens with a 1×1 conv. The block halves the resolution.
///
/// State-dict names: `conv.<i>.*` (the last entry, conv + pool, nests as `conv.<k>.0.*`) and
/// `shortcut.1.*`, as BicycleGAN's `BasicBlock` names them.
public final class EncoderBasicBlock: Module, UnaryLayer {
    public let conv: Sequential
    public let shortcut: Sequential

    public init(inChannels: Int, outChannels: Int, norm: NormKind, negativeSlope: Double = 0.2) {
        var layers: [any UnaryLayer] = []
        if norm != .none { layers.append(norm.layer(inChannels)) }
        layers += [LeakyReLU(negativeSlope), Conv2d(inChannels, inChannels, kernelSize: 3, padding: 1)]
        if norm != .none { layers.append(norm.layer(inChannels)) }
        layers += [LeakyReLU(negativeSlope),
                   Sequential(Conv2d(inChannels, outChannels, kernelSize: 3, padding: 1), AvgPool2d(kernelSize: 2))]
        conv = Sequential(layers)
        shortcut = Sequential(AvgPool2d(kernelSize: 2), Conv2d(inChannels, outChannels, kernelSize: 1))
        super.init()
    }

    public func callAsFunction(_ x: Tensor) -> Tensor { conv(x) + shortcut(x) }
}
