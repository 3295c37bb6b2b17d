import Foundation

/// A model kind by name (`sragan`, `pix2pix`, …): one of the families in `ModelRegistry`.
/// Configurations store it as its name; a name the registry does not know is refused.
public struct ModelKind: RawRepresentable, Hashable, Sendable, Codable, CustomStringConvertible {
    public let rawValue: String

    /// The kind of that name, or nil when no registered family has it.
    public init?(rawValue: String) {
        guard ModelRegistry.family(named: rawValue) != nil else { return nil }
        self.rawValue = rawValue
    }

    /// Used once per family, beside its `ModelFamily`.
    init(registering name: String) { rawValue = name }

    public init(from decoder: any Decoder) throws {
        let name = try decoder.singleValueContainer().decode(String.self)
        guard let kind = ModelKind(rawValue: name) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath,
                                                    debugDescription: "unknown model '\(name)' (known: \(ModelKind.names))"))
        }
        self = kind
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(rawValue)
    }

    public var description: String { rawValue }

    /// Every registered kind, in the registry's order.
    public static var allCases: [ModelKind] { ModelRegistry.families.map(\.kind) }
    /// "sragan, pix2pix, …" for messages.
    public static var names: String { allCases.map(\.rawValue).joined(separator: ", ") }

    public var family: ModelFamily { ModelRegistry.family(named: rawValue)! }
    /// Trained by `MultimodalTrainer`: the generator takes a latent code.
    public var isMultimodal: Bool { family.training == .multimodal }
    /// Has an image → code encoder E (the cVAE-GAN path) and a second discriminator.
    public var usesEncoder: Bool { family.usesEncoder }
}

/// Everything that differs between model kinds, in one value per kind: its defaults, its
/// generator (factory, stored settings, stride, validation), how it trains, and the PyTorch
/// reference that loads its files. Code outside the family files asks the family instead of
/// switching over kinds.
public struct ModelFamily: Sendable {
    public enum Training: Sendable { case paired, multimodal }

    public let kind: ModelKind
    public let displayName: String
    /// `PairedTrainer` (one sketch → one image) or `MultimodalTrainer` (latent codes).
    public let training: Training
    /// Has an encoder E and a second discriminator D2 (the cVAE-GAN path).
    public let usesEncoder: Bool
    /// The PyTorch definition in reference/ that loads this family's exported files.
    public let reference: String
    /// Where in `TrainingConfig` the generator is described, and how it is built.
    let generator: GeneratorSection
    /// The generator architecture's name for messages.
    let architecture: @Sendable (TrainingConfig) -> String
    /// Whether the SRAGAN section's generator takes the latent code (LSRAGAN); kept in step
    /// with `multimodal.nz`.
    let sraganTakesCode: Bool
    /// The family's defaults, applied to a fresh configuration for square images of a size.
    let applyDefaults: @Sendable (inout TrainingConfig, _ size: Int) -> Void

    init(_ name: String, _ displayName: String, _ training: Training, encoder: Bool = false, reference: String,
         generator: GeneratorSection, architecture: @escaping @Sendable (TrainingConfig) -> String = { $0.model.rawValue },
         sraganTakesCode: Bool = false, defaults: @escaping @Sendable (inout TrainingConfig, _ size: Int) -> Void) {
        kind = ModelKind(registering: name)
        self.displayName = displayName
        self.training = training
        usesEncoder = encoder
        self.reference = reference
        self.generator = generator
        self.architecture = architecture
        self.sraganTakesCode = sraganTakesCode
        applyDefaults = defaults
    }

    var generatorSettings: @Sendable (TrainingConfig) throws -> String { generator.settings }
    var stride: @Sendable (TrainingConfig) -> Int { generator.stride }
    var validateGenerator: @Sendable (TrainingConfig) throws -> Void { generator.validate }
    var makeGenerator: @Sendable (TrainingConfig) throws -> any SketchToImageGenerator { generator.make }
    var generatorWidth: @Sendable (TrainingConfig) -> Int { generator.width }

    /// Keeps the generator's code length equal to `multimodal.nz` (0 where it takes none).
    func syncLatent(_ c: inout TrainingConfig) {
        if generator.name == "sragan" || training == .multimodal { c.sragan.latentChannels = sraganTakesCode ? c.multimodal.nz : 0 }
    }

    public func makeLatentGenerator(_ config: TrainingConfig) throws -> any LatentImageGenerator {
        guard training == .multimodal, let g = try makeGenerator(config) as? any LatentImageGenerator else {
            throw ModelError("\(kind.rawValue) is a one-to-one model: its generator takes no latent code")
        }
        return g
    }
}

/// The section of `TrainingConfig` that describes a family's generator, and how to build it.
/// Families that share an architecture share a section (SRAGAN and LSRAGAN; BicycleGAN and MSGAN).
struct GeneratorSection: Sendable {
    let name: String
    let settings: @Sendable (TrainingConfig) throws -> String
    let stride: @Sendable (TrainingConfig) -> Int
    let validate: @Sendable (TrainingConfig) throws -> Void
    let make: @Sendable (TrainingConfig) throws -> any SketchToImageGenerator
    /// The width of the first layer (ngf): the out-channels of one of the generator's weights.
    let width: @Sendable (TrainingConfig) -> Int

    static let sragan = GeneratorSection(name: "sragan", settings: { try ModelRegistry.json($0.sragan) }, stride: { $0.sragan.stride },
                                         validate: { try $0.sragan.validate() }, make: { try SRAGANGenerator($0.sragan) },
                                         width: { $0.sragan.ngf })
    static let pix2pix = GeneratorSection(name: "pix2pix", settings: { try ModelRegistry.json($0.pix2pix) }, stride: { $0.pix2pix.stride },
                                          validate: { try $0.pix2pix.validate() }, make: { try Pix2PixGenerator($0.pix2pix) },
                                          width: { $0.pix2pix.ngf })
    static let latentUNet = GeneratorSection(name: "latentUNet", settings: { try ModelRegistry.json($0.latentUNet) },
                                             stride: { $0.latentUNet.stride }, validate: { try $0.latentUNet.validate() },
                                             make: { try LatentUNetGenerator($0.latentUNet) }, width: { $0.latentUNet.ngf })
}

/// The model families `train`, `bench` and every loader know. Adding a model is a file that
/// defines its `ModelFamily` and names its `ModelKind` (see the five beside this one) and one
/// line here.
public enum ModelRegistry {
    public static let families: [ModelFamily] = [.sragan, .pix2pix, .lsragan, .bicyclegan, .msgan]

    static func family(named name: String) -> ModelFamily? { families.first { $0.kind.rawValue == name } }

    static func json<T: Encodable>(_ value: T) throws -> String {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        return String(decoding: try e.encode(value), as: UTF8.self)
    }
}
