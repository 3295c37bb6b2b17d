import NN
import Torch

/// A residual block as in pix2pix's ResNet generator — reflect-pad, 3×3 conv, norm, ReLU,
/// (dropout), reflect-pad, 3×3 conv, norm — with optional CBAM attention on the residual
/// branch before the identity is added: `x + attention(conv_block(x))`.
///
/// With `latentChannels` > 0 a latent code modulates both normalisations, as MUNIT's adaptive
/// instance norm does: one linear map `modulation` turns z into a per-channel scale and shift
/// for each, applied as `norm(h)·(1 + γ) + β`. Unlike a code tiled over the input, which the
/// first instance norm erases, the code then reaches every block.
///
/// With `demodulated`, the block has no normalisation (identities hold their places) and both
/// convolutions are demodulated (`Demodulation`); a code then sets each convolution's input
/// scale s = 1 + (modulation(z))ᵢ instead of a norm's scale and shift.
///
/// With `residualGain`, the branch is multiplied by a learned per-channel gain `residual_gain`
/// that starts at zero (ReZero, Bachlechner et al. 2021): `x + g ⊙ attention(conv_block(x))`. The
/// block is then the identity at first and lets the encoder's sketch features through unchanged;
/// a demodulated block has no norm to keep its branch small otherwise (demodulation fixes each
/// convolution's gain at about one), so without it every block adds as much as it passes on.
public final class AttentionResidualBlock: Module, UnaryLayer {
    @Child public var convBlock: Sequential
    public let attention: CBAM?
    /// z → (γ₁, β₁, γ₂, β₂), each `channels` wide; demodulated: z → (s₁ − 1, s₂ − 1).
    public let modulation: Linear?
    /// Positions of the two normalisation layers in `convBlock`.
    let normPositions: [Int]
    /// Positions of the two convolutions in `convBlock`.
    let convolutionPositions: [Int]
    public let demodulated: Bool
    /// Per-channel gain on the branch (`residualGain`), zero at initialisation.
    @OptionalParameter public var residualGain: Tensor?

    public init(channels: Int, norm: NormKind, dropout: Bool = false, attention: Bool, reduction: Int = 16,
                latentChannels: Int = 0, demodulated: Bool = false, residualGain: Bool = false) {
        let norm = demodulated ? NormKind.none : norm
        let bias = norm.convolutionsNeedBias
        var layers: [any UnaryLayer] = [
            ReflectionPad2d(1), Conv2d(channels, channels, kernelSize: 3, bias: bias), norm.layer(channels), ReLU(),
        ]
        if dropout { layers.append(Dropout(0.5)) }
        layers += [ReflectionPad2d(1), Conv2d(channels, channels, kernelSize: 3, bias: bias), norm.layer(channels)]
        normPositions = [2, layers.count - 1]
        convolutionPositions = [1, layers.count - 2]
        self.demodulated = demodulated
        _convBlock = Child(wrappedValue: Sequential(layers), key: "conv_block")
        self.attention = attention ? CBAM(channels: channels, reduction: reduction) : nil
        modulation = latentChannels > 0 ? Linear(latentChannels, (demodulated ? 2 : 4) * channels) : nil
        _residualGain = OptionalParameter(wrappedValue: residualGain ? Tensor.zeros([channels]) : nil, key: "residual_gain")
        super.init()
    }

    /// `x + g ⊙ branch` with the residual gain, else `x + branch`; `branch` before attention.
    func added(_ x: Tensor, _ branch: Tensor) -> Tensor {
        let attended = attention.map { $0(branch) } ?? branch
        guard let residualGain else { return x + attended }
        return x + attended * residualGain.reshape([1, residualGain.size(0), 1, 1])
    }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        if demodulated { return self(x, code: nil) }
        return added(x, convBlock(x))
    }

    /// The block with its normalisations modulated by `code` (N×latent); without a modulation
    /// the code is ignored.
    public func callAsFunction(_ x: Tensor, code: Tensor?) -> Tensor {
        if demodulated {
            let scales = modulation.flatMap { m in code.map { (m($0) + 1.0).chunked(2, dim: 1) } }
            var h = x
            for (i, layer) in convBlock.layers.enumerated() {
                if let k = convolutionPositions.firstIndex(of: i), let conv = layer as? Conv2d {
                    h = Demodulation.convolve(conv, h, scale: scales?[k])
                } else {
                    h = layer(h)
                }
            }
            return added(x, h)
        }
        guard let modulation, let code else { return self(x) }
        let parameters = modulation(code).unsqueezed(2).unsqueezed(3).chunked(4, dim: 1)
        var h = x
        for (i, layer) in convBlock.layers.enumerated() {
            h = layer(h)
            if let k = normPositions.firstIndex(of: i) {
                h = h * (parameters[2 * k] + 1.0) + parameters[2 * k + 1]
            }
        }
        return added(x, h)
    }
}
