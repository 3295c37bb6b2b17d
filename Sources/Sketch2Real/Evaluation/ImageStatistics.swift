import Foundation
import Torch

/// Statistics of single images that show, without a reference image, whether outputs look like
/// photographs: checkerboard artefacts (power at the Nyquist frequency), washed-out colour
/// (saturation) and stripes along the border. Each is reported beside the same number for the
/// split's photos.
///
/// All take N×3×H×W images in [0, 1] (`PixelMetrics.unitImages`).
public enum ImageStatistics {
    /// Half-width, in DFT bins, of the band around the Nyquist frequency: a period-2 pattern whose
    /// strength varies across the image spreads a few bins around it.
    public static let nyquistBand = 2

    /// Per image, the fraction of the luma's non-DC spectral power that lies within
    /// `nyquistBand` bins of the Nyquist frequency along either axis of its 2-D DFT: the
    /// pixel-alternating patterns that transposed convolutions leave. White noise gives about
    /// (2b + 1)(H + W) / (HW); photographs far less.
    ///
    /// Computed without an FFT: by Parseval, the power of a band of rows of the 2-D DFT is W times
    /// that of the 1-D DFT along H restricted to those rows, so the band needs only small
    /// matrix products with cosine and sine bases; the corner where the row and column bands meet
    /// is counted once.
    public static func nyquistPowerFraction(_ images: Tensor) -> [Double] {
        withNoGrad {
            let x = images.detached().to(.float64)
            let (h, w) = (x.size(2), x.size(3))
            var y = luma(x)
            y = y - y.mean(dims: [1, 2], keepDim: true)
            let (cu, su) = basis(h), (cv, sv) = basis(w)
            // Y = (C − iS)·y along H: N×k×W; along W: N×H×k.
            let rowC = cu.matmul(y), rowS = su.matmul(y)
            let colC = y.matmul(cv.transposed(0, 1)), colS = y.matmul(sv.transposed(0, 1))
            let rows = ((rowC * rowC + rowS * rowS).sum(dims: [1, 2]) * Double(w))
            let cols = ((colC * colC + colS * colS).sum(dims: [1, 2]) * Double(h))
            let re = rowC.matmul(cv.transposed(0, 1)) - rowS.matmul(sv.transposed(0, 1))
            let im = rowC.matmul(sv.transposed(0, 1)) + rowS.matmul(cv.transposed(0, 1))
            let corner = (re * re + im * im).sum(dims: [1, 2])
            let total = (y * y).sum(dims: [1, 2]) * Double(h * w)
            let band = (rows + cols - corner).toArray(Double.self), all = total.toArray(Double.self)
            return zip(band, all).map { $1 > 0 ? $0 / $1 : 0 }
        }
    }

    /// Per image, the mean HSV saturation (max − min) / max over pixels (0 where max is 0).
    public static func saturation(_ images: Tensor) -> [Double] {
        withNoGrad {
            let x = images.detached().to(.float64)
            let hi = x.max(dims: [1]), lo = x.min(dims: [1])
            let s = (hi - lo) / hi.clamp(min: 1e-12)
            return s.flatten(startDim: 1).mean(dims: [1]).toArray(Double.self)
        }
    }

    /// Mean absolute change between adjacent rows and columns, at the border (first and last
    /// row and column pair) and inside (every other pair), per image: (border, interior).
    public static func borderAndInteriorChange(_ images: Tensor) -> [(border: Double, interior: Double)] {
        withNoGrad {
            let x = images.detached().to(.float64)
            let (h, w) = (x.size(2), x.size(3))
            guard h >= 4, w >= 4 else { return Array(repeating: (0, 0), count: x.size(0)) }
            let dr = (x.narrow(dim: 2, start: 1, length: h - 1) - x.narrow(dim: 2, start: 0, length: h - 1)).abs().mean(dims: [1, 3]) // N×(H−1)
            let dc = (x.narrow(dim: 3, start: 1, length: w - 1) - x.narrow(dim: 3, start: 0, length: w - 1)).abs().mean(dims: [1, 2]) // N×(W−1)
            let border = (dr.narrow(dim: 1, start: 0, length: 1) + dr.narrow(dim: 1, start: h - 2, length: 1)
                + dc.narrow(dim: 1, start: 0, length: 1) + dc.narrow(dim: 1, start: w - 2, length: 1)).flatten() / 4.0
            let inner = (dr.narrow(dim: 1, start: 1, length: h - 3).sum(dims: [1]) + dc.narrow(dim: 1, start: 1, length: w - 3).sum(dims: [1]))
                / Double(h - 3 + w - 3)
            return zip(border.toArray(Double.self), inner.toArray(Double.self)).map { ($0, $1) }
        }
    }

