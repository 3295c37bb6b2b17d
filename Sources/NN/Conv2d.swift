import Torch

/// 2-D convolution over NCHW input, weight (out, in/groups, kh, kw), PyTorch's default init.
public final class Conv2d: Module, UnaryLayer, SpectrallyNormalizable {
    @Parameter public var weight: Tensor
    @OptionalParameter public var bias: Tensor?
    @OptionalBuffer(key: "weight_u") public var spectralU: Tensor? = nil
    @OptionalBuffer(key: "weight_v") public var spectralV: Tensor? = nil
    public var spectralNorm: SpectralNorm?
    public let inChannels: Int, outChannels: Int
    public let kernelSize: Size2, stride: Size2, padding: Size2, dilation: Size2
    public let groups: Int

    public init(_ inChannels: Int, _ outChannels: Int, kernelSize: Size2, stride: Size2 = 1, padding: Size2 = 0,
                dilation: Size2 = 1, groups: Int = 1, bias: Bool = true) {
        precondition(inChannels > 0 && outChannels > 0 && groups > 0, "channel and group counts must be positive")
        precondition(inChannels % groups == 0 && outChannels % groups == 0, "channels must divide into groups")
        self.inChannels = inChannels
        self.outChannels = outChannels
        self.kernelSize = kernelSize
        self.stride = stride
        self.padding = padding
        self.dilation = dilation
        self.groups = groups
        let fanIn = inChannels / groups * kernelSize.h * kernelSize.w
        let bound = 1 / Double(fanIn).squareRoot()
        _weight = Parameter(wrappedValue: Init.uniform([outChannels, inChannels / groups, kernelSize.h, kernelSize.w], bound: bound))
        _bias = OptionalParameter(wrappedValue: bias ? Init.uniform([outChannels], bound: bound) : nil)
        super.init()
    }

    public var weightSlot: TensorSlot { $weight }
    public var spectralUSlot: TensorSlot { $spectralU }
    public var spectralVSlot: TensorSlot { $spectralV }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        let y = x.conv2d(weight: effectiveWeight(), bias: bias, stride: stride, padding: padding, dilation: dilation, groups: groups)
        FLOPCounter.record(macs: Double(y.count * (inChannels / groups) * kernelSize.h * kernelSize.w), input: x, weight: weight)
        ActivationCounter.record(y)
        return y
    }
}

/// Transposed 2-D convolution, weight (in, out/groups, kh, kw); `outputPadding` adds rows
/// and columns on one side so stride-2 layers exactly double the size.
public final class ConvTranspose2d: Module, UnaryLayer {
    @Parameter public var weight: Tensor
    @OptionalParameter public var bias: Tensor?
    public let inChannels: Int, outChannels: Int
    public let kernelSize: Size2, stride: Size2, padding: Size2, outputPadding: Size2, dilation: Size2
    public let groups: Int

    public init(_ inChannels: Int, _ outChannels: Int, kernelSize: Size2, stride: Size2 = 1, padding: Size2 = 0,
                outputPadding: Size2 = 0, groups: Int = 1, bias: Bool = true, dilation: Size2 = 1) {
        precondition(inChannels > 0 && outChannels > 0 && groups > 0, "channel and group counts must be positive")
        precondition(inChannels % groups == 0 && outChannels % groups == 0, "channels must divide into groups")
        self.inChannels = inChannels
        self.outChannels = outChannels
        self.kernelSize = kernelSize
        self.stride = stride
        self.padding = padding
        self.outputPadding = outputPadding
        self.dilation = dilation
        self.groups = groups
        // PyTorch computes fan-in from dimension 1 of the weight, i.e. out/groups here.
        let fanIn = outChannels / groups * kernelSize.h * kernelSize.w
        let bound = 1 / Double(fanIn).squareRoot()
        _weight = Parameter(wrappedValue: Init.uniform([inChannels, outChannels / groups, kernelSize.h, kernelSize.w], bound: bound))
        _bias = OptionalParameter(wrappedValue: bias ? Init.uniform([outChannels], bound: bound) : nil)
        super.init()
    }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        let y = x.convTranspose2d(weight: weight, bias: bias, stride: stride, padding: padding, outputPadding: outputPadding,
                                  groups: groups, dilation: dilation)
        FLOPCounter.record(macs: Double(x.count * (outChannels / groups) * kernelSize.h * kernelSize.w), input: x, weight: weight)
        ActivationCounter.record(y)
        return y
    }
}

/// Fully connected layer `x Wᵀ + b`.
public final class Linear: Module, UnaryLayer, SpectrallyNormalizable {
    @Parameter public var weight: Tensor
    @OptionalParameter public var bias: Tensor?
    @OptionalBuffer(key: "weight_u") public var spectralU: Tensor? = nil
    @OptionalBuffer(key: "weight_v") public var spectralV: Tensor? = nil
    public var spectralNorm: SpectralNorm?
    public let inFeatures: Int, outFeatures: Int

    public init(_ inFeatures: Int, _ outFeatures: Int, bias: Bool = true) {
        precondition(inFeatures > 0 && outFeatures > 0, "feature counts must be positive")
        self.inFeatures = inFeatures
        self.outFeatures = outFeatures
        let bound = 1 / Double(inFeatures).squareRoot()
        _weight = Parameter(wrappedValue: Init.uniform([outFeatures, inFeatures], bound: bound))
        _bias = OptionalParameter(wrappedValue: bias ? Init.uniform([outFeatures], bound: bound) : nil)
        super.init()
    }

    public var weightSlot: TensorSlot { $weight }
    public var spectralUSlot: TensorSlot { $spectralU }
    public var spectralVSlot: TensorSlot { $spectralV }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        let y = x.linear(weight: effectiveWeight(), bias: bias)
        FLOPCounter.record(macs: Double(y.count * inFeatures), input: x, weight: weight)
        ActivationCounter.record(y)
        return y
    }
}
