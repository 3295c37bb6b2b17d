import NN
import Torch

/// A residual block as in pix2pix's ResNet generator — reflect-pad, 3×3 conv, norm, ReLU,
/// (dropout), reflect-pad, 3×3 conv, norm — with optional CBAM attention on the residual
/// branch before the identity is added: `x + attention(conv_block(x))`.
public final class AttentionResidualBlock: Module, UnaryLayer {
    @Child public var convBlock: Sequential
    public let attention: CBAM?

    public init(channels: Int, norm: NormKind, dropout: Bool = false, attention: Bool, reduction: Int = 16) {
        let bias = norm.convolutionsNeedBias
        var layers: [any UnaryLayer] = [
            ReflectionPad2d(1), Conv2d(channels, channels, kernelSize: 3, bias: bias), norm.layer(channels), ReLU(),
        ]
        if dropout { layers.append(Dropout(0.5)) }
        layers += [ReflectionPad2d(1), Conv2d(channels, channels, kernelSize: 3, bias: bias), norm.layer(channels)]
        _convBlock = Child(wrappedValue: Sequential(layers), key: "conv_block")
        self.attention = attention ? CBAM(channels: channels, reduction: reduction) : nil
        super.init()
    }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        let residual = convBlock(x)
        return x + (attention.map { $0(residual) } ?? residual)
    }
}