    /// Border change ÷ interior change over a set of images (ratio of the sums, so flat images
    /// do not divide by zero): about 1 for photographs; above 1 for stripes along the border.
    public static func borderRatio(_ changes: [(border: Double, interior: Double)]) -> Double {
        let b = changes.reduce(0) { $0 + $1.border }, i = changes.reduce(0) { $0 + $1.interior }
        return i > 0 ? b / i : .nan
    }

    static func luma(_ x: Tensor) -> Tensor {
        x.size(1) == 3
            ? (x * Tensor([0.299, 0.587, 0.114] as [Double], shape: [1, 3, 1, 1])).sum(dims: [1])
            : x.mean(dims: [1])
    }

    /// Cosine and sine rows of the DFT of length n for the bins within `nyquistBand` of n/2.
    static func basis(_ n: Int) -> (Tensor, Tensor) {
        let b = Swift.min(nyquistBand, Swift.max(0, (n - 1) / 4))
        let bins = Array(Set((-b ... b).map { ((n / 2 + $0) % n + n) % n })).sorted()
        var c: [Double] = [], s: [Double] = []
        for u in bins {
            for i in 0 ..< n {
                let a = 2 * Double.pi * Double(u * i % n) / Double(n)
                c.append(cos(a))
                s.append(sin(a))
            }
        }
        return (Tensor(c, shape: [bins.count, n]), Tensor(s, shape: [bins.count, n]))
    }
}

/// Accumulates `ImageStatistics` for outputs and their targets over an evaluation, and turns
/// them into table rows that put each output number beside the photos'.
struct LooksLikePhotos {
    var nyquist: (outputs: [Double], targets: [Double]) = ([], [])
    var saturation: (outputs: [Double], targets: [Double]) = ([], [])
    var border: (outputs: [(border: Double, interior: Double)], targets: [(border: Double, interior: Double)]) = ([], [])

    mutating func add(outputs: Tensor, targets: Tensor) {
        nyquist.outputs += ImageStatistics.nyquistPowerFraction(outputs)
        nyquist.targets += ImageStatistics.nyquistPowerFraction(targets)
        saturation.outputs += ImageStatistics.saturation(outputs)
        saturation.targets += ImageStatistics.saturation(targets)
        border.outputs += ImageStatistics.borderAndInteriorChange(outputs)
        border.targets += ImageStatistics.borderAndInteriorChange(targets)
    }

    func rows() -> [Metric] {
        guard !nyquist.outputs.isEmpty else { return [] }
        func mean(_ v: [Double]) -> Double { v.reduce(0, +) / Double(v.count) }
        let (nyqO, nyqT) = (mean(nyquist.outputs), mean(nyquist.targets))
        let (satO, satT) = (mean(saturation.outputs), mean(saturation.targets))
        let (borO, borT) = (ImageStatistics.borderRatio(border.outputs), ImageStatistics.borderRatio(border.targets))
        typealias M = MetricCatalog
        return [
            M.nyquist(nyqO, note: String(format: "photos of the split: %.5f", nyqT)),
            M.nyquistRatio(nyqT > 0 ? nyqO / nyqT : .nan),
            M.saturation(satO, note: String(format: "photos of the split: %.3f", satT)),
            M.saturationRatio(satT > 0 ? satO / satT : .nan),
            M.borderRatio(borO, note: String(format: "photos of the split: %.3f", borT)),
        ]
    }
}
