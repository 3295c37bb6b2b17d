import Foundation
import NN
import Torch

/// Everything a training run needs, saved as the run's config.json and inside every
/// checkpoint, so a model loads without architecture flags.
public struct TrainingConfig: Sendable, Codable, Equatable, DefaultedConfiguration {
    public static var optionalSections: [String: any Encodable] {
        ["augment": DiffAugment(), "projected": ProjectedDiscriminatorConfig()]
    }

    public var model: ModelKind = .sragan
    public var sragan = SRAGANConfig()
    public var pix2pix = Pix2PixConfig()
    public var discriminator = DiscriminatorConfig()
    public var gan: GANMode = .vanilla
    public var lambdaL1 = 100.0
    /// Perceptual (VGG) loss weight; 0 switches it off.
    public var lambdaPerceptual = 10.0
    /// Discriminator feature-matching weight; 0 switches it off.
    public var lambdaFeatureMatching = 0.0
    /// Differentiable augmentation of every discriminator input (nil: none). The library's
    /// default is none; `train --augment auto` turns it on for training sets under 2000 pairs.
    public var augment: DiffAugment?

    /// What a discriminator is shown of `inputs`: one draw of `augment` shared by all of them,
    /// or the inputs themselves without augmentation.
    public func discriminatorView(_ inputs: [Tensor]) -> [Tensor] { augment.map { $0(inputs) } ?? inputs }
    /// A second, projected discriminator on the frozen HED-VGG16 beside the PatchGAN (nil: none).
    public var projected: ProjectedDiscriminatorConfig?
    public var perceptualWeights = [1.0 / 32, 1.0 / 16, 1.0 / 8, 1.0 / 4]
    /// A run folder or model file whose weights a new run starts from (`train --init-from`);
    /// ignored on resume, where the checkpoint holds the weights.
    public var initFrom: String?
    /// safetensors of torchvision's VGG19 to use instead of the HED VGG16 for the perceptual loss.
    public var vgg19Weights: String?
    public var initScheme: InitScheme = .normal
    public var initGain = 0.02
    public var learningRate = 2e-4
    public var beta1 = 0.5
    public var beta2 = 0.999
    /// Clip each network's gradient to this joint L2 norm before its optimiser steps (0: off),
    /// as `torch.nn.utils.clip_grad_norm_`. Data-parallel, the averaged gradient is clipped.
    public var gradientClipNorm = 0.0
    /// Epochs at the initial learning rate, then `epochsDecay` epochs decaying linearly to 0.
    public var epochs = 100
    public var epochsDecay = 100
    /// Stop after this many steps in total (0: no limit).
    public var maxSteps = 0
    public var batchSize = 1
    public var seed: UInt64 = 0
    public var data = DatasetOptions()
    public var loaderWorkers = 2
    public var onBadFile: BadFilePolicy = .fail
    /// Save a numbered checkpoint every this many epochs (`latest` is written every epoch).
    public var saveEveryEpochs = 5
    /// Also refresh `latest` every this many steps (0: only at epoch ends).
    public var checkpointEverySteps = 0
    /// Write a sketch | output | target grid every this many steps.
    public var sampleEverySteps = 200
    public var logEverySteps = 10
    /// Loss weights and options of the multimodal models.
    public var multimodal = MultimodalOptions()
    /// The encoder E of LSRAGAN and BicycleGAN.
    public var encoder = LatentEncoderConfig()
    /// The U-Net generator of BicycleGAN and MSGAN.
    public var latentUNet = LatentUNetConfig()

    public init() {}

    /// Defaults for a model kind, as pix2pix and SPEC.md state them.
    public static func defaults(for model: ModelKind, size: Int = 256) -> TrainingConfig {
        var c = TrainingConfig()
        c.model = model
        c.data.preprocess = PreprocessOptions(mode: .resizeAndCrop, loadSize: PreprocessOptions.loadSize(forCrop: size), cropSize: size)
        c.blocksForSize(size)
        model.family.applyDefaults(&c, size)
        return c.resolved
    }

    /// BicycleGAN's settings (lsgan, λ_L1 10, batch 2 split between the two latent paths), which
    /// the multimodal families start from before their own choices. See docs/USAGE.md's "Multimodal
    /// training" for the choices.
    mutating func applyMultimodalDefaults(size: Int) {
        gan = .lsgan
        lambdaL1 = 10
        lambdaPerceptual = 0
        discriminator.norm = .instance
        latentUNet.levels = LatentUNetConfig.levels(forSize: size)
        batchSize = model.usesEncoder ? 2 : 1
    }

    mutating func blocksForSize(_ size: Int) { sragan.blocks = size >= 256 ? 9 : 6 }

