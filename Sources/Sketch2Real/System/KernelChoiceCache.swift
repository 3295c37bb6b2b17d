import Foundation
import Torch

/// Where measured kernel choices (`Torch.transposedConvolutionPath` `.measure`) persist: one
/// file per processor and libtorch build, in `$SKETCH2REAL_CACHE` or
/// `${XDG_CACHE_HOME:-~/.cache}/sketch2real`, so that every run on a machine takes the same
/// path for a shape and results agree bit for bit between runs.
public enum KernelChoiceCache {
    /// `transposed-convolution-<hash>.txt`, the hash (FNV-1a, 64 bits) over the CPU model, its
    /// flags and the libtorch version: another processor or libtorch measures afresh.
    public static func path(environment: [String: String] = ProcessInfo.processInfo.environment) -> String? {
        let folder: String
        if let dir = environment["SKETCH2REAL_CACHE"], !dir.isEmpty {
            folder = dir
        } else if let xdg = environment["XDG_CACHE_HOME"], !xdg.isEmpty {
            folder = xdg + "/sketch2real"
        } else if let home = environment["HOME"], !home.isEmpty {
            folder = home + "/.cache/sketch2real"
        } else {
            return nil
        }
        let cpuinfo = SystemReport.readWholeFile("/proc/cpuinfo")
        let flags = cpuinfo.split(separator: "\n").first { $0.hasPrefix("flags") || $0.hasPrefix("Features") } ?? ""
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in (SystemReport.cpuModel(cpuinfo: cpuinfo) + "\n" + flags + "\n" + Torch.version).utf8 {
            hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3
        }
        return folder + "/transposed-convolution-" + String(hash, radix: 16) + ".txt"
    }

    /// Starts persisting the choices; silently stays in memory when the folder cannot be made.
    @discardableResult
    public static func use(environment: [String: String] = ProcessInfo.processInfo.environment) -> String? {
        guard let file = path(environment: environment) else { return nil }
        let folder = (file as NSString).deletingLastPathComponent
        guard (try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)) != nil else { return nil }
        Torch.persistTransposedConvolutionChoices(at: file)
        return file
    }
}
