import Foundation
import Torch

/// What `--memory-format` asks for: convolutions' weights (and so their activations) in NCHW
/// order, channels-last (NHWC), or `auto`.
public enum MemoryFormatChoice: String, Sendable, Codable, CaseIterable {
    case auto, contiguous
    case channelsLast = "channels-last"

    /// Whether to lay networks out channels-last on `device` in `precision`, and why. `auto`:
    /// on a CUDA GPU under bfloat16 or float16 autocast, where tensor cores read NHWC and cuDNN's
    /// NCHW kernels transpose around them (NVIDIA's and PyTorch's guidance); contiguous on the
    /// CPU, where it measured mixed on the one processor tried — inference faster, pix2pix's
    /// training slower (docs/PERFORMANCE.md, "Channels-last") — and in float32 on GPUs.
    public func resolve(device: Device, precision: Precision) -> (channelsLast: Bool, reason: String) {
        switch self {
        case .contiguous: return (false, "asked for (--memory-format contiguous)")
        case .channelsLast: return (true, "asked for (--memory-format channels-last)")
        case .auto:
            if device.isCUDA, precision != .fp32 { return (true, "auto: a GPU under \(precision.rawValue) autocast") }
            return (false, device.isCUDA ? "auto: float32 on a GPU" : "auto: the CPU")
        }
    }
}
