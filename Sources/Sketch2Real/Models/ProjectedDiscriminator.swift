import NN
import Torch

/// Configuration of the projected discriminator (`train --projected-discriminator`): a
/// discriminator that judges images through a frozen pretrained network, as Projected GANs
/// (Sauer et al. 2021) do, here the HED-VGG16 that the perceptual loss already holds. It works
/// beside the RGB PatchGAN, not instead of it.
public struct ProjectedDiscriminatorConfig: Sendable, Codable, Equatable, DefaultedConfiguration {
    /// Sketch channels concatenated to every head's input (0: an unconditional D).
    public var conditionChannels = 1
    /// HED-VGG16 stages whose last ReLU feeds a head: 2, 3, 4 are relu2_2, relu3_3, relu4_3.
    public var stages = [2, 3, 4]
    /// Channels after the frozen random 1×1 mixing of each tap.
    public var mixedChannels = 64
    /// Width of each patch head.
    public var headWidth = 64
    /// Weight of the projected term in G's loss (D's heads always learn at full rate).
    public var weight = 1.0
    /// The projected term's weight in G's loss grows linearly from 0 to `weight` over this many
    /// steps (0: at full weight from the first step); the heads learn from the first step.
    public var warmupSteps = 0

    public init() {}

    public func validate() throws {
        guard !stages.isEmpty, stages.allSatisfy({ (1 ... 4).contains($0) }), Set(stages).count == stages.count else {
            throw ModelError("projected discriminator: stages must be distinct HED-VGG16 stages 1–4 (got \(stages))")
        }
        guard conditionChannels >= 0, mixedChannels >= 1, headWidth >= 1, weight >= 0, warmupSteps >= 0 else {
            throw ModelError("projected discriminator: channel counts must be positive and weight and warm-up non-negative")
        }
        try ModelLimits.check("the projected discriminator's mixed channels", mixedChannels, atMost: ModelLimits.width)
        try ModelLimits.check("the projected discriminator's head width", headWidth, atMost: ModelLimits.width)
    }

    /// G's weight of the projected term at `step` (the warm-up ramp).
    public func weight(atStep step: Int) -> Double {
        guard warmupSteps > 0 else { return weight }
        return weight * Swift.min(1, Double(step) / Double(warmupSteps))
    }

    /// Channels of VGG16's stage `k` (1-based).
    static func channels(ofStage k: Int) -> Int { [64, 128, 256, 512][k - 1] }
}

/// A fixed random 1×1 convolution without bias (a buffer, saved with the checkpoint, never
/// trained): Projected GANs' cross-channel mixing, which spreads every pretrained feature over
/// all channels so that no head can lean on a few of them.
public final class FeatureMixing: Module {
    @Buffer public var weight: Tensor

    public init(inChannels: Int, outChannels: Int) {
        // Kaiming-uniform bounds, as a freshly made 1×1 convolution would draw.
        let bound = 1 / Double(inChannels).squareRoot()
        weight = (Tensor.rand([outChannels, inChannels, 1, 1]) * 2.0 - 1.0) * bound
        super.init()
    }

    public func callAsFunction(_ x: Tensor) -> Tensor { x.conv2d(weight: weight) }
}

/// One patch head on one feature resolution: spectral-norm 3×3 convolution, LeakyReLU, a
/// stride-2 4×4 one, LeakyReLU, and a 3×3 convolution to one logit per patch.
public final class ProjectedHead: Module, UnaryLayer {
    public let model: Sequential

    public init(inChannels: Int, width: Int) {
        func conv(_ i: Int, _ o: Int, _ k: Int, stride: Int, padding: Int) -> Conv2d {
            let c = Conv2d(i, o, kernelSize: Size2(k), stride: Size2(stride), padding: Size2(padding))
            c.applySpectralNorm()
            return c
        }
        model = Sequential(conv(inChannels, width, 3, stride: 1, padding: 1), LeakyReLU(0.2),
                           conv(width, width * 2, 4, stride: 2, padding: 1), LeakyReLU(0.2),
                           conv(width * 2, 1, 3, stride: 1, padding: 1))
        super.init()
    }

    public func callAsFunction(_ x: Tensor) -> Tensor { model(x) }
}

/// The projected discriminator: the image goes through the frozen HED-VGG16 (its own BGR,
/// mean-subtracted input convention), each chosen stage's features through a frozen random 1×1
/// mixing to `mixedChannels`, then, with the sketch average-pooled to the same size concatenated,
/// through a trainable spectral-norm patch head. Its output is one logit map per stage, trained
/// with the hinge loss. The backbone is not part of the state dict (only the mixing buffers and
/// the heads are): `mixes.<k>.weight`, `heads.<k>.model.<i>.*`.
public final class ProjectedDiscriminator: Module {
    public let config: ProjectedDiscriminatorConfig
    public let mixes: [FeatureMixing]
    public let heads: [ProjectedHead]
    /// The frozen feature network (shared with the perceptual loss when it is the HED-VGG16).
    let backbone: HEDVGG16Features

    public init(_ config: ProjectedDiscriminatorConfig, backbone: HEDVGG16Features) throws {
        try config.validate()
        guard backbone.stages >= config.stages.max()! else {
            throw ModelError("projected discriminator: the feature network stops at stage \(backbone.stages), below \(config.stages.max()!)")
        }
        self.config = config
        self.backbone = backbone
        mixes = config.stages.map { FeatureMixing(inChannels: ProjectedDiscriminatorConfig.channels(ofStage: $0), outChannels: config.mixedChannels) }
        heads = config.stages.map { _ in ProjectedHead(inChannels: config.mixedChannels + config.conditionChannels, width: config.headWidth) }
        super.init()
    }

    /// Logit maps, one per stage, of (sketch, image) inputs concatenated on the channel axis as
    /// the PatchGAN takes them (the sketch first, `conditionChannels` wide). With
    /// `detachFeatures` the backbone runs without gradient (D's update: only the heads learn).
    public func callAsFunction(_ pair: Tensor, detachFeatures: Bool = false) -> [Tensor] {
        let c = config.conditionChannels
        let image = pair.narrow(dim: 1, start: c, length: pair.size(1) - c)
        let sketch = c > 0 ? pair.narrow(dim: 1, start: 0, length: c) : nil
        let features = detachFeatures ? withNoGrad { backbone.features(image) }.map { $0.detached() } : backbone.features(image)
        return Torch.mixedPrecision {
            zip(config.stages, zip(mixes, heads)).map { stage, pair in
                let (mix, head) = pair
                let f = mix(features[stage - 1])
                guard let sketch else { return head(f) }
                let s = sketch.adaptiveAvgPool2d(Size2(f.size(2), f.size(3)))
                return head(Tensor.cat([f, s], dim: 1))
            }
        }
    }
}
