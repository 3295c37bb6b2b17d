import NN
import Torch

/// One level of BicycleGAN's U-Net with a latent code: the code (when this level takes it) is
/// tiled and concatenated to the level's input, then `down` (LeakyReLU 0.2, 4×4 stride-2
/// conv, norm), the inner levels, `up` (ReLU, 4×4 stride-2 transposed conv, norm, dropout) and
/// the skip connection `cat(up(...), x)` — output first, unlike pix2pix's `cat(x, ...)`.
///
/// State-dict names `down.<i>.*`, `submodule.*`, `up.<i>.*`, as BicycleGAN's `UnetBlock_with_z`.
public final class LatentUNetBlock: Module {
    public let down: Sequential
    public let submodule: LatentUNetBlock?
    public let up: Sequential
    let outermost: Bool
    let latentChannels: Int

    /// `input` channels arrive from outside, `inner` leave the down-convolution, `outer` leave
    /// the up-convolution; `latent` code channels are concatenated to the input (0: none).
    init(input: Int, outer: Int, inner: Int, latent: Int, submodule: LatentUNetBlock?, outermost: Bool = false,
         innermost: Bool = false, norm: NormKind, dropout: Bool) {
        let downconv = Conv2d(input + latent, inner, kernelSize: 4, stride: 2, padding: 1)
        let upIn = innermost ? inner : inner * 2
        let upconv = ConvTranspose2d(upIn, outer, kernelSize: 4, stride: 2, padding: 1)
        var downLayers: [any UnaryLayer], upLayers: [any UnaryLayer] = [ReLU(), upconv]
        if outermost {
            downLayers = [downconv]
            upLayers.append(Tanh())
        } else if innermost {
            downLayers = [LeakyReLU(0.2), downconv]
            if norm != .none { upLayers.append(norm.layer(outer)) }
        } else {
            downLayers = [LeakyReLU(0.2), downconv]
            if norm != .none { downLayers.append(norm.layer(inner)) }
            if norm != .none { upLayers.append(norm.layer(outer)) }
            if dropout { upLayers.append(Dropout(0.5)) }
        }
        down = Sequential(downLayers)
        up = Sequential(upLayers)
        self.submodule = submodule
        self.outermost = outermost
        latentChannels = latent
        super.init()
    }

    public func callAsFunction(_ x: Tensor, z: Tensor) -> Tensor {
        let input = latentChannels > 0 ? SRAGANGenerator.withTiledCode(x, z) : x
        var h = down(input)
        if let submodule { h = submodule(h, z: z) }
        h = up(h)
        return outermost ? h : Tensor.cat([h, x], dim: 1)
    }
}
