import Torch

/// Runs a generator on single sketches of any size: channels converted to the network's,
/// reflect-padded to its stride, translated in evaluation mode without autograd, cropped back.
public struct Translator {
    public let generator: any SketchToImageGenerator

    public init(generator: any SketchToImageGenerator) {
        self.generator = generator
        generator.eval()
    }

    public func translate(_ sketch: Image) throws -> Image {
        let input = try Self.networkInput(sketch, channels: generator.inputChannels, stride: generator.stride)
        let y = withNoGrad { generator.translate(input.tensor) }
        return Image(tensor: input.crop(y))
    }

    /// A sketch as a 1×C×H'×W' tensor with sides padded up to multiples of `stride`, and the
    /// crop that takes a network output back to the sketch's size.
    public static func networkInput(_ sketch: Image, channels: Int, stride s: Int) throws -> (tensor: Tensor, crop: (Tensor) -> Tensor) {
        let (w, h) = (sketch.width, sketch.height)
        guard w >= 1, h >= 1 else { throw ModelError("empty image") }
        let pw = (s - w % s) % s, ph = (s - h % s) % s
        var x = sketch.withChannels(channels).tensor()
        if pw > 0 || ph > 0 {
            // Reflection needs the padding to be smaller than the side; replicate covers tiny images.
            let mode: PaddingMode = pw < w && ph < h ? .reflect : .replicate
            x = x.padded([0, pw, 0, ph], mode: mode)
        }
        return (x, { $0.narrow(dim: 2, start: 0, length: h).narrow(dim: 3, start: 0, length: w) })
    }
}
