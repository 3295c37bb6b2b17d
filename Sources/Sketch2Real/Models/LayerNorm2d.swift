import NN
import Torch

/// Normalisation over each sample's channels and pixels together, with a per-channel scale and
/// shift: PyTorch's `nn.GroupNorm(1, C)`. Unlike instance norm it keeps per-channel constants,
/// such as those a spatially tiled latent code adds after a convolution, so the code can
/// reach the output (BicycleGAN's ResNet generator uses it for the same reason).
public final class LayerNorm2d: Module, UnaryLayer {
    @Parameter public var weight: Tensor
    @Parameter public var bias: Tensor
    public let numChannels: Int
    public let eps: Double

    public init(_ numChannels: Int, eps: Double = 1e-5) {
        self.numChannels = numChannels
        self.eps = eps
        _weight = Parameter(wrappedValue: Tensor.ones([numChannels]))
        _bias = Parameter(wrappedValue: Tensor.zeros([numChannels]))
        super.init()
    }

    // libtorch's group_norm with one group, as nn.GroupNorm(1, C) runs it: one kernel each way,
    // and autograd keeps only its input and two statistics per sample, where the same formula
    // written op by op kept three activation-sized tensors per layer (LSRAGAN's peak memory).
    // Under bfloat16 autocast the input arrives in bfloat16 while the weights stay float32, and
    // libtorch 1.13's CPU autocast does not cast group_norm's arguments: it runs in float32 here,
    // as autocast runs other normalisations.
    public func callAsFunction(_ x: Tensor) -> Tensor {
        (x.dtype == weight.dtype ? x : x.to(weight.dtype)).groupNorm(groups: 1, weight: weight, bias: bias, eps: eps)
    }
}
