import ArgumentParser
import NN
import Sketch2Real

// The option groups of `train`, each applying the options the user gave to the model family's
// defaults; `TrainCommand` holds the options about the run itself.

extension ModelKind: ExpressibleByArgument {}
extension GANMode: ExpressibleByArgument {}
extension NormKind: ExpressibleByArgument {}
extension UpsamplingKind: ExpressibleByArgument {}
extension Pix2PixArchitecture: ExpressibleByArgument {}
extension Direction: ExpressibleByArgument {}
extension PreprocessMode: ExpressibleByArgument {}
extension InitScheme: ExpressibleByArgument {}

/// Sets `field` when the user gave `value`; otherwise the configuration keeps its default.
func set<T>(_ value: T?, _ c: inout TrainingConfig, _ field: WritableKeyPath<TrainingConfig, T>) {
    if let value { c[keyPath: field] = value }
}

struct TrainDataOptions: ParsableArguments {
    @Option(help: "Load size before the random crop (default: size × 286/256).")
    var loadSize: Int?

    @Option(help: "Preprocessing: resizeAndCrop, crop, scaleWidth or none.")
    var preprocess: PreprocessMode = .resizeAndCrop

    @Flag(help: "Do not flip images horizontally at random.")
    var noFlip = false

    @Option(help: "AtoB (sketch on the left) or BtoA (default AtoB).")
    var direction: Direction?

    @Option(help: "Sketch channels: 1 or 3 (default 1).")
    var inputChannels: Int?

    @Option(help: "Image channels: 1 or 3 (default 3).")
    var outputChannels: Int?

    /// Needs the crop size, which the model's defaults also depend on.
    func apply(to c: inout TrainingConfig, size: Int) {
        set(direction, &c, \.data.direction)
        set(inputChannels, &c, \.data.inputChannels)
        set(outputChannels, &c, \.data.outputChannels)
        c.data.preprocess = PreprocessOptions(mode: preprocess, loadSize: loadSize ?? PreprocessOptions.loadSize(forCrop: size), cropSize: size,
                                              flip: !noFlip, multiple: c.generatorStride)
    }
}

struct TrainScheduleOptions: ParsableArguments {
    @Option(help: "Epochs at the initial learning rate (default 100).")
    var epochs: Int?

    @Option(help: "Epochs of linear decay to zero after those (default 100).")
    var epochsDecay: Int?

    @Option(help: "Stop after this many steps in total (0: run the whole schedule) (default 0).")
    var maxSteps: Int?

    @Option(help: "Batch size (default 1; 2 for lsragan and bicyclegan, which need an even one).")
    var batchSize: Int?

    @Option(help: "Adam learning rate (default 0.0002).")
    var lr: Double?

    @Option(help: "Adam β1 (default 0.5).")
    var beta1: Double?

    @Option(name: .customLong("clip-grad-norm"), help: "Clip each network's gradient to this L2 norm before its optimiser step, and log the norms as grad_norm_<network> (default 10 for lsragan; 0, off, for the others).")
    var clipGradNorm: Double?

    @Option(help: "Weight initialisation: normal, xavier or kaiming (default normal; xavier for bicyclegan).")
    var initType: InitScheme?

    @Option(help: "Random seed (weights, data order, augmentation) (default 0).")
    var seed: UInt64?

    func apply(to c: inout TrainingConfig) {
        set(epochs, &c, \.epochs)
        set(epochsDecay, &c, \.epochsDecay)
        set(maxSteps, &c, \.maxSteps)
        set(batchSize, &c, \.batchSize)
        set(lr, &c, \.learningRate)
        set(beta1, &c, \.beta1)
        set(clipGradNorm, &c, \.gradientClipNorm)
        set(initType, &c, \.initScheme)
        set(seed, &c, \.seed)
    }
}

struct TrainLossOptions: ParsableArguments {
    @Option(help: "Adversarial loss: vanilla, lsgan or hinge (default vanilla; lsgan for the multimodal models).")
    var gan: GANMode?

