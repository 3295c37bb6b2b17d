import Foundation
import Torch

/// A model as evaluation sees it: one image per sketch (`translate`), and for multimodal
/// models a sampler (`sample`) that draws the latent code from a seed.
public struct EvaluatedModel {
    /// Shown in tables: the run folder's or file's name.
    public let name: String
    /// The run folder, checkpoint or exported file.
    public let source: String
    public let inputChannels: Int
    /// Image sides must be multiples of this.
    public let stride: Int
    /// The crop size the model was trained at, when known.
    public let trainingSize: Int?
    public let direction: Direction
    /// The run's configuration as JSON, when known.
    public let configuration: String?
    /// The run's log.jsonl, when the source is a run folder that has one.
    public let logFile: String?
    /// N×inputChannels×H×W sketches in [-1, 1] → N×C×H×W images in [-1, 1].
    public let translate: (Tensor) -> Tensor
    /// Nil for one-to-one models.
    public let sample: StochasticTranslation?

    public init(name: String, source: String, inputChannels: Int, stride: Int, trainingSize: Int?, direction: Direction = .AtoB,
                configuration: String? = nil, logFile: String? = nil, translate: @escaping (Tensor) -> Tensor,
                sample: StochasticTranslation? = nil) {
        self.name = name
        self.source = source
        self.inputChannels = inputChannels
        self.stride = stride
        self.trainingSize = trainingSize
        self.direction = direction
        self.configuration = configuration
        self.logFile = logFile
        self.translate = translate
        self.sample = sample
    }

    public var isMultimodal: Bool { sample != nil }

    /// Loads a run folder, checkpoint or exported model file (as `translate` does).
    public static func load(_ path: String) throws -> EvaluatedModel {
        let (generator, config) = try GeneratorFile.load(path)
        var isFolder: ObjCBool = false
        let exists = FileManager.default.fileExists(atPath: path, isDirectory: &isFolder)
        let run = exists && isFolder.boolValue ? RunFolder(path: path) : nil
        let log = run.map(\.logFile).flatMap { FileManager.default.fileExists(atPath: $0) ? $0 : nil }
        let trimmed = path.hasSuffix("/") ? String(path.dropLast()) : path
        let name = ((trimmed as NSString).lastPathComponent as NSString).deletingPathExtension
        var sample: StochasticTranslation?
        if let latent = generator as? any LatentImageGenerator, latent.latentChannels > 0 {
            let nz = latent.latentChannels
            sample = { sketch, seed in
                let z = Tensor(LatentCode.standardNormal(count: sketch.size(0) * nz, seed: seed), shape: [sketch.size(0), nz])
                return latent.generate(sketch, z: z)
            }
        }
        return EvaluatedModel(
            name: name, source: path, inputChannels: generator.inputChannels, stride: generator.stride,
            trainingSize: config.data.preprocess.cropSize, direction: config.data.direction,
            configuration: try? config.json(), logFile: log,
            translate: { generator.translate($0) }, sample: sample)
    }
}

/// Latent codes drawn from a seed, independent of libtorch's global generator, so that sample
/// k of sketch i is the same image in every evaluation and in every process.
public enum LatentCode {
    /// `count` standard normal values (Box–Muller on SplitMix64).
    public static func standardNormal(count: Int, seed: UInt64) -> [Float] {
        var g = SplitMix64(seed, 0x2A7E)
        var out: [Float] = []
        out.reserveCapacity(count + 1)
        while out.count < count {
            let u1 = Swift.max(g.unit(), 1e-300), u2 = g.unit()
            let r = (-2 * log(u1)).squareRoot()
            out.append(Float(r * cos(2 * Double.pi * u2)))
            out.append(Float(r * sin(2 * Double.pi * u2)))
        }
        return Array(out.prefix(count))
    }
}
