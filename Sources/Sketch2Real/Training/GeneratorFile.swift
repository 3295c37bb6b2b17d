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

extension SRAGANGenerator: SketchToImageGenerator {
    public var inputChannels: Int { config.inputChannels }
    public var outputChannels: Int { config.outputChannels }
    public var stride: Int { config.stride }
    public func translate(_ sketches: Tensor) -> Tensor { self(sketches) }
}

extension Pix2PixGenerator: SketchToImageGenerator {
    public var inputChannels: Int { config.inputChannels }
    public var outputChannels: Int { config.outputChannels }
    public var stride: Int { config.stride }
    public func translate(_ sketches: Tensor) -> Tensor { self(sketches) }
}

/// Builds generators from configurations and reads them from exported files or run folders.
public enum GeneratorFile {
    public static let modelKey = "sketch2real.model"
    public static let configKey = "sketch2real.config"
    public static let trainingKey = "sketch2real.training"

    public static func make(_ config: TrainingConfig) throws -> any SketchToImageGenerator {
        switch config.model {
        case .sragan: try SRAGANGenerator(config.sragan)
        case .pix2pix: try Pix2PixGenerator(config.pix2pix)
        }
    }

    /// The generator's own configuration as JSON.
    static func generatorConfigJSON(_ config: TrainingConfig) throws -> String {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        let data = config.model == .sragan ? try e.encode(config.sragan) : try e.encode(config.pix2pix)
        return String(decoding: data, as: UTF8.self)
    }

    /// Writes the generator's weights (float32, or float16 with `half`) with its configuration in the metadata.
    public static func export(_ generator: any SketchToImageGenerator, config: TrainingConfig, to path: String, half: Bool = false) throws {
        let tensors = generator.stateDict().map { name, t in (name: name, tensor: half && t.dtype == .float32 ? t.to(.float16) : t) }
        let file = SafeTensors(tensors: tensors, metadata: [
            modelKey: config.model.rawValue,
            configKey: try generatorConfigJSON(config),
            trainingKey: try config.json(),
        ])
        try file.save(path: path)
    }

    /// Loads a generator, in evaluation mode, from an exported .safetensors file, a checkpoint,
    /// or a run folder (its latest checkpoint).
    public static func load(_ path: String) throws -> (generator: any SketchToImageGenerator, config: TrainingConfig) {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else {
            throw ModelError("\(path): no such model file or run folder")
        }
        if isDir.boolValue {
            let latest = RunFolder(path: path).latestCheckpoint
            guard FileManager.default.fileExists(atPath: latest) else {
                throw ModelError("\(path): no checkpoint in this run folder (expected \(latest))")
            }
            return try load(path: latest)
        }
        return try load(path: path)
    }

    static func load(path: String) throws -> (generator: any SketchToImageGenerator, config: TrainingConfig) {
        let file: SafeTensors
        do {
            file = try SafeTensors.load(path: path)
        } catch let e as TorchError {
            throw ModelError(e.message)
        }
        let config: TrainingConfig
        var weights: [String: Tensor]
        if file.metadata["format"] == Checkpoint.format {
            let checkpoint = try Checkpoint.decode(try Data(contentsOf: URL(fileURLWithPath: path)), source: path)
            config = try TrainingConfig.from(json: checkpoint.configuration)
            guard let g = checkpoint.networks["G"] else { throw ModelError("\(path): checkpoint holds no generator") }
            weights = g
        } else {
            guard let json = file.metadata[trainingKey], let c = try? TrainingConfig.from(json: json) else {
                throw ModelError("\(path): not a Sketch2Real model (no \(trainingKey) in the metadata); export one with `sketch2real export`")
            }
            config = c
            weights = file.dictionary
        }
        let generator = try make(config)
        weights = weights.mapValues { $0.dtype == .float16 ? $0.to(.float32) : $0 }
        do {
            try generator.loadStateDict(weights)
        } catch let e as TorchError {
            throw ModelError("\(path): \(e.message)")
        }
        generator.eval()
        generator.freeze()
        return (generator, config)
    }
}
