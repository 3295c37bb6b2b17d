import Foundation
import Torch

/// Per-image L1 and PSNR between generated and target images.
///
/// Both take N×C×H×W network tensors in [-1, 1] and compare them as the saved 8-bit files a
/// user sees: clamped, mapped to [0, 1] and rounded to multiples of 1/255 (`unitImages`), so
/// L1 is in [0, 1] units and PSNR uses a data range of 1.
public enum PixelMetrics {
    /// PSNR of identical images is infinite; it is reported as this many dB (an MSE of 1e-10).
    public static let maximumPSNR = 100.0

    /// [-1, 1] network tensors → float64 [0, 1] rounded to 8-bit levels.
    public static func unitImages(_ images: Tensor) -> Tensor {
        withNoGrad { ((images.detached().to(.float64).clamp(min: -1, max: 1) + 1.0) * 127.5).rounded() / 255.0 }
    }

    /// Mean absolute difference per image, on [0, 1] images.
    public static func l1(_ a: Tensor, _ b: Tensor) -> [Double] {
        (a - b).abs().flatten(startDim: 1).mean(dims: [1]).toArray(Double.self)
    }

    /// 10·log10(1 / MSE) per image, on [0, 1] images (scikit-image's `peak_signal_noise_ratio`
    /// with `data_range=1`), capped at `maximumPSNR`.
    public static func psnr(_ a: Tensor, _ b: Tensor) -> [Double] {
        (a - b).square().flatten(startDim: 1).mean(dims: [1]).toArray(Double.self).map {
            Swift.min(maximumPSNR, 10 * log10(1 / Swift.max($0, 1e-10)))
        }
    }
}
