import NN
import Torch

/// How the decoder doubles the resolution.
public enum UpsamplingKind: String, Sendable, Codable, CaseIterable {
    /// Transposed 3×3 convolution, stride 2, output padding 1 (pix2pix's ResNet decoder).
    case transposed
    /// Nearest-neighbour ×2, then a 3×3 convolution: avoids checkerboard artefacts.
    case resizeConv
}

/// Configuration of the SRAGAN generator; saved inside checkpoints and exported models.
public struct SRAGANConfig: Sendable, Codable, Equatable, DefaultedConfiguration {
    public var inputChannels = 1
    public var outputChannels = 3
    public var ngf = 64
    public var blocks = 9
    /// Attention in every k-th residual block: 1 = every block, 0 = none.
    public var attentionEvery = 2
    public var attentionReduction = 16
    public var norm: NormKind = .instance
    public var upsampling: UpsamplingKind = .transposed
    /// `tanh(decoder(x) + proj(x))` with a 1×1 projection of the input; off: `tanh(decoder(x))`.
    public var globalShortcut = true
    public var dropout = false
    /// Channels of a latent code tiled and concatenated to the input (LSRAGAN); 0 for none.
    public var latentChannels = 0
    /// Also concatenate the tiled code to the input of the second and third encoder
    /// convolutions, so later stages see it undiluted (LSRAGAN's option).
    public var latentAtEveryStage = false
    /// Concatenate the tiled code to the sketch at the input (off: the code enters only through
    /// `latentModulation`).
    public var latentAtInput = true
    /// The code scales and shifts every normalisation after the encoder — both of each residual
    /// block and the decoder's — as adaptive instance norm does (MUNIT, StyleGAN). A code
    /// concatenated at the input is a per-channel constant that instance norm subtracts; a code
    /// that modulates the norms cannot be erased, and the decoder's norms cannot normalise away
    /// the colours it sets.
    public var latentModulation = false
    /// Residual blocks and decoder without normalisation, their convolutions demodulated
    /// (`Demodulation`, StyleGAN2's cure for droplets); with `latentModulation` the code sets
    /// each such convolution's input scale. The encoder keeps `norm`. Needs `resizeConv`.
    public var demodulate = false
    /// Each residual block's branch scaled by a learned per-channel gain that starts at zero
    /// (`AttentionResidualBlock.residualGain`, ReZero), so the blocks begin as the identity and
    /// the sketch's features reach the decoder whatever the branches (or a code) do. Meant for
    /// `demodulate`, whose blocks have no norm to keep their branches small.
    public var residualGain = false
    /// A per-pixel noise map added after each of the decoder's two upsampling convolutions,
    /// scaled by a learned per-channel strength that starts at zero (`NoiseInjection`, StyleGAN's
    /// noise inputs): a source of stochastic texture. Random in training, a fixed map in
    /// evaluation, so translating stays repeatable.
    public var noiseInputs = false

    public init() {}

    /// The generator reduces resolution by this factor; input sides must be multiples of it.
    public var stride: Int { 4 }

    public func validate() throws {
        guard [1, 3].contains(inputChannels), [1, 3].contains(outputChannels) else {
            throw ModelError("image channels must be 1 or 3 (input \(inputChannels), output \(outputChannels))")
        }
        guard ngf >= 1, blocks >= 0, attentionEvery >= 0, attentionReduction >= 1, latentChannels >= 0 else {
            throw ModelError("ngf must be positive and block, attention and latent counts non-negative")
        }
        try ModelLimits.check("ngf", ngf, atMost: ModelLimits.width)
        try ModelLimits.check("the residual block count", blocks, atMost: ModelLimits.blocks)
        try ModelLimits.check("the latent code length", latentChannels, atMost: ModelLimits.latentChannels)
        if demodulate, upsampling != .resizeConv {
            throw ModelError("demodulation needs the resize-convolution decoder (--upsampling resizeConv)")
        }
        if latentChannels > 0, !latentAtInput, !latentAtEveryStage, !latentModulation {
            throw ModelError("the latent code must enter somewhere: at the input, at every encoder stage, or through the normalisations (latentModulation)")
        }
    }

