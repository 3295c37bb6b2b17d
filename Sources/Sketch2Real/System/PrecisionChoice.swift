import Foundation
import Torch

/// What `--precision` asks for: a precision, or `auto` to let the processor decide.
public enum PrecisionChoice: String, Sendable, Codable, CaseIterable {
    case fp32, bf16, fp16, auto

    /// The flags among `cpuFeatures` that give float16 arithmetic in hardware.
    static func nativeFloat16(_ cpuFeatures: [String]) -> [String] {
        cpuFeatures.filter { ["avx512_fp16", "amx_fp16"].contains($0) }
    }

    /// The flags among `cpuFeatures` that give bfloat16 arithmetic in hardware.
    static func nativeBFloat16(_ cpuFeatures: [String]) -> [String] {
        cpuFeatures.filter { ["avx512_bf16", "amx_bf16", "amx_tile"].contains($0) }
    }

    /// One sentence on how this machine computes bfloat16: natively, or emulated and slower.
    public static func bfloat16Support(cpuFeatures: [String] = SystemReport.cpuFeatures(),
                                       oneDNN: Bool = Torch.isMKLDNNAvailable) -> String {
        let native = nativeBFloat16(cpuFeatures)
        if oneDNN && !native.isEmpty { return "native (\(native.joined(separator: ", ")) through oneDNN)" }
        return "emulated: " + (oneDNN ? "no avx512_bf16, amx_bf16 or amx_tile flag" : "libtorch has no oneDNN")
            + "; --precision bf16 runs, slower than float32 (docs/PERFORMANCE.md)"
    }

    /// The precision to run in and why. `auto` picks bfloat16 where the processor computes it
    /// natively (the `avx512_bf16` or `amx_bf16`/`amx_tile` flags) and libtorch can reach those
    /// kernels through oneDNN; float32 everywhere else, where bfloat16 is emulated and slower.
    public func resolve(cpuFeatures: [String] = SystemReport.cpuFeatures(),
                        oneDNN: Bool = Torch.isMKLDNNAvailable) -> (precision: Precision, reason: String) {
        let native = Self.nativeBFloat16(cpuFeatures)
        switch self {
        case .fp32: return (.fp32, "asked for (--precision fp32)")
        case .bf16:
            return (.bf16, native.isEmpty || !oneDNN
                ? "asked for (--precision bf16); this CPU has no native bfloat16 arithmetic, so it is emulated and slower than float32"
                : "asked for (--precision bf16)")
        case .fp16:
            return (.fp16, Self.nativeFloat16(cpuFeatures).isEmpty
                ? "asked for (--precision fp16, with a gradient scaler); this CPU has no native float16 arithmetic, so it is emulated and slower than float32"
                : "asked for (--precision fp16, with a gradient scaler)")
        case .auto:
            if !oneDNN { return (.fp32, "auto: libtorch has no oneDNN, whose kernels run bfloat16") }
            if native.isEmpty { return (.fp32, "auto: the CPU has no native bfloat16 arithmetic (no avx512_bf16 or amx_tile flag)") }
            return (.bf16, "auto: the CPU computes bfloat16 natively (\(native.joined(separator: ", ")))")
        }
    }

    /// The precision on `device`: on the CPU as `resolve(cpuFeatures:oneDNN:)` says; on a CUDA
    /// GPU, `auto` is bfloat16 autocast where the GPU computes it (compute capability 8.0 and
    /// later), else float16 autocast with the training loop's gradient scaler.
    public func resolve(device: Device, capability: (major: Int, minor: Int)? = nil) -> (precision: Precision, reason: String) {
        guard case .cuda(let index) = device else { return resolve() }
        let c = capability ?? Torch.cudaCapability(index)
        let name = c.map { "compute capability \($0.major).\($0.minor)" } ?? "unknown compute capability"
        switch self {
        case .fp32: return (.fp32, "asked for (--precision fp32)")
        case .bf16:
            return (.bf16, (c?.major ?? 0) >= 8 ? "asked for (--precision bf16)"
                : "asked for (--precision bf16); this GPU (\(name)) has no bfloat16 units, so it is slow")
        case .fp16: return (.fp16, "asked for (--precision fp16, with a gradient scaler)")
        case .auto:
            if let c, c.major >= 8 { return (.bf16, "auto: this GPU (\(name)) computes bfloat16") }
            if c == nil { return (.fp32, "auto: the GPU's compute capability could not be read: float32") }
            return (.fp16, "auto: this GPU (\(name)) has no bfloat16 units: float16 with a gradient scaler")
        }
    }
}
