import Torch

/// Runs a generator on single sketches of any size, down to one pixel: channels converted to the
/// network's, padded to its stride and to its smallest side (reflected, or replicated where the
/// image is too small to reflect), translated in evaluation mode without autograd, cropped back.
public struct Translator {
    public let generator: any SketchToImageGenerator

    public init(generator: any SketchToImageGenerator) {
        self.generator = generator
        generator.eval()
    }

    public func translate(_ sketch: Image) throws -> Image {
        let input = try Self.networkInput(sketch, channels: generator.inputChannels, stride: generator.stride)
        // A libtorch failure is thrown here, before anything reads the (then undefined) output.
        let y = try withTorchErrors { withNoGrad { input.crop(generator.translate(input.tensor)) } }
        return Image(tensor: y)
    }

    /// Several sketches of one size and channel count in one forward pass; the same images as
    /// translating them one by one, up to float rounding (normalisation is per image or uses
    /// running statistics in evaluation mode).
    public func translate(batch sketches: [Image]) throws -> [Image] {
        guard sketches.count > 1 else { return try sketches.map(translate) }
        guard Set(sketches.map(\.pixels.shape)).count == 1 else { throw ModelError("a batch of sketches must share one size and channel count") }
        let inputs = try sketches.map { try Self.networkInput($0, channels: generator.inputChannels, stride: generator.stride) }
        let x = Tensor.cat(inputs.map(\.tensor), dim: 0)
        let y = try withTorchErrors { withNoGrad { generator.translate(x) } }
        return inputs.indices.map { i in Image(tensor: inputs[i].crop(y.narrow(dim: 0, start: i, length: 1))) }
    }

    /// The smallest side the generators accept: the stride, and at least 8 pixels so that the
    /// residual blocks' 1-pixel reflection padding at a quarter of the resolution, and the
    /// 3-pixel padding at full resolution, stay smaller than the sides they pad.
    public static func minimumSide(stride s: Int) -> Int {
        let least = Swift.max(s, 8)
        return (least + s - 1) / s * s
    }

    /// A sketch as a 1×C×H'×W' tensor with sides padded up to multiples of `stride`, and the
    /// crop that takes a network output back to the sketch's size.
    public static func networkInput(_ sketch: Image, channels: Int, stride s: Int) throws -> (tensor: Tensor, crop: (Tensor) -> Tensor) {
        let (w, h) = (sketch.width, sketch.height)
        guard w >= 1, h >= 1 else { throw ModelError("empty image") }
        // Up to a multiple of the stride, and to the smallest side the network accepts.
        let least = minimumSide(stride: s)
        let pw = Swift.max(least, (w + s - 1) / s * s) - w, ph = Swift.max(least, (h + s - 1) / s * s) - h
        var x = sketch.withChannels(channels).tensor()
        if pw > 0 || ph > 0 {
            // Reflection needs the padding to be smaller than the side; replicate covers tiny images.
            let mode: PaddingMode = pw < w && ph < h ? .reflect : .replicate
            x = x.padded([0, pw, 0, ph], mode: mode)
        }
        return (x, { $0.narrow(dim: 2, start: 0, length: h).narrow(dim: 3, start: 0, length: w) })
    }
}
