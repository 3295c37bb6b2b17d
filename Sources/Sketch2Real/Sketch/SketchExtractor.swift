import Torch

/// Turns a photo into a sketch in the edges2shoes convention: one channel, dark lines (0) on a
/// white background (1), the photo's width and height.
public protocol SketchExtractor {
    func sketch(_ photo: Image) throws -> Image
}

extension Image {
    /// Luma as uint8 H×W, the input OpenCV's Canny expects.
    func grayBytes() -> Tensor {
        withNoGrad { (grayscale().pixels.squeezed(2).clamp(min: 0, max: 1) * 255).rounded().to(.uint8).contiguous() }
    }

    /// A sketch whose lines are the non-zero pixels of a uint8 H×W mask.
    static func sketch(lines mask: Tensor) -> Image {
        Image(pixels: withNoGrad { mask.eq(0).to(.float32).unsqueezed(2).contiguous() })
    }
}
