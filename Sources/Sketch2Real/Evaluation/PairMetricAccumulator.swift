import Foundation
import Torch

/// A metric measured on every (output, target) pair: it takes batches of both as 8-bit images
/// in [0, 1] (`PixelMetrics.unitImages`) and, at the end, its table rows.
protocol PairMetricAccumulator {
    mutating func add(outputs: Tensor, targets: Tensor) throws
    func rows() -> [Metric]
}

/// L1, PSNR and SSIM per pair.
struct PixelFidelity: PairMetricAccumulator {
    var l1: [Double] = [], psnr: [Double] = [], ssim: [Double] = []
    let structural = StructuralSimilarity(dataRange: 1)

    mutating func add(outputs: Tensor, targets: Tensor) throws {
        l1 += PixelMetrics.l1(outputs, targets)
        psnr += PixelMetrics.psnr(outputs, targets)
        ssim += try structural(outputs, targets)
    }

    func rows() -> [Metric] { Self.rows(l1: mean(l1), psnr: mean(psnr), ssim: mean(ssim)) }

    static func rows(l1: Double, psnr: Double, ssim: Double) -> [Metric] {
        [MetricCatalog.l1(l1, note: "mean |output − target|, images in [0, 1]"), MetricCatalog.psnr(psnr), MetricCatalog.ssim(ssim)]
    }
}

extension LooksLikePhotos: PairMetricAccumulator {}
