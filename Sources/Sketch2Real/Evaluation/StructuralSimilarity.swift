import Foundation
import Torch

/// Mean structural similarity (Wang et al. 2004) as scikit-image computes it with
/// `structural_similarity(gaussian_weights=True, sigma=1.5, use_sample_covariance=False,
/// data_range=R, channel_axis=…)`: local statistics under an 11-tap Gaussian window
/// (σ 1.5, truncated at 3.5 σ), K1 0.01, K2 0.03, and the mean taken over the positions
/// where the window fits inside the image, then over channels.
public struct StructuralSimilarity: Sendable {
    public var sigma = 1.5
    public var truncate = 3.5
    public var k1 = 0.01
    public var k2 = 0.03
    public var dataRange = 1.0

    public init(dataRange: Double = 1.0) { self.dataRange = dataRange }

    /// scipy's Gaussian filter radius: int(truncate·σ + 0.5).
    public var radius: Int { Int(truncate * sigma + 0.5) }
    public var windowSize: Int { 2 * radius + 1 }

    /// The normalised 1-D window, float64.
    public var window: Tensor {
        let r = radius
        let w = (-r ... r).map { exp(-0.5 * Double($0 * $0) / (sigma * sigma)) }
        let total = w.reduce(0, +)
        return Tensor(w.map { $0 / total })
    }

    /// SSIM per image of two N×C×H×W batches holding values on `dataRange` (e.g. [0, 1]).
    public func callAsFunction(_ x: Tensor, _ y: Tensor) throws -> [Double] {
        guard x.shape == y.shape, x.rank == 4 else {
            throw EvaluationError("SSIM compares two N×C×H×W batches of one shape, got \(x.shape) and \(y.shape)")
        }
        let (n, c, h, w) = (x.size(0), x.size(1), x.size(2), x.size(3))
        guard h >= windowSize, w >= windowSize else {
            throw EvaluationError("SSIM needs images of at least \(windowSize)×\(windowSize) pixels, got \(w)×\(h)")
        }
        return withNoGrad {
            let a = x.to(.float64).reshape([n * c, 1, h, w])
            let b = y.to(.float64).reshape([n * c, 1, h, w])
            let g = window
            let rows = g.reshape([1, 1, windowSize, 1]), columns = g.reshape([1, 1, 1, windowSize])
            // Without padding the filtered maps cover exactly the positions scikit-image keeps
            // after cropping `radius` pixels from each border, so its boundary mode plays no part.
            func filter(_ t: Tensor) -> Tensor { t.conv2d(weight: rows).conv2d(weight: columns) }
            let ux = filter(a), uy = filter(b)
            let vx = filter(a * a) - ux * ux
            let vy = filter(b * b) - uy * uy
            let vxy = filter(a * b) - ux * uy
            let c1 = (k1 * dataRange) * (k1 * dataRange), c2 = (k2 * dataRange) * (k2 * dataRange)
            let numerator = (2.0 * ux * uy + c1) * (2.0 * vxy + c2)
            let denominator = (ux * ux + uy * uy + c1) * (vx + vy + c2)
            let map = numerator / denominator
            return map.reshape([n, c, -1]).mean(dims: [1, 2]).toArray(Double.self)
        }
    }
}
