import Foundation
import NN
import Torch

/// A generator that maps a batch of sketches to a batch of images.
public protocol SketchToImageGenerator: Module {
    var inputChannels: Int { get }
    var outputChannels: Int { get }
    /// Input sides must be multiples of this.
    var stride: Int { get }
    func translate(_ sketches: Tensor) -> Tensor
}

/// A generator that also takes a latent code: one sketch, many images. `translate` uses z = 0,
/// the mean of the prior, so it gives one deterministic image per sketch.
public protocol LatentImageGenerator: SketchToImageGenerator {
    /// Length of the code (nz); 0 for a generator trained without one.
    var latentChannels: Int { get }
    /// N×C×H×W sketches and N×nz codes → N×C'×H×W images in [-1, 1].
    func generate(_ sketches: Tensor, z: Tensor) -> Tensor
}

extension LatentImageGenerator {
    func zeroCodes(for sketches: Tensor) -> Tensor {
        Tensor.zeros([sketches.size(0), latentChannels], dtype: sketches.dtype, device: sketches.device)
    }
}

extension SRAGANGenerator: LatentImageGenerator {
    public var inputChannels: Int { config.inputChannels }
    public var outputChannels: Int { config.outputChannels }
    public var stride: Int { config.stride }
    public var latentChannels: Int { config.latentChannels }
    public func translate(_ sketches: Tensor) -> Tensor {
        config.latentChannels > 0 ? self(sketches, z: zeroCodes(for: sketches)) : self(sketches)
    }
    public func generate(_ sketches: Tensor, z: Tensor) -> Tensor { self(sketches, z: z) }
}

extension LatentUNetGenerator: LatentImageGenerator {
    public var inputChannels: Int { config.inputChannels }
    public var outputChannels: Int { config.outputChannels }
    public var stride: Int { config.stride }
    public var latentChannels: Int { config.latentChannels }
    public func translate(_ sketches: Tensor) -> Tensor { self(sketches, z: zeroCodes(for: sketches)) }
    public func generate(_ sketches: Tensor, z: Tensor) -> Tensor { self(sketches, z: z) }
}

extension Pix2PixGenerator: SketchToImageGenerator {
    public var inputChannels: Int { config.inputChannels }
    public var outputChannels: Int { config.outputChannels }
    public var stride: Int { config.stride }
    public func translate(_ sketches: Tensor) -> Tensor { self(sketches) }
}

/// A generator with a latent code and, for LSRAGAN and BicycleGAN, the encoder that maps a
/// photo to a code.
public struct MultimodalModel {
    public let generator: any LatentImageGenerator
    public let encoder: LatentEncoder?
    public let config: TrainingConfig
}

/// Builds generators from configurations and reads them from exported files or run folders.
public enum GeneratorFile {
    public static let modelKey = "sketch2real.model"
    public static let configKey = "sketch2real.config"
    public static let trainingKey = "sketch2real.training"
    /// The encoder's configuration, in files of models that have one.
    public static let encoderKey = "sketch2real.encoder"
    /// Prefix of the encoder's tensors in an exported file; the generator's have none, so
    /// reference/ loads the generator with the names it always had.
    public static let encoderPrefix = "E."

    public static func make(_ config: TrainingConfig) throws -> any SketchToImageGenerator {
        try config.model.family.makeGenerator(config.resolved)
    }

    public static func makeLatent(_ config: TrainingConfig) throws -> any LatentImageGenerator {
        try config.model.family.makeLatentGenerator(config.resolved)
    }

    /// The encoder E of models that have one.
    public static func makeEncoder(_ config: TrainingConfig) throws -> LatentEncoder? {
        config.model.usesEncoder ? try LatentEncoder(config.resolved.encoder) : nil
    }

    static func json<T: Encodable>(_ value: T) throws -> String { try ModelRegistry.json(value) }

    /// The generator's own configuration as JSON.
    static func generatorConfigJSON(_ config: TrainingConfig) throws -> String { try config.model.family.generatorSettings(config) }

    /// Writes the generator's weights (float32, or float16 with `half`) with its configuration in
    /// the metadata; an encoder's weights go beside them under `E.`.
    public static func export(_ generator: any SketchToImageGenerator, encoder: LatentEncoder? = nil, config: TrainingConfig,
                              to path: String, half: Bool = false) throws {
        try AtomicFile.write(try exported(generator, encoder: encoder, config: config, half: half), to: path)
    }