    @Option(name: .customLong("lambda-l1"), help: "Weight of the L1 loss (default 100; 10 for the multimodal models).")
    var lambdaL1: Double?

    @Option(help: "Weight of the perceptual (VGG) loss; default 10 for sragan, 1 for lsragan, 0 for the others.")
    var lambdaPerceptual: Double?

    @Option(help: "Weight of discriminator feature matching (default 0; 1 for lsragan, part of its joint perceptual loss).")
    var lambdaFeatureMatching: Double?

    @Option(help: "torchvision VGG19 weights (safetensors) for the perceptual loss instead of the HED VGG16.")
    var vgg19Weights: String?

    func apply(to c: inout TrainingConfig) {
        set(gan, &c, \.gan)
        set(lambdaL1, &c, \.lambdaL1)
        set(lambdaPerceptual, &c, \.lambdaPerceptual)
        set(lambdaFeatureMatching, &c, \.lambdaFeatureMatching)
        if let vgg19Weights { c.vgg19Weights = vgg19Weights }
    }
}

struct TrainMultimodalOptions: ParsableArguments {
    @Option(help: "Multimodal: length of the latent code z (default 8).")
    var nz: Int?

    @Option(name: .customLong("lambda-kl"), help: "Multimodal: weight of KL(q(z|y) ‖ N(0, I)), summed over the batch (default 0.01; 0.3 for lsragan; 0 for msgan).")
    var lambdaKL: Double?

    @Option(name: .customLong("lambda-z"), help: "Multimodal: weight of the latent regression |μ(E(G(x, z))) − z|₁, which updates G only (default 0.5).")
    var lambdaZ: Double?

    @Option(name: .customLong("lambda-gan"), help: "Multimodal: weight of the GAN loss on the encoded path's D (MSGAN: its only D).")
    var lambdaGAN: Double?

    @Option(name: .customLong("lambda-gan2"), help: "Multimodal: weight of the GAN loss on the random path's D2.")
    var lambdaGAN2: Double?

    @Option(name: .customLong("lambda-ms"), help: "Multimodal: weight of the mode-seeking term (default 1 for msgan, 0.1 for lsragan, 0 for bicyclegan).")
    var lambdaMS: Double?

    @Option(name: .customLong("ms-epsilon"), help: "Multimodal: ε in the mode-seeking term 1 / (ratio + ε) (default 1e-5).")
    var msEpsilon: Double?

    @Option(name: .customLong("ms-clamp"), help: "Multimodal: cap the mode-seeking ratio at this value, so diversity is not pushed past it (0: no cap).")
    var msClamp: Double?

    @Flag(inversion: .prefixedNo, help: "Multimodal: discriminators see (sketch, image) pairs rather than images alone (default: on, off for bicyclegan).")
    var conditionalDiscriminator: Bool?

    @Flag(inversion: .prefixedNo, help: "lsragan, bicyclegan: the random path's D2 sees (sketch, image) pairs (default: as --conditional-discriminator).")
    var conditionalD2: Bool?

    @Option(help: "Multimodal: random codes per row of the sample and validation grids (default 4).")
    var sampleCodes: Int?

    @Option(help: "Multimodal: width of the encoder E's first layer (default 64).")
    var nef: Int?

    @Option(help: "Multimodal: residual blocks of the encoder E (default 4).")
    var encoderBlocks: Int?

    @Option(help: "Multimodal: normalisation in the encoder E (default instance).")
    var encoderNorm: NormKind?

    @Flag(help: "lsragan: concatenate z to the input of every encoder stage, not only to the sketch.")
    var latentAtEveryStage = false

    @Flag(inversion: .prefixedNo, help: "lsragan: concatenate the tiled z to the sketch at the input, besides any modulation (default: on).")
    var latentAtInput: Bool?

    @Flag(inversion: .prefixedNo, help: "lsragan: z scales and shifts every normalisation after the encoder — both of each residual block's and the decoder's (adaptive instance norm; default: on).")
    var latentModulation: Bool?