    /// Whether residual block `i` (from 0) has attention.
    public func hasAttention(block i: Int) -> Bool { attentionEvery > 0 && (i + 1) % attentionEvery == 0 }
}

/// SRAGAN's generator: encoder (7×7 conv, two stride-2 convs), residual blocks with sparse
/// CBAM attention, decoder (two ×2 upsamplings, 7×7 conv) and a global input → output shortcut.
///
/// State-dict names: `encoder.*`, `blocks.<i>.conv_block.*`, `blocks.<i>.attention.*`,
/// `blocks.<i>.modulation.*`, `decoder.*`, `shortcut.*`, `modulation.*` (see reference/sragan.py).
public final class SRAGANGenerator: Module {
    public let config: SRAGANConfig
    public let encoder: Sequential
    public let blocks: [AttentionResidualBlock]
    public let decoder: Sequential
    public let shortcut: Conv2d?
    /// z → a per-channel scale and shift for each of the decoder's normalisations
    /// (`latentModulation`; each residual block has its own).
    public let modulation: Linear?
    /// Positions and widths of the normalisation layers in `decoder`.
    let decoderNorms: [(position: Int, channels: Int)]
    /// Positions and input widths of the decoder's upsampling convolutions (demodulated with
    /// `config.demodulate`).
    let decoderConvolutions: [(position: Int, channels: Int)]
    /// One noise input after each decoder convolution (`config.noiseInputs`), names `noise.<k>.weight`.
    public let noise: [NoiseInjection]

    public init(_ config: SRAGANConfig) throws {
        try config.validate()
        self.config = config
        let ngf = config.ngf, norm = config.norm, bias = norm.convolutionsNeedBias
        let inC = config.inputChannels + (config.latentAtInput || config.latentAtEveryStage ? config.latentChannels : 0)
        let stageZ = config.latentAtEveryStage ? config.latentChannels : 0
        encoder = Sequential(
            ReflectionPad2d(3), Conv2d(inC, ngf, kernelSize: 7, bias: bias), norm.layer(ngf), ReLU(),
            Conv2d(ngf + stageZ, ngf * 2, kernelSize: 3, stride: 2, padding: 1, bias: bias), norm.layer(ngf * 2), ReLU(),
            Conv2d(ngf * 2 + stageZ, ngf * 4, kernelSize: 3, stride: 2, padding: 1, bias: bias), norm.layer(ngf * 4), ReLU())
        blocks = (0 ..< config.blocks).map {
            AttentionResidualBlock(channels: ngf * 4, norm: norm, dropout: config.dropout,
                                   attention: config.hasAttention(block: $0), reduction: config.attentionReduction,
                                   latentChannels: config.latentModulation ? config.latentChannels : 0,
                                   demodulated: config.demodulate, residualGain: config.residualGain)
        }
        var up: [any UnaryLayer] = []
        var norms: [(Int, Int)] = [], convolutions: [(Int, Int)] = []
        let decoderNorm = config.demodulate ? NormKind.none : norm, decoderBias = decoderNorm.convolutionsNeedBias
        for (from, to) in [(ngf * 4, ngf * 2), (ngf * 2, ngf)] {
            switch config.upsampling {
            case .transposed:
                up.append(ConvTranspose2d(from, to, kernelSize: 3, stride: 2, padding: 1, outputPadding: 1, bias: decoderBias))
            case .resizeConv:
                up += [Upsample(scale: 2), Conv2d(from, to, kernelSize: 3, padding: 1, bias: decoderBias)]
            }
            convolutions.append((up.count - 1, from))
            norms.append((up.count, to))
            up += [decoderNorm.layer(to), ReLU()]
        }
        decoderNorms = norms
        decoderConvolutions = convolutions
        noise = config.noiseInputs ? [ngf * 2, ngf].enumerated().map { NoiseInjection(channels: $0.element, layer: $0.offset) } : []
        up += [ReflectionPad2d(3), Conv2d(ngf, config.outputChannels, kernelSize: 7)]
        decoder = Sequential(up)
        shortcut = config.globalShortcut ? Conv2d(config.inputChannels, config.outputChannels, kernelSize: 1) : nil
        let modulated = config.latentModulation && config.latentChannels > 0
        modulation = modulated ? Linear(config.latentChannels, config.demodulate ? ngf * 4 + ngf * 2 : 2 * (ngf * 2 + ngf)) : nil
        super.init()
    }