    /// The configuration with its derived values computed: the channel counts of every network
    /// section from `data`, the code length of G and E from `multimodal.nz`, D's input from
    /// whether it is conditional. Networks are built, files written (`json()`) and configurations
    /// validated from this, so a section's own copy of a derived value is never what decides.
    public var resolved: TrainingConfig {
        var c = self
        c.syncChannels()
        return c
    }

    /// Sets the derived values in place (what `resolved` computes).
    public mutating func syncChannels() {
        sragan.inputChannels = data.inputChannels
        sragan.outputChannels = data.outputChannels
        pix2pix.inputChannels = data.inputChannels
        pix2pix.outputChannels = data.outputChannels
        latentUNet.inputChannels = data.inputChannels
        latentUNet.outputChannels = data.outputChannels
        encoder.inputChannels = data.outputChannels
        if model.isMultimodal {
            latentUNet.latentChannels = multimodal.nz
            encoder.latentChannels = multimodal.nz
        }
        model.family.syncLatent(&self)
        let conditional = !model.isMultimodal || multimodal.conditionalDiscriminator
        discriminator.inputChannels = (conditional ? data.inputChannels : 0) + data.outputChannels
        projected?.conditionChannels = conditional ? data.inputChannels : 0
    }

    /// D2's configuration: D's, with its own choice of seeing the sketch.
    public var discriminator2: DiscriminatorConfig {
        var d = discriminator
        d.inputChannels = (multimodal.d2IsConditional ? data.inputChannels : 0) + data.outputChannels
        return d
    }

    /// The generator's stride: image sides must be multiples of it.
    public var generatorStride: Int { model.family.stride(self) }

    /// The generator architecture's name for messages.
    public var generatorName: String { model.family.architecture(self) }

    public func validate() throws { try resolved.validateResolved() }

    private func validateResolved() throws {
        try data.validate()
        try discriminator.validate()
        try augment?.validate()
        if let projected {
            try projected.validate()
            guard !model.isMultimodal else {
                throw ModelError("--projected-discriminator is for the one-to-one models (sragan, pix2pix), not \(model.rawValue)")
            }
            guard vgg19Weights == nil else {
                throw ModelError("--projected-discriminator judges through the HED-VGG16, which --vgg19-weights replaces for the perceptual loss: use one or the other")
            }
        }
        try model.family.validateGenerator(self)
        let crop = data.preprocess.cropSize
        if [.resizeAndCrop, .crop].contains(data.preprocess.mode), crop % generatorStride != 0 {
            throw ModelError("image size \(crop) is not a multiple of \(generatorStride), which the \(generatorName) generator needs")
        }
        if [.resizeAndCrop, .crop].contains(data.preprocess.mode), !discriminator.accepts(side: crop) {
            throw ModelError("image size \(crop) is too small for a discriminator with \(discriminator.layers) layers at \(discriminator.scales) scale(s): use larger images, --discriminator-layers or --discriminator-scales")
        }
        if model.isMultimodal {
            try multimodal.validate()
            if model.usesEncoder {
                try encoder.validate()
                guard batchSize >= 2, batchSize % 2 == 0 else {
                    throw ModelError("\(model.rawValue) needs an even batch size (half of each batch takes the encoded path, half the random path, as in BicycleGAN); got \(batchSize)")
                }
                if crop < encoder.minimumSide {
                    throw ModelError("image size \(crop) is too small for the encoder's \(encoder.blocks) blocks (at least \(encoder.minimumSide))")
                }
            }
        }
        guard learningRate > 0, learningRate.isFinite, (0 ..< 1).contains(beta1), (0 ..< 1).contains(beta2) else {
            throw ModelError("the learning rate must be a positive finite number (got \(learningRate)) and the betas in [0, 1) (got \(beta1), \(beta2))")
        }
        guard gradientClipNorm >= 0, gradientClipNorm.isFinite else {
            throw ModelError("--clip-grad-norm must be 0 (off) or a positive finite norm, got \(gradientClipNorm)")
        }
        guard epochs >= 0, epochsDecay >= 0, epochs + epochsDecay > 0 else { throw ModelError("train for at least one epoch") }
        guard maxSteps >= 0 else { throw ModelError("--max-steps must be 0 (the whole schedule) or a positive number of steps, got \(maxSteps)") }
        guard batchSize >= 1 else { throw ModelError("--batch-size must be at least 1, got \(batchSize)") }
        guard [lambdaL1, lambdaPerceptual, lambdaFeatureMatching].allSatisfy({ $0 >= 0 && $0.isFinite }) else {
            throw ModelError("loss weights must be finite and not negative")
        }
    }

    public func json() throws -> String {
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try e.encode(resolved), as: UTF8.self)
    }

    public static func from(json: String) throws -> TrainingConfig {
        try decoded(from: Data(json.utf8))
    }
}