    @Option(help: "bicyclegan, msgan: U-Net levels (default: 8 at 256 px, 7 at 128, 6 at 64).")
    var unetLevels: Int?

    @Flag(inversion: .prefixedNo, help: "bicyclegan, msgan: concatenate z at every U-Net level, not only to the input (default: on for bicyclegan, off for msgan).")
    var latentAtEveryLevel: Bool?

    func apply(to c: inout TrainingConfig) {
        set(nz, &c, \.multimodal.nz)
        set(lambdaKL, &c, \.multimodal.lambdaKL)
        set(lambdaZ, &c, \.multimodal.lambdaZ)
        set(lambdaGAN, &c, \.multimodal.lambdaGAN)
        set(lambdaGAN2, &c, \.multimodal.lambdaGAN2)
        set(lambdaMS, &c, \.multimodal.lambdaMS)
        set(msEpsilon, &c, \.multimodal.msEpsilon)
        set(msClamp, &c, \.multimodal.msClamp)
        set(conditionalDiscriminator, &c, \.multimodal.conditionalDiscriminator)
        if let conditionalD2 { c.multimodal.conditionalD2 = conditionalD2 }
        set(sampleCodes, &c, \.multimodal.sampleCodes)
        set(nef, &c, \.encoder.nef)
        set(encoderBlocks, &c, \.encoder.blocks)
        set(encoderNorm, &c, \.encoder.norm)
        if latentAtEveryStage { c.sragan.latentAtEveryStage = true }
        set(latentAtInput, &c, \.sragan.latentAtInput)
        set(latentModulation, &c, \.sragan.latentModulation)
        set(unetLevels, &c, \.latentUNet.levels)
        set(latentAtEveryLevel, &c, \.latentUNet.latentAtEveryLevel)
    }
}

struct TrainGeneratorOptions: ParsableArguments {
    @Option(help: "Generator width (filters in the first layer) (default 64).")
    var ngf: Int?

    @Option(help: "SRAGAN residual blocks (default 9 at 256 px, 6 below).")
    var blocks: Int?

    @Option(help: "SRAGAN: attention in every k-th residual block (1 dense, 0 none) (default 2).")
    var attentionEvery: Int?

    @Option(help: "SRAGAN/LSRAGAN decoder: resizeConv (default: nearest ×2 + 3×3 convolution, no checkerboard) or transposed (the thesis's).")
    var upsampling: UpsamplingKind?

    @Flag(help: "No dropout in the generator (pix2pix's --no_dropout; on by default for pix2pix).")
    var noDropout = false

    @Flag(help: "SRAGAN: leave out the global input → output shortcut.")
    var noShortcut = false

    @Flag(help: "sragan, lsragan: no normalisation in the residual blocks and the decoder; their convolutions are demodulated instead (StyleGAN2's weight demodulation, against droplets), and LSRAGAN's code scales each one's input instead of modulating a norm. Needs --upsampling resizeConv (the default).")
    var demodulate = false

    @Flag(help: "sragan, lsragan: each residual block's branch is scaled by a learned per-channel gain that starts at zero (ReZero), so the blocks begin as the identity and the encoder's sketch features reach the decoder unchanged; meant for --demodulate, whose blocks have no norm to keep their branches small.")
    var residualGain = false

    @Flag(help: "sragan, lsragan: a per-pixel noise map added after each of the decoder's two upsampling convolutions, scaled by a learned per-channel strength that starts at zero (StyleGAN's noise inputs, a source of stochastic texture); random in training, a fixed map when translating, so outputs stay repeatable.")
    var noiseInputs = false

    @Option(help: "pix2pix generator: unet256, unet128, resnet9 or resnet6 (default by size).")
    var generator: Pix2PixArchitecture?

    @Option(help: "Normalisation in G and D: instance, batch, layer or none (default: layer for sragan, batch for pix2pix, instance for the multimodal models; the thesis's SRAGAN used instance).")
    var norm: NormKind?

