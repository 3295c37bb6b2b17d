import Torch

/// Draws many images for one sketch from a multimodal model: random codes, the code of a
/// reference photo (the encoder's mean μ), and walks between codes. Sketches of any size are
/// padded to the generator's stride and the results cropped back, as `Translator` does.
public struct MultimodalSampler {
    public let model: MultimodalModel
    /// Codes per forward pass (bounds memory for large images).
    public var batchSize = 8

    public init(model: MultimodalModel) {
        self.model = model
        model.generator.eval()
        model.encoder?.eval()
    }

    public var latentChannels: Int { model.generator.latentChannels }

    /// `count` codes from N(0, I), drawn from libtorch's global generator (seed it with
    /// `Torch.manualSeed`). For codes that match across `sample`, `eval`, `demo` and the studio,
    /// use `LatentCodes`; this one serves the learning tests, whose margins were measured with it.
    public func randomCodes(_ count: Int) -> Tensor { Tensor.randn([count, latentChannels]) }

    /// The 1×nz code of a photo: the encoder's μ for the photo resized to the training size.
    public func code(of photo: Image) throws -> Tensor {
        guard let encoder = model.encoder else {
            throw ModelError("a \(model.config.model.rawValue) model has no encoder, so it cannot take the code of a photo")
        }
        let size = model.config.data.preprocess.cropSize
        let resized = try photo.withChannels(encoder.config.inputChannels).resized(width: size, height: size)
        return withNoGrad { encoder(resized.tensor()).mu }
    }

    /// One image per row of `codes` (K×nz).
    public func images(for sketch: Image, codes: Tensor) throws -> [Image] {
        try tensors(for: sketch, codes: codes).map { Image(tensor: $0) }
    }

    /// One 1×C×H×W output per row of `codes`, in [-1, 1].
    public func tensors(for sketch: Image, codes: Tensor) throws -> [Tensor] {
        guard codes.rank == 2, codes.size(1) == latentChannels else {
            throw ModelError("codes must be K×\(latentChannels), got \(codes.shape)")
        }
        let generator = model.generator
        let input = try Translator.networkInput(sketch, channels: generator.inputChannels, stride: generator.stride)
        var out: [Tensor] = []
        var start = 0
        while start < codes.size(0) {
            let n = Swift.min(batchSize, codes.size(0) - start)
            let z = codes.narrow(dim: 0, start: start, length: n)
            let x = input.tensor.expand([n] + Array(input.tensor.shape.dropFirst()))
            let y = try withTorchErrors { withNoGrad { input.crop(generator.generate(x, z: z)) } }
            out += (0 ..< n).map { y.narrow(dim: 0, start: $0, length: 1) }
            start += n
        }
        return out
    }

    /// `steps` codes on the straight line from `a` to `b` (both 1×nz), ends included.
    public static func interpolate(from a: Tensor, to b: Tensor, steps: Int) -> Tensor {
        precondition(steps >= 2, "an interpolation needs at least two steps")
        let rows = (0 ..< steps).map { a.lerp(b, weight: Double($0) / Double(steps - 1)) }
        return Tensor.cat(rows, dim: 0)
    }
}
