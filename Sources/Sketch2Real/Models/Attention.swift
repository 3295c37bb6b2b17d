import NN
import Torch

/// CBAM's channel gate: average- and max-pooled descriptors through one shared MLP
/// (C → C/r → C, ReLU between), summed, sigmoid, multiplied onto the input.
public final class ChannelGate: Module, UnaryLayer {
    public let mlp: Sequential

    public init(channels: Int, reduction: Int = 16) {
        let hidden = Swift.max(1, channels / reduction)
        mlp = Sequential(Linear(channels, hidden), ReLU(), Linear(hidden, channels))
        super.init()
    }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        let avg = x.mean(dims: [2, 3])
        let max = x.max(dims: [2, 3])
        let scale = (mlp(avg) + mlp(max)).sigmoid()
        return x * scale.unsqueezed(2).unsqueezed(3)
    }
}

/// CBAM's spatial gate: channel-wise max and mean maps, a 7×7 convolution (no bias), batch
/// norm and a sigmoid give a per-pixel weight.
public final class SpatialGate: Module, UnaryLayer {
    public let conv: Conv2d
    public let bn: BatchNorm2d

    public init(kernelSize: Int = 7) {
        conv = Conv2d(2, 1, kernelSize: Size2(kernelSize), padding: Size2(kernelSize / 2), bias: false)
        bn = BatchNorm2d(1)
        super.init()
    }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        let pooled = Tensor.cat([x.max(dims: [1], keepDim: true), x.mean(dims: [1], keepDim: true)], dim: 1)
        return x * bn(conv(pooled)).sigmoid()
    }
}

/// Convolutional block attention (Woo et al., 2018): channel gate, then spatial gate.
public final class CBAM: Module, UnaryLayer {
    @Child public var channelGate: ChannelGate
    @Child public var spatialGate: SpatialGate

    public init(channels: Int, reduction: Int = 16) {
        _channelGate = Child(wrappedValue: ChannelGate(channels: channels, reduction: reduction), key: "channel_gate")
        _spatialGate = Child(wrappedValue: SpatialGate(), key: "spatial_gate")
        super.init()
    }

    public func callAsFunction(_ x: Tensor) -> Tensor { spatialGate(channelGate(x)) }
}
