import Foundation
import NN

/// The model families one command trains.
public enum ModelKind: String, Sendable, Codable, CaseIterable {
    case sragan, pix2pix
}

/// Everything a training run needs, saved as the run's config.json and inside every
/// checkpoint, so a model loads without architecture flags.
public struct TrainingConfig: Sendable, Codable, Equatable {
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
    public var perceptualWeights = [1.0 / 32, 1.0 / 16, 1.0 / 8, 1.0 / 4]
    /// safetensors of torchvision's VGG19 to use instead of the HED VGG16 for the perceptual loss.
    public var vgg19Weights: String?
    public var initScheme: InitScheme = .normal
    public var initGain = 0.02
    public var learningRate = 2e-4
    public var beta1 = 0.5
    public var beta2 = 0.999
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

    public init() {}

    /// Defaults for a model kind, as pix2pix and SPEC.md state them.
    public static func defaults(for model: ModelKind, size: Int = 256) -> TrainingConfig {
        var c = TrainingConfig()
        c.model = model
        c.data.preprocess = PreprocessOptions(mode: .resizeAndCrop, loadSize: size + size * 30 / 256, cropSize: size)
        c.blocksForSize(size)
        switch model {
        case .sragan:
            c.discriminator.norm = .instance
            c.lambdaPerceptual = 10
        case .pix2pix:
            c.pix2pix.architecture = size >= 256 ? .unet256 : .unet128
            c.discriminator.norm = .batch
            c.lambdaPerceptual = 0
        }
        c.syncChannels()
        return c
    }

    mutating func blocksForSize(_ size: Int) { sragan.blocks = size >= 256 ? 9 : 6 }

    /// Keeps the image channel counts of data, generator and discriminator consistent.
    public mutating func syncChannels() {
        sragan.inputChannels = data.inputChannels
        sragan.outputChannels = data.outputChannels
        pix2pix.inputChannels = data.inputChannels
        pix2pix.outputChannels = data.outputChannels
        discriminator.inputChannels = data.inputChannels + data.outputChannels
    }

    /// The generator's stride: image sides must be multiples of it.
    public var generatorStride: Int { model == .sragan ? sragan.stride : pix2pix.stride }

    public func validate() throws {
        try data.validate()
        try discriminator.validate()
        switch model {
        case .sragan: try sragan.validate()
        case .pix2pix: try pix2pix.validate()
        }
        let crop = data.preprocess.cropSize
        if [.resizeAndCrop, .crop].contains(data.preprocess.mode), crop % generatorStride != 0 {
            throw ModelError("image size \(crop) is not a multiple of \(generatorStride), which the \(model == .pix2pix ? pix2pix.architecture.rawValue : "sragan") generator needs")
        }
        guard learningRate > 0, (0 ..< 1).contains(beta1), (0 ..< 1).contains(beta2) else {
            throw ModelError("learning rate must be positive and betas in [0, 1)")
        }
        guard epochs >= 0, epochsDecay >= 0, epochs + epochsDecay > 0 else { throw ModelError("train for at least one epoch") }
        guard batchSize >= 1 else { throw ModelError("batch size must be at least 1") }
        guard lambdaL1 >= 0, lambdaPerceptual >= 0, lambdaFeatureMatching >= 0 else { throw ModelError("loss weights must not be negative") }
    }

    public func json() throws -> String {
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try e.encode(self), as: UTF8.self)
    }

    public static func from(json: String) throws -> TrainingConfig {
        try JSONDecoder().decode(TrainingConfig.self, from: Data(json.utf8))
    }
}