    /// The bytes `export` writes.
    public static func exported(_ generator: any SketchToImageGenerator, encoder: LatentEncoder? = nil, config: TrainingConfig,
                                half: Bool = false) throws -> Data {
        func stored(_ t: Tensor) -> Tensor { half && t.dtype == .float32 ? t.to(.float16) : t }
        var tensors = generator.stateDict().map { name, t in (name: name, tensor: stored(t)) }
        var metadata = [
            modelKey: config.model.rawValue,
            configKey: try generatorConfigJSON(config),
            trainingKey: try config.json(),
        ]
        if let encoder {
            tensors += encoder.stateDict().map { name, t in (name: encoderPrefix + name, tensor: stored(t)) }
            metadata[encoderKey] = try json(encoder.config)
        }
        return try SafeTensors(tensors: tensors, metadata: metadata).encode()
    }

    /// Loads a generator, in evaluation mode, from an exported .safetensors file, a checkpoint,
    /// or a run folder (its latest checkpoint).
    public static func load(_ path: String) throws -> (generator: any SketchToImageGenerator, config: TrainingConfig) {
        let loaded = try load(path, withEncoder: false)
        return (loaded.generator, loaded.config)
    }

    /// The same, and with `withEncoder` the encoder E when the file holds one: one read of the file.
    public static func load(_ path: String, withEncoder: Bool) throws -> (generator: any SketchToImageGenerator, encoder: LatentEncoder?, config: TrainingConfig) {
        let stored = try read(path)
        try checkWidths(stored)
        let generator = try building(stored.path) { try make(stored.config) }
        try fill(generator, stored.generator, source: stored.path)
        return (generator, withEncoder ? try encoder(stored) : nil, stored.config)
    }

    /// E of a stored model, when it holds one.
    static func encoder(_ stored: StoredModel) throws -> LatentEncoder? {
        guard let weights = stored.encoder, let e = try building(stored.path, { try makeEncoder(stored.config) }) else { return nil }
        try fill(e, weights, source: stored.path)
        return e
    }

    /// Loads a generator with a latent code, and its encoder when the model has one, in
    /// evaluation mode, from an exported file, a checkpoint or a run folder.
    public static func loadMultimodal(_ path: String) throws -> MultimodalModel {
        let stored = try read(path)
        guard stored.config.model.isMultimodal else {
            throw ModelError("\(path): a \(stored.config.model.rawValue) model maps each sketch to one image; sampling needs lsragan, bicyclegan or msgan")
        }
        try checkWidths(stored)
        let generator = try building(stored.path) { try makeLatent(stored.config) }
        try fill(generator, stored.generator, source: stored.path)
        return MultimodalModel(generator: generator, encoder: try encoder(stored), config: stored.config)
    }

    /// The file that loading `path` reads: `path` itself, or a run folder's latest checkpoint.
    public static func storedFile(_ path: String) throws -> String {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else {
            throw ModelError("\(path): \(FileErrorText.missing(path, what: "model file or run folder"))")
        }
        guard isDir.boolValue else { return path }
        let file = RunFolder(path: path).latestCheckpoint
        guard FileManager.default.fileExists(atPath: file) else {
            throw ModelError("\(path): no checkpoint in this run folder (expected \(file))")
        }
        return file
    }

