import Foundation
import Sketch2Real
import Torch

/// One generated picture, encoded, with the latent code that made it (multimodal models).
struct GeneratedImage: Sendable {
    let png: [UInt8]
    let width: Int
    let height: Int
    let code: [Float]?
}

/// Where the codes of a sampling request come from.
enum CodeSource: Sendable, Equatable {
    /// `count` codes from N(0, I), a function of the seed alone.
    case random(count: Int)
    /// `count` codes around `center`: center + spread · N(0, I) ("more like this").
    case around(center: [Float], spread: Float, count: Int)
    /// `steps` codes on the line from one code to another, ends included.
    case between(from: [Float], to: [Float], steps: Int)
}

extension CodeSource {
    /// The codes of a request: `LatentCodes`' codes of sketch 0 for the seed (as `sample --seed`
    /// draws for its first sketch), moved around a centre, or a line between two codes.
    func codes(size: Int, seed: UInt64) -> [[Float]] {
        switch self {
        case .random(let count):
            return LatentCodes.rows(seed: seed, sketch: 0, count: count, size: size)
        case .around(let center, let spread, let count):
            return LatentCodes.rows(seed: seed, sketch: 0, count: count, size: size).map { noise in zip(center, noise).map { $0 + spread * $1 } }
        case .between(let a, let b, let steps):
            return (0 ..< steps).map { i in
                let t = Float(i) / Float(steps - 1)
                return zip(a, b).map { $0 + ($1 - $0) * t }
            }
        }
    }
}

/// The work a request hands to an inference worker: decode, generate, encode. Runs on the
/// worker's thread with that worker's own models, and stops between stages (and between
/// samples) once its request is cancelled: the client went away or the deadline passed. One
/// forward pass itself is not interrupted.
enum StudioInference {
    static func decode(_ bytes: [UInt8]) throws -> Image {
        do {
            return try withTorchErrors { try Image.decode(Data(bytes), source: "the uploaded image") }
        } catch let e as ImageError {
            throw StudioError.unprocessable("The image could not be decoded (\(e.reason)); send an intact PNG or JPEG file.")
        } catch {
            throw StudioError.unprocessable("The image could not be decoded (\(error)); send an intact PNG or JPEG file.")
        }
    }

    static func encode(_ image: Image) throws -> [UInt8] {
        try withTorchErrors { try image.encoded(fileExtension: "png") }
    }

    static func model(_ name: String, in models: WorkerModels) throws -> LoadedModel {
        guard let model = models.byName[name] else { throw StudioError(.notFound, "There is no model named '\(name)'; GET /api/models lists them.") }
        return model
    }

    static func translate(_ bytes: [UInt8], model name: String, models: WorkerModels,
                          cancellation: InferenceCancellation = InferenceCancellation()) throws -> GeneratedImage {
        let model = try model(name, in: models)
        let sketch = try decode(bytes)
        try cancellation.check()
        let result = try generation { try model.translator.translate(sketch) }
        try cancellation.check()
        return GeneratedImage(png: try encode(result), width: result.width, height: result.height, code: nil)
    }

    /// One image per code; with `sheet`, also all of them side by side in one PNG.
    static func sample(_ bytes: [UInt8], model name: String, codes: [[Float]], sheet: Bool,
                       models: WorkerModels, cancellation: InferenceCancellation = InferenceCancellation()) throws -> (images: [GeneratedImage], sheet: [UInt8]?) {
        let model = try model(name, in: models)
        guard let sampler = model.sampler else {
            throw StudioError.badRequest("The model '\(name)' maps each sketch to one image; use POST /api/translate, or a multimodal model for sampling.")
        }
        let sketch = try decode(bytes)
        let nz = sampler.latentChannels
        // One sample at a time, so an abandoned request frees its worker after the current one.
        var images: [Image] = []
        for code in codes {
            try cancellation.check()
            images += try generation { try sampler.images(for: sketch, codes: Tensor(code, shape: [1, nz])) }
        }
        try cancellation.check()
        let generated = try zip(images, codes).map { image, code in
            GeneratedImage(png: try encode(image), width: image.width, height: image.height, code: code)
        }
        guard sheet, images.count > 1 else { return (generated, nil) }
        return (generated, try encode(ImageGrid.make([images], spacing: 4)))
    }

    /// Runs a forward pass; a libtorch failure becomes a 500 with its message, not a crash.
    static func generation<T>(_ body: () throws -> T) throws -> T {
        do {
            return try withTorchErrors { try withNoGrad { try body() } }
        } catch let e as StudioError {
            throw e
        } catch {
            throw StudioError(.internalServerError, "The model failed on this sketch: \(error)")
        }
    }
}
