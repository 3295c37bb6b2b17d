import NN
import Torch

/// Weight demodulation (StyleGAN2, Karras et al. 2020), the replacement for normalising
/// feature maps: instead of instance norm (and adaptive instance norm's scale and shift after
/// it), a convolution's weights are scaled per input channel by a style s and each output
/// channel's weights divided by their L2 norm, w″ = s·w / √(Σ (s·w)² + ε). Expected activation
/// statistics stay as a normalisation would keep them, but no feature map is normalised by its
/// own content, so a single spike cannot grow into the "droplet" that instance norm lets a
/// network use to steer its statistics.
///
/// Computed without per-example weights (StyleGAN2's unfused form): the input is scaled by s,
/// convolved with w, and the output scaled by 1 / √(s² · Σₖ w² + ε).
public enum Demodulation {
    public static let epsilon = 1e-8

    /// `conv` (bias, stride and padding as it has them) with demodulated weights; `scale`
    /// N × in-channels, or nil for s = 1 (then the same weights serve every example).
    public static func convolve(_ conv: Conv2d, _ x: Tensor, scale: Tensor?) -> Tensor {
        let w = conv.weight
        let squares = w.pow(2).sum(dims: [2, 3]) // out × in
        let out = conv.outChannels
        guard let scale else {
            let d = (squares.sum(dims: [1]) + epsilon).rsqrt().reshape([out, 1, 1, 1])
            return x.conv2d(weight: w * d, bias: conv.bias, stride: conv.stride, padding: conv.padding)
        }
        let y = (x * scale.unsqueezed(2).unsqueezed(3)).conv2d(weight: w, stride: conv.stride, padding: conv.padding)
        let d = (scale.pow(2).matmul(squares.transposed(0, 1)) + epsilon).rsqrt() // N × out
        let scaled = y * d.unsqueezed(2).unsqueezed(3)
        return conv.bias.map { scaled + $0.reshape([1, out, 1, 1]) } ?? scaled
    }
}
