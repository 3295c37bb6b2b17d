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
    /// Models with an encoder E: (sketches, photos) → images drawn with E's mean code of each
    /// photo (the encoded path); nil for the others.
    public let encoded: ((Tensor, Tensor) -> Tensor)?

    public init(name: String, source: String, inputChannels: Int, stride: Int, trainingSize: Int?, direction: Direction = .AtoB,
                configuration: String? = nil, logFile: String? = nil, translate: @escaping (Tensor) -> Tensor,
                sample: StochasticTranslation? = nil, encoded: ((Tensor, Tensor) -> Tensor)? = nil) {
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
        self.encoded = encoded
    }

    public var isMultimodal: Bool { sample != nil }

    /// Loads a run folder, checkpoint or exported model file (as `translate` does).
    public static func load(_ path: String) throws -> EvaluatedModel {
        let (generator, encoder, config) = try GeneratorFile.load(path, withEncoder: true)
        var isFolder: ObjCBool = false
        let exists = FileManager.default.fileExists(atPath: path, isDirectory: &isFolder)
        let run = exists && isFolder.boolValue ? RunFolder(path: path) : nil
        let log = run.map(\.logFile).flatMap { FileManager.default.fileExists(atPath: $0) ? $0 : nil }
        let trimmed = path.hasSuffix("/") ? String(path.dropLast()) : path
        let name = ((trimmed as NSString).lastPathComponent as NSString).deletingPathExtension
        var sample: StochasticTranslation?
        var encoded: ((Tensor, Tensor) -> Tensor)?
        if let latent = generator as? any LatentImageGenerator, latent.latentChannels > 0 {
            if let encoder {
                encoded = { sketch, photo in latent.generate(sketch, z: encoder(photo).mu) }
            }
            let nz = latent.latentChannels
            sample = { sketch, stream in
                let z = Tensor(LatentCodes.standardNormal(count: sketch.size(0) * nz, stream: stream), shape: [sketch.size(0), nz])
                return latent.generate(sketch, z: z)
            }
        }
        return EvaluatedModel(
            name: name, source: path, inputChannels: generator.inputChannels, stride: generator.stride,
            trainingSize: config.data.preprocess.cropSize, direction: config.data.direction,
            configuration: try? config.json(), logFile: log,
            translate: { generator.translate($0) }, sample: sample, encoded: encoded)
    }
}
