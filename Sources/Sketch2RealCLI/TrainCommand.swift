import ArgumentParser
import Foundation
import Sketch2Real
import NN
import Torch

extension ModelKind: ExpressibleByArgument {}
extension GANMode: ExpressibleByArgument {}
extension NormKind: ExpressibleByArgument {}
extension UpsamplingKind: ExpressibleByArgument {}
extension Pix2PixArchitecture: ExpressibleByArgument {}
extension Direction: ExpressibleByArgument {}
extension PreprocessMode: ExpressibleByArgument {}
extension InitScheme: ExpressibleByArgument {}

struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a sketch → image model on a paired dataset.",
        discussion: """
        Writes runs/NAME/: config.json, log.jsonl (losses and learning rate), checkpoints/latest.safetensors \
        (every epoch; numbered ones every --save-every epochs), samples/ (sketch | output | target grids) and \
        val/ (validation grids each epoch). Ctrl-C saves a checkpoint and exits; --resume continues exactly \
        where a run stopped, with the configuration saved in it.

        lsragan, bicyclegan and msgan map one sketch to many images through a latent code z; their grids \
        show sketch | encoded | random codes | target. lsragan and bicyclegan split each batch between \
        the encoded and the random path, so their batch size must be even (default 2).
        """
    )

    @Option(help: "Model: sragan, pix2pix, lsragan, bicyclegan or msgan.")
    var model: ModelKind = .sragan

    @Option(help: "Dataset folder (aligned root/train, or paired A/B folders).")
    var data: String

    @Option(help: "Run name; files go to <runs>/<name>.")
    var name: String

    @Option(help: "Folder that holds runs.")
    var runs = "runs"

    @Flag(help: "Continue the run's latest checkpoint (its saved configuration is used).")
    var resume = false

    @Option(help: ArgumentHelp("Start a new run from the weights of an earlier run (its latest checkpoint: G, D, E, D2) or of an exported model file (G, E), e.g. a model pretrained on synthetic scenes.", valueName: "run-folder|file"))
    var initFrom: String?

    @Option(help: "Image side after preprocessing (a multiple of the generator's stride).")
    var size = 256

    @Option(help: "Load size before the random crop (default: size × 286/256).")
    var loadSize: Int?

    @Option(help: "Preprocessing: resizeAndCrop, crop, scaleWidth or none.")
    var preprocess: PreprocessMode = .resizeAndCrop

    @Flag(help: "Do not flip images horizontally at random.")
    var noFlip = false

    @Option(help: "AtoB (sketch on the left) or BtoA.")
    var direction: Direction = .AtoB

    @Option(help: "Sketch channels: 1 or 3.")
    var inputChannels = 1

    @Option(help: "Image channels: 1 or 3.")
    var outputChannels = 3

    @Option(help: "Epochs at the initial learning rate.")
    var epochs = 100

    @Option(help: "Epochs of linear decay to zero after those.")
    var epochsDecay = 100

    @Option(help: "Stop after this many steps in total (0: run the whole schedule).")
    var maxSteps = 0

    @Option(help: "Batch size (default 1; 2 for lsragan and bicyclegan, which need an even one).")
    var batchSize: Int?

    @Option(help: "Adam learning rate.")
    var lr = 2e-4

    @Option(help: "Adam β1.")
    var beta1 = 0.5

    @Option(help: "Adversarial loss: vanilla, lsgan or hinge (default vanilla; lsgan for the multimodal models).")
    var gan: GANMode?

    @Option(name: .customLong("lambda-l1"), help: "Weight of the L1 loss (default 100; 10 for the multimodal models).")
    var lambdaL1: Double?

    @Option(help: "Weight of the perceptual (VGG) loss; default 10 for sragan, 1 for lsragan, 0 for the others.")
    var lambdaPerceptual: Double?

    @Option(help: "Weight of discriminator feature matching (default 0; 1 for lsragan, part of its joint perceptual loss).")
    var lambdaFeatureMatching: Double?

    @Option(help: "Multimodal: length of the latent code z.")
    var nz = 8

    @Option(help: "Differentiable augmentation of the discriminators' inputs (DiffAugment): auto (color,translation,cutout when the training split has fewer than 2000 pairs, else none), none, or a comma-separated list of color, translation, cutout.")
    var augment = "auto"

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

    @Flag(inversion: .prefixedNo, help: "Multimodal: discriminators see (sketch, image) pairs rather than images alone (default: on, off for bicyclegan).")
    var conditionalDiscriminator: Bool?

    @Flag(help: "lsragan: concatenate z to the input of every encoder stage, not only to the sketch.")
    var latentAtEveryStage = false

    @Flag(inversion: .prefixedNo, help: "lsragan: concatenate the tiled z to the sketch at the input, besides any modulation (default: on).")
    var latentAtInput: Bool?

    @Flag(inversion: .prefixedNo, help: "lsragan: z scales and shifts every normalisation after the encoder — both of each residual block's and the decoder's (adaptive instance norm; default: on).")
    var latentModulation: Bool?

    @Option(name: .customLong("ms-epsilon"), help: "Multimodal: ε in the mode-seeking term 1 / (ratio + ε) (default 1e-5).")
    var msEpsilon: Double?

    @Option(name: .customLong("ms-clamp"), help: "Multimodal: cap the mode-seeking ratio at this value, so diversity is not pushed past it (0: no cap).")
    var msClamp: Double?

    @Flag(inversion: .prefixedNo, help: "lsragan, bicyclegan: the random path's D2 sees (sketch, image) pairs (default: as --conditional-discriminator).")
    var conditionalD2: Bool?

    @Option(help: "Multimodal: width of the encoder E's first layer.")
    var nef = 64

    @Option(help: "Multimodal: residual blocks of the encoder E.")
    var encoderBlocks = 4

    @Option(help: "Multimodal: normalisation in the encoder E.")
    var encoderNorm: NormKind = .instance

    @Option(help: "bicyclegan, msgan: U-Net levels (default: 8 at 256 px, 7 at 128, 6 at 64).")
    var unetLevels: Int?

    @Flag(inversion: .prefixedNo, help: "bicyclegan, msgan: concatenate z at every U-Net level, not only to the input (default: on for bicyclegan, off for msgan).")
    var latentAtEveryLevel: Bool?

    @Option(help: "Multimodal: random codes per row of the sample and validation grids.")
    var sampleCodes = 4

    @Option(help: "torchvision VGG19 weights (safetensors) for the perceptual loss instead of the HED VGG16.")
    var vgg19Weights: String?

    @Option(help: "Generator width (filters in the first layer).")
    var ngf = 64

    @Option(help: "Discriminator width.")
    var ndf = 64

    @Option(help: "SRAGAN residual blocks (default 9 at 256 px, 6 below).")
    var blocks: Int?

    @Option(help: "SRAGAN: attention in every k-th residual block (1 dense, 0 none).")
    var attentionEvery = 2

    @Option(help: "SRAGAN/LSRAGAN decoder: resizeConv (default: nearest ×2 + 3×3 convolution, no checkerboard) or transposed (the thesis's).")
    var upsampling: UpsamplingKind?

    @Flag(help: "SRAGAN: leave out the global input → output shortcut.")
    var noShortcut = false

    @Option(help: "pix2pix generator: unet256, unet128, resnet9 or resnet6 (default by size).")
    var generator: Pix2PixArchitecture?

    @Option(help: "Normalisation in G and D: instance, batch, layer or none (default: instance; batch for pix2pix; lsragan: layer in G, which keeps the latent code).")
    var norm: NormKind?

    @Option(help: "Discriminator scales (multi-scale PatchGAN; default 1, 2 for bicyclegan and msgan).")
    var discriminatorScales: Int?

    @Option(help: "Discriminator layers (3 gives the 70×70 PatchGAN).")
    var discriminatorLayers = 3

    @Flag(help: "Spectral normalisation in the discriminator.")
    var spectralNorm = false

    @Option(help: "Weight initialisation: normal, xavier or kaiming (default normal; xavier for bicyclegan).")
    var initType: InitScheme?

    @Option(help: "Random seed (weights, data order, augmentation).")
    var seed: UInt64 = 0

    @Option(help: "Numbered checkpoint every N epochs.")
    var saveEvery = 5

    @Option(help: "Also refresh the latest checkpoint every N steps (0: only at epoch ends).")
    var checkpointEverySteps = 0

    @Option(help: "Sample grid every N steps.")
    var sampleEvery = 200

    @Option(help: "Log line every N steps.")
    var logEvery = 10

    @Option(help: "Data loader threads.")
    var workers = 2

    @Option(help: "Unreadable training images: fail or skip.")
    var onBadFile: BadFilePolicy = .fail

    @OptionGroup var runtime: RuntimeOptions

    func makeConfig() throws -> TrainingConfig {
        var c = TrainingConfig.defaults(for: model, size: size)
        c.data.direction = direction
        c.data.inputChannels = inputChannels
        c.data.outputChannels = outputChannels
        c.data.preprocess = PreprocessOptions(mode: preprocess, loadSize: loadSize ?? PreprocessOptions.loadSize(forCrop: size), cropSize: size,
                                              flip: !noFlip, multiple: c.generatorStride)
        c.epochs = epochs
        c.epochsDecay = epochsDecay
        c.maxSteps = maxSteps
        if let batchSize { c.batchSize = batchSize }
        c.learningRate = lr
        c.beta1 = beta1
        if let gan { c.gan = gan }
        if let lambdaL1 { c.lambdaL1 = lambdaL1 }
        if let lambdaPerceptual { c.lambdaPerceptual = lambdaPerceptual }
        if let lambdaFeatureMatching { c.lambdaFeatureMatching = lambdaFeatureMatching }
        c.vgg19Weights = vgg19Weights
        c.multimodal.nz = nz
        if augment.lowercased() == "auto" {
            let pairs = (try? PairedDataset(root: data, split: "train", options: c.data).count) ?? 0
            c.augment = pairs > 0 && pairs < DiffAugment.automaticBelowPairs ? DiffAugment() : nil
        } else {
            c.augment = try DiffAugment.parse(augment)
        }
        if let lambdaKL { c.multimodal.lambdaKL = lambdaKL }
        if let lambdaZ { c.multimodal.lambdaZ = lambdaZ }
        if let lambdaGAN { c.multimodal.lambdaGAN = lambdaGAN }
        if let lambdaGAN2 { c.multimodal.lambdaGAN2 = lambdaGAN2 }
        if let lambdaMS { c.multimodal.lambdaMS = lambdaMS }
        if let conditionalDiscriminator { c.multimodal.conditionalDiscriminator = conditionalDiscriminator }
        c.multimodal.sampleCodes = sampleCodes
        c.sragan.latentAtEveryStage = latentAtEveryStage
        if let latentAtInput { c.sragan.latentAtInput = latentAtInput }
        if let latentModulation { c.sragan.latentModulation = latentModulation }
        if let msEpsilon { c.multimodal.msEpsilon = msEpsilon }
        if let msClamp { c.multimodal.msClamp = msClamp }
        if let conditionalD2 { c.multimodal.conditionalD2 = conditionalD2 }
        c.encoder.nef = nef
        c.encoder.blocks = encoderBlocks
        c.encoder.norm = encoderNorm
        if let unetLevels { c.latentUNet.levels = unetLevels }
        if let latentAtEveryLevel { c.latentUNet.latentAtEveryLevel = latentAtEveryLevel }
        c.sragan.ngf = ngf
        c.pix2pix.ngf = ngf
        c.latentUNet.ngf = ngf
        c.discriminator.ndf = ndf
        if let blocks { c.sragan.blocks = blocks }
        c.sragan.attentionEvery = attentionEvery
        if let upsampling { c.sragan.upsampling = upsampling }
        c.sragan.globalShortcut = !noShortcut
        if let generator { c.pix2pix.architecture = generator }
        c.data.preprocess.multiple = c.generatorStride
        if let norm {
            c.sragan.norm = norm
            c.pix2pix.norm = norm
            c.latentUNet.norm = norm
            c.discriminator.norm = norm
        }
        if let discriminatorScales { c.discriminator.scales = discriminatorScales }
        c.discriminator.layers = discriminatorLayers
        c.discriminator.spectralNorm = spectralNorm
        if let initType { c.initScheme = initType }
        c.seed = seed
        c.saveEveryEpochs = saveEvery
        c.checkpointEverySteps = checkpointEverySteps
        c.sampleEverySteps = sampleEvery
        c.logEverySteps = max(1, logEvery)
        c.loaderWorkers = workers
        c.onBadFile = onBadFile
        c.initFrom = initFrom
        c.syncChannels()
        return c
    }

    func validate() throws {
        guard !name.isEmpty, !name.contains("/") else { throw ValidationError("--name must be a plain folder name, got '\(name)'.") }
        if resume, initFrom != nil {
            throw ValidationError("--init-from starts a new run from other weights; --resume continues this run from its own checkpoint: pass one of them.")
        }
        if !resume {
            do { try makeConfig().validate() } catch let e as ModelError { throw ValidationError(e.message + ".") } catch let e as DatasetError { throw ValidationError(e.message + ".") }
        }
    }

    func run() throws {
        runtime.apply()
        StopSignal.install()
        let folder = runs + "/" + name
        let limit = resume && maxSteps > 0 ? maxSteps : nil
        if !resume {
            let config = try makeConfig()
            print("discriminator augmentation: \(config.augment.map(\.description) ?? "none")"
                + (augment.lowercased() == "auto" ? " (--augment auto: on below \(DiffAugment.automaticBelowPairs) training pairs)" : ""))
            try MemoryBudget.check(needs: try MemoryBudget.trainingBytes(config),
                                   for: "training \(config.model.rawValue) on \(config.data.preprocess.cropSize)² crops in batches of \(config.batchSize)",
                                   ignore: runtime.ignoreMemoryLimit)
        }
        let trainer = try Trainer.make(config: try makeConfig(), dataRoot: data, runFolder: folder, resume: resume, maxSteps: limit)
        reportWarmStart(trainer.warmStarted)
        let outcome = try trainer.train(progress: ProgressReporter(every: max(1, logEvery)), shouldStop: { StopSignal.isRequested })
        let loader = trainer.loader
        let skipped = loader.skipped
        if !skipped.isEmpty {
            print("skipped \(skipped.count) unreadable training file(s):")
            for s in skipped.prefix(20) { print("  \(s)") }
        }
        if outcome == .interrupted { throw ExitCode(130) }
    }

    func reportWarmStart(_ names: [String]) {
        guard let initFrom, !names.isEmpty else { return }
        print("starting from the weights of \(initFrom): \(names.joined(separator: ", "))")
    }
}
