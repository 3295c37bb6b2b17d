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
    /// The family's defaults, applied to a fresh configuration for square images of a size.
    let applyDefaults: @Sendable (inout TrainingConfig, _ size: Int) -> Void
    /// The generator's own settings as JSON, for exported files.
    let generatorSettings: @Sendable (TrainingConfig) throws -> String
    /// Image sides must be multiples of this.
    let stride: @Sendable (TrainingConfig) -> Int
    /// The generator architecture's name for messages.
    let architecture: @Sendable (TrainingConfig) -> String
    let validateGenerator: @Sendable (TrainingConfig) throws -> Void
    /// The generator; for multimodal families the one that takes a code.
    let makeGenerator: @Sendable (TrainingConfig) throws -> any SketchToImageGenerator
    /// Keeps the generator's code length equal to `multimodal.nz` (0 where it takes none).
    let syncLatent: @Sendable (inout TrainingConfig) -> Void

    public func makeLatentGenerator(_ config: TrainingConfig) throws -> any LatentImageGenerator {
        guard training == .multimodal, let g = try makeGenerator(config) as? any LatentImageGenerator else {
            throw ModelError("\(kind.rawValue) is a one-to-one model: its generator takes no latent code")
        }
        return g
    }
}

/// The model families `train`, `bench` and every loader know. Adding a model is a file that
/// defines its `ModelKind` and `ModelFamily` (see the five beside this one) and one line here.
public enum ModelRegistry {
    public static let families: [ModelFamily] = [.sragan, .pix2pix, .lsragan, .bicyclegan, .msgan]

    static func family(named name: String) -> ModelFamily? { families.first { $0.kind.rawValue == name } }

    static func json<T: Encodable>(_ value: T) throws -> String {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        return String(decoding: try e.encode(value), as: UTF8.self)
    }
}