    /// N×C×H×W sketches in [-1, 1] → images in [-1, 1]; `z` (N×latent) is tiled over the image.
    /// `noise`: the maps of the noise inputs, one per decoder convolution (N×1×H×W or 1×1×H×W at
    /// its output's size); nil draws them (`NoiseInjection`). Runs in `Torch.precision` (see
    /// `Torch.mixedPrecision`); the output is float32.
    public func callAsFunction(_ x: Tensor, z: Tensor? = nil, noise: [Tensor]? = nil) -> Tensor {
        Torch.mixedPrecision { forward(x, z: z, noise: noise) }
    }

    func forward(_ x: Tensor, z: Tensor?, noise maps: [Tensor]? = nil) -> Tensor {
        precondition(maps == nil || maps!.count == noise.count, "one noise map per noise input")
        var h: Tensor
        if config.latentChannels > 0, config.latentAtInput || config.latentAtEveryStage {
            precondition(z != nil, "this generator takes a latent code")
            h = Self.withTiledCode(x, z!)
            for (i, layer) in encoder.layers.enumerated() {
                // Index 1 is the first convolution, which already sees the code through the input.
                if config.latentAtEveryStage, i > 1, layer is Conv2d { h = Self.withTiledCode(h, z!) }
                h = layer(h)
            }
        } else {
            h = encoder(x)
        }
        for b in blocks { h = b(h, code: config.latentChannels > 0 ? z : nil) }
        // Demodulated: each upsampling convolution demodulated, with a code its input scale from
        // z. Else with a code: a scale and shift per norm, in decoder order (γ, β) of ngf·2
        // channels, then of ngf. Then each convolution's noise input, if any.
        let scales = config.demodulate ? modulation.flatMap { m in z.map { m($0) + 1.0 } } : nil
        var modulations: [Int: (Tensor, Tensor)] = [:]
        if !config.demodulate, let modulation, let z {
            let parameters = modulation(z).unsqueezed(2).unsqueezed(3)
            var offset = 0
            for (position, channels) in decoderNorms {
                modulations[position] = (parameters.narrow(dim: 1, start: offset, length: channels),
                                         parameters.narrow(dim: 1, start: offset + channels, length: channels))
                offset += 2 * channels
            }
        }
        var out = h, offset = 0
        for (i, layer) in decoder.layers.enumerated() {
            let k = decoderConvolutions.firstIndex { $0.position == i }
            if let k, config.demodulate, let conv = layer as? Conv2d {
                let channels = decoderConvolutions[k].channels
                out = Demodulation.convolve(conv, out, scale: scales?.narrow(dim: 1, start: offset, length: channels))
                offset += channels
            } else {
                out = layer(out)
            }
            if let k, !noise.isEmpty { out = noise[k](out, noise: maps?[k]) }
            if let (gamma, beta) = modulations[i] { out = out * (gamma + 1.0) + beta }
        }
        return (shortcut.map { out + $0(x) } ?? out).tanh()
    }

    /// `cat(h, z tiled over h's height and width)` on the channel axis.
    static func withTiledCode(_ h: Tensor, _ z: Tensor) -> Tensor {
        let tiled = z.unsqueezed(2).unsqueezed(3).expand([h.size(0), z.size(1), h.size(2), h.size(3)])
        return Tensor.cat([h, tiled], dim: 1)
    }
}
