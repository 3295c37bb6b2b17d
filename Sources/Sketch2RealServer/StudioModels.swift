import Foundation
import Sketch2Real
import Torch

/// What `GET /api/models` says about one model file.
public struct StudioModelInfo: Codable, Equatable, Sendable {
    /// The file's name without `.safetensors`; requests name models by it.
    public let name: String
    public let file: String
    /// sragan, pix2pix, lsragan, bicyclegan or msgan.
    public let kind: String
    /// Whether `/api/sample` can draw many images per sketch from it.
    public let multimodal: Bool
    /// Length of the latent code (0 for one-to-one models).
    public let latentSize: Int
    /// Whether the model can take the code of a photo (LSRAGAN and BicycleGAN).
    public let hasEncoder: Bool
    public let inputChannels: Int
    /// The crop size it was trained at: sketches drawn at this size look like its training data.
    public let trainingSize: Int
    /// Seconds one image takes per megapixel of sketch on this server, timed at start-up (nil if
    /// not timed); requests that would exceed the time limit are refused before they queue.
    public var secondsPerMegapixel: Double?
}

/// One worker's own copy of a model: generators are not shared between threads.
final class LoadedModel {
    let info: StudioModelInfo
    let translator: Translator
    let sampler: MultimodalSampler?

    init(path: String) throws {
        let name = ((path as NSString).lastPathComponent as NSString).deletingPathExtension
        let (translator, sampler, config): (Translator, MultimodalSampler?, TrainingConfig) = try withTorchErrors {
            let kind = try SafeTensors.load(path: path).metadata[GeneratorFile.modelKey].flatMap(ModelKind.init(rawValue:))
            if kind?.isMultimodal == true {
                let model = try GeneratorFile.loadMultimodal(path)
                return (Translator(generator: model.generator), MultimodalSampler(model: model), model.config)
            }
            let (generator, config) = try GeneratorFile.load(path)
            return (Translator(generator: generator), nil, config)
        }
        self.translator = translator
        self.sampler = sampler
        info = StudioModelInfo(
            name: name, file: (path as NSString).lastPathComponent, kind: config.model.rawValue,
            multimodal: sampler != nil, latentSize: sampler?.latentChannels ?? 0,
            hasEncoder: sampler?.model.encoder != nil, inputChannels: translator.generator.inputChannels,
            trainingSize: config.data.preprocess.cropSize)
    }
}

extension LoadedModel {
    /// Seconds per megapixel of one translation, from a 256² sketch after a small warm-up.
    func secondsPerMegapixel() throws -> Double {
        _ = try translator.translate(Image.filled(width: 64, height: 64, channels: 1, value: 1))
        let side = 256
        let start = ContinuousClock.now
        _ = try translator.translate(Image.filled(width: side, height: side, channels: 1, value: 1))
        let d = ContinuousClock.now - start
        let seconds = Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
        return seconds / (Double(side * side) / 1e6)
    }
}

/// The models of one worker, by name.
final class WorkerModels {
    let byName: [String: LoadedModel]
    init(_ models: [LoadedModel]) {
        byName = Dictionary(models.map { ($0.info.name, $0) }, uniquingKeysWith: { a, _ in a })
    }
}

/// The model files of a folder, loaded once per worker.
public struct StudioModelSet: Sendable {
    public let infos: [StudioModelInfo]
    /// Files that could not be loaded, with the reason.
    public let failures: [String]
    let perWorker: [UncheckedBox<WorkerModels>]

    /// Loads every `*.safetensors` in `folder` `workers` times. A file that fails is left out
    /// and reported in `failures`; a missing folder throws. With `timed`, each model translates
    /// a 256² sketch once to learn its speed on this machine.
    public static func load(folder: String, workers: Int, timed: Bool = true) throws -> StudioModelSet {
        let files = try BundledModels.files(in: folder)
        var copies: [[LoadedModel]] = Array(repeating: [], count: workers)
        var failures: [String] = []
        for file in files {
            do {
                for w in 0 ..< workers { copies[w].append(try LoadedModel(path: file)) }
            } catch {
                failures.append("\(file): \(error)")
                for w in 0 ..< workers { copies[w].removeAll { $0.info.file == (file as NSString).lastPathComponent } }
            }
        }
        var infos = copies.first?.map(\.info) ?? []
        if timed, let first = copies.first {
            for (i, model) in first.enumerated() { infos[i].secondsPerMegapixel = try? model.secondsPerMegapixel() }
        }
        return StudioModelSet(infos: infos, failures: failures,
                              perWorker: copies.map { UncheckedBox(WorkerModels($0)) })
    }

    public func info(named name: String) -> StudioModelInfo? { infos.first { $0.name == name } }
}