    func apply(to c: inout TrainingConfig) {
        if let ngf { (c.sragan.ngf, c.pix2pix.ngf, c.latentUNet.ngf) = (ngf, ngf, ngf) }
        set(blocks, &c, \.sragan.blocks)
        set(attentionEvery, &c, \.sragan.attentionEvery)
        set(upsampling, &c, \.sragan.upsampling)
        if noShortcut { c.sragan.globalShortcut = false }
        if demodulate { c.sragan.demodulate = true }
        if residualGain { c.sragan.residualGain = true }
        if noiseInputs { c.sragan.noiseInputs = true }
        if noDropout { (c.sragan.dropout, c.pix2pix.dropout, c.latentUNet.dropout) = (false, false, false) }
        set(generator, &c, \.pix2pix.architecture)
        if let norm { (c.sragan.norm, c.pix2pix.norm, c.latentUNet.norm, c.discriminator.norm) = (norm, norm, norm, norm) }
        c.data.preprocess.multiple = c.generatorStride
    }
}

struct TrainDiscriminatorOptions: ParsableArguments {
    @Option(help: "Discriminator width (default 64).")
    var ndf: Int?

    @Option(help: "Discriminator scales (multi-scale PatchGAN; default 1, 2 for bicyclegan and msgan).")
    var discriminatorScales: Int?

    @Option(help: "Discriminator layers (3 gives the 70×70 PatchGAN) (default 3).")
    var discriminatorLayers: Int?

    @Flag(help: "Spectral normalisation in the discriminator.")
    var spectralNorm = false

    @Flag(help: "sragan, pix2pix: a second discriminator that judges images through the frozen HED-VGG16 (relu2_2, relu3_3, relu4_3, each mixed by a fixed random 1×1 convolution to 64 channels, with the sketch, into a spectral-norm patch head; hinge loss), beside the PatchGAN (Projected GANs).")
    var projectedDiscriminator = false

    @Option(help: "Weight of the projected discriminator's term in G's loss (default 1).")
    var projectedWeight: Double?

    @Option(help: "Steps over which the projected term's weight in G's loss grows from 0 to --projected-weight (default 0: full weight at once).")
    var projectedWarmup: Int?

    func apply(to c: inout TrainingConfig) {
        set(ndf, &c, \.discriminator.ndf)
        set(discriminatorScales, &c, \.discriminator.scales)
        set(discriminatorLayers, &c, \.discriminator.layers)
        if spectralNorm { c.discriminator.spectralNorm = true }
        if projectedDiscriminator || projectedWeight != nil || projectedWarmup != nil {
            var p = c.projected ?? ProjectedDiscriminatorConfig()
            if let projectedWeight { p.weight = projectedWeight }
            if let projectedWarmup { p.warmupSteps = projectedWarmup }
            c.projected = p
        }
    }
}

struct TrainOutputOptions: ParsableArguments {
    @Option(help: "Numbered checkpoint every N epochs (default 5).")
    var saveEvery: Int?

    @Option(help: "Also refresh the latest checkpoint every N steps (0: only at epoch ends) (default 0).")
    var checkpointEverySteps: Int?

    @Option(help: "Sample grid every N steps (default 200).")
    var sampleEvery: Int?

    @Option(help: "Log line every N steps (default 10).")
    var logEvery: Int?

    @Option(help: "Data loader threads (default 2).")
    var workers: Int?

    @Option(help: "Unreadable training images: fail or skip (default fail).")
    var onBadFile: BadFilePolicy?

    func apply(to c: inout TrainingConfig) {
        set(saveEvery, &c, \.saveEveryEpochs)
        set(checkpointEverySteps, &c, \.checkpointEverySteps)
        set(sampleEvery, &c, \.sampleEverySteps)
        if let logEvery { c.logEverySteps = max(1, logEvery) }
        set(workers, &c, \.loaderWorkers)
        set(onBadFile, &c, \.onBadFile)
    }
}