    /// The weights and configuration in a file or a run folder's latest checkpoint: the file is
    /// read once, and its header tells a checkpoint from an exported model before the tensors are
    /// decoded, once.
    static func read(_ path: String) throws -> StoredModel {
        let file = try storedFile(path)
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: file), options: .alwaysMapped)
        } catch {
            throw ModelError("\(file): cannot read (\(FileErrorText.reason(error)))")
        }
        if (try? SafeTensorsHeader.parse(data))?.metadata["format"] == Checkpoint.format {
            let checkpoint = try Checkpoint.decode(data, source: file)
            let config: TrainingConfig
            do {
                config = try TrainingConfig.from(json: checkpoint.configuration)
            } catch {
                throw ModelError("\(file): its stored training configuration is not readable (\(error)); the checkpoint is damaged")
            }
            guard let g = checkpoint.networks["G"] else { throw ModelError("\(file): checkpoint holds no generator") }
            return StoredModel(path: file, config: config, generator: g, encoder: checkpoint.networks["E"],
                               otherNetworks: checkpoint.networks.filter { $0.key != "G" && $0.key != "E" })
        }
        let contents: SafeTensors
        do {
            contents = try SafeTensors.decode(data, source: file)
        } catch let e as TorchError {
            // A PyTorch file (a zip archive, or the legacy pickle) is imported first.
            if data.prefix(2) == Data([0x50, 0x4B]) || data.first == 0x80 {
                throw ModelError("\(file): a PyTorch checkpoint, not a Sketch2Real model; bring it in first with `sketch2real import \(file) --model pix2pix|bicyclegan|sragan|lsragan --out model.safetensors`, then use model.safetensors")
            }
            throw ModelError(e.message)
        }
        guard let json = contents.metadata[trainingKey] else {
            throw ModelError("\(file): not a Sketch2Real model (no \(trainingKey) in the metadata); export one with `sketch2real export`")
        }
        let config: TrainingConfig
        do {
            config = try TrainingConfig.from(json: json)
        } catch {
            throw ModelError("\(file): its \(trainingKey) metadata is not a readable training configuration (\(error)); export the model again with `sketch2real export`")
        }
        var generator: [String: Tensor] = [:], encoder: [String: Tensor] = [:]
        for (name, t) in contents.tensors {
            if name.hasPrefix(encoderPrefix) {
                encoder[String(name.dropFirst(encoderPrefix.count))] = t
            } else {
                generator[name] = t
            }
        }
        return StoredModel(path: file, config: config, generator: generator, encoder: encoder.isEmpty ? nil : encoder, otherNetworks: [:])
    }

    /// Checks a stored configuration against the stored weights before anything is built, so
    /// that a configuration asking for a far larger network than the file holds (a crafted or
    /// damaged file) is refused before its memory is allocated: the first layer's width of the
    /// generator (and of the encoder) must be the out-channels of one of its stored weights.
    static func checkWidths(_ stored: StoredModel) throws {
        func outChannels(_ weights: [String: Tensor]) -> Set<Int> {
            Set(weights.values.compactMap { t in t.shape.count == 4 ? t.shape[0] : nil })
        }
        let config = stored.config.resolved
        // The builders' own limits first (an absurd width names the limit), all before allocating.
        try building(stored.path) { try config.model.family.validateGenerator(config) }
        let width = config.model.family.generatorWidth(config)
        guard outChannels(stored.generator).contains(width) else {
            throw ModelError("\(stored.path): its stored configuration asks for a \(config.generatorName) generator \(width) wide (ngf), but no stored generator weight has \(width) output channels; the configuration does not describe these weights — export the model again with `sketch2real export`")
        }
        if let encoder = stored.encoder, config.model.usesEncoder, !outChannels(encoder).contains(config.encoder.nef) {
            throw ModelError("\(stored.path): its stored configuration asks for an encoder \(config.encoder.nef) wide (nef), but no stored encoder weight has \(config.encoder.nef) output channels; the configuration does not describe these weights")
        }
    }

    /// Builds a network from a stored configuration; a configuration the builders refuse (an
    /// absurd width, an unknown option) is reported with the file it came from.
    static func building<T>(_ source: String, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let e as ModelError where !e.message.hasPrefix(source) {
            throw ModelError("\(source): its stored model configuration cannot be built (\(e.message)); export the model again with `sketch2real export`")
        }
    }

    /// Copies weights (float16 ones widened) into a network, then evaluation mode, frozen.
    /// Weights with NaN or infinite values are refused: they would draw black or garbage images.
    static func fill(_ network: Module, _ weights: [String: Tensor], source: String) throws {
        // t − t is all zeros exactly when every element is finite (∞ − ∞ and NaN − NaN are NaN).
        let broken = weights.filter { name, t in
            t.dtype.isFloatingPoint && withNoGrad { (t.to(.float32) - t.to(.float32)).sum().item() as Double } != 0
        }.map(\.key).sorted()
        if !broken.isEmpty {
            throw ModelError("\(source): \(broken.count) weight tensor(s) hold NaN or infinite values (\(broken.prefix(4).joined(separator: ", "))\(broken.count > 4 ? ", …" : "")); the model was saved from a diverged run — export an earlier checkpoint")
        }
        do {
            try network.loadStateDict(weights.mapValues { $0.dtype == .float16 ? $0.to(.float32) : $0 })
        } catch let e as TorchError {
            throw ModelError("\(source): \(e.message)")
        }
        network.eval()
        network.freeze()
        // --memory-format: the layout the process runs networks in (the file's is always NCHW).
        if Torch.channelsLast { network.useChannelsLast() }
    }
}
