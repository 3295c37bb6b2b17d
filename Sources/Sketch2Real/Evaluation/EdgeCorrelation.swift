import Torch

/// How closely an image's edges follow a sketch's lines: the Pearson correlation over pixels
/// between the Sobel edge magnitude of the image's luma and the sketch's line strength (its
/// darkness, widened by a 5×5 box so an edge beside a line still counts). Against the sketch
/// of another scene the same number gives the chance level; real photos of HED sketches reach
/// about 0.4, a flat image 0.
public enum EdgeCorrelation {
    /// Edge strength of images (N×C×H×W in [-1, 1], C = 1 or 3): Sobel magnitude of the luma.
    public static func edges(_ images: Tensor) -> Tensor {
        let luma = images.size(1) == 3
            ? (images * Tensor([0.299, 0.587, 0.114] as [Float], shape: [1, 3, 1, 1])).sum(dims: [1], keepDim: true)
            : images
        let kx = Tensor([-1, 0, 1, -2, 0, 2, -1, 0, 1] as [Float], shape: [1, 1, 3, 3])
        let ky = kx.transposed(2, 3).contiguous()
        let gx = luma.conv2d(weight: kx, padding: 1), gy = luma.conv2d(weight: ky, padding: 1)
        return (gx * gx + gy * gy).sqrt()
    }

    /// Line strength of sketches (N×C×H×W in [-1, 1], dark lines on white).
    public static func lines(_ sketches: Tensor) -> Tensor {
        let grey = sketches.size(1) == 3 ? sketches.mean(dims: [1], keepDim: true) : sketches
        return ((1.0 - grey) / 2.0).avgPool2d(kernel: 5, stride: 1, padding: 2)
    }

    /// Pearson correlation of two tensors' elements; 0 when either is constant.
    public static func pearson(_ a: Tensor, _ b: Tensor) -> Double {
        let x = a.flatten().to(.float64), y = b.flatten().to(.float64)
        let dx = x - x.mean(), dy = y - y.mean()
        let den = ((dx * dx).sum().item() as Double).squareRoot() * ((dy * dy).sum().item() as Double).squareRoot()
        return den > 0 ? (dx * dy).sum().item() / den : 0
    }

    /// The correlation of each image (N×C×H×W) with the sketch of the same index.
    public static func perPair(images: Tensor, sketches: Tensor) -> [Double] {
        withNoGrad {
            let e = edges(images.to(.float32)), l = lines(sketches.to(.float32))
            return (0 ..< images.size(0)).map { pearson(e.select(dim: 0, index: $0), l.select(dim: 0, index: $0)) }
        }
    }
}
