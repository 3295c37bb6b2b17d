import Foundation
import Torch

/// What `sketch2real info` reports: versions, threads, CPU, devices, the BLAS library that
/// libtorch actually loaded, and a measured matrix-product speed.
public struct SystemReport: Sendable {
    public static let version = "0.1.0"

    public var productVersion = SystemReport.version
    public var libtorchVersion: String
    public var threads: Int
    public var interopThreads: Int
    public var cpuModel: String
    public var cpuFeatures: [String]
    public var libtorchCPUCapability: String
    public var devices: [String]
    public var blas: BLASLibrary
    public var mkldnn: Bool

    /// The BLAS implementation a process has mapped, judged from its file path.
    public struct BLASLibrary: Sendable, Equatable {
        public enum Kind: String, Sendable { case openblas = "OpenBLAS", mkl = "MKL", blis = "BLIS", reference = "reference BLAS", unknown }
        public var kind: Kind
        public var path: String
        /// Reference BLAS makes libtorch's matrix products tens of times slower.
        public var isSlow: Bool { kind == .reference || kind == .unknown }
    }

    public static func collect() -> SystemReport {
        let cpu = readWholeFile("/proc/cpuinfo")
        let maps = readWholeFile("/proc/self/maps")
        var devices = ["cpu"]
        for i in 0 ..< Torch.cudaDeviceCount { devices.append("cuda:\(i)") }
        return SystemReport(
            libtorchVersion: Torch.version,
            threads: Torch.threads,
            interopThreads: Torch.interopThreads,
            cpuModel: cpuModel(cpuinfo: cpu),
            cpuFeatures: reachable(cpuFeatures(cpuinfo: cpu), environment: ProcessInfo.processInfo.environment),
            libtorchCPUCapability: cpuCapability(config: Torch.buildConfiguration),
            devices: devices,
            blas: blasLibrary(maps: maps, config: Torch.buildConfiguration),
            mkldnn: Torch.isMKLDNNAvailable)
    }

    /// Reads a file to its end; /proc files report size 0, so size-based readers cut them short.
    static func readWholeFile(_ path: String) -> String {
        guard let f = fopen(path, "r") else { return "" }
        defer { fclose(f) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = fread(&chunk, 1, chunk.count, f)
            if n <= 0 { break }
            bytes += chunk[0 ..< n]
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    static func cpuModel(cpuinfo: String) -> String {
        for line in cpuinfo.split(separator: "\n") where line.hasPrefix("model name") {
            if let colon = line.firstIndex(of: ":") { return line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces) }
        }
        return "unknown"
    }

    /// This machine's SIMD features (as `collect()` reports them) that libtorch's kernels may use:
    /// /proc/cpuinfo's, less those that `SKETCH2REAL_HIDE_CPU_FEATURES` hides and those above
    /// oneDNN's `ONEDNN_MAX_CPU_ISA` cap (the bfloat16 and AMX kernels live in oneDNN).
    public static func cpuFeatures(environment: [String: String] = ProcessInfo.processInfo.environment) -> [String] {
        reachable(cpuFeatures(cpuinfo: readWholeFile("/proc/cpuinfo")), environment: environment)
    }

    /// `features` less what the environment hides from libtorch (see `cpuFeatures()`).
    static func reachable(_ features: [String], environment: [String: String]) -> [String] {
        let asked = Set((environment["SKETCH2REAL_HIDE_CPU_FEATURES"] ?? "").split(separator: ",").map(String.init))
        let cap = ((environment["ONEDNN_MAX_CPU_ISA"] ?? environment["DNNL_MAX_CPU_ISA"]) ?? "").uppercased()
        let capped = !cap.isEmpty && cap != "ALL" && cap != "DEFAULT"
        // Each level hides what the next keeps: no AVX-512 at all, no bfloat16 instructions, no AMX.
        let noAVX512 = asked.contains("avx512") || (capped && !cap.hasPrefix("AVX512"))
        let noBF16 = noAVX512 || asked.contains("avx512_bf16") || (capped && !["BF16", "FP16", "AMX"].contains { cap.contains($0) })
        let noAMX = noBF16 || (capped && !cap.contains("AMX"))
        return features.filter { feature in
            !(noAVX512 && feature.hasPrefix("avx512")) && !(noBF16 && feature == "avx512_bf16") && !(noAMX && feature.hasPrefix("amx"))
        }
    }

    /// SIMD features that matter to libtorch's kernels, in a fixed order.
    static func cpuFeatures(cpuinfo: String) -> [String] {
        let wanted = ["sse4_2", "avx", "avx2", "fma", "f16c", "avx512f", "avx512bw", "avx512_vnni", "avx512_bf16", "amx_bf16", "amx_tile", "neon", "asimd"]
        var flags = Set<String>()
        for line in cpuinfo.split(separator: "\n") where line.hasPrefix("flags") || line.hasPrefix("Features") {
            if let colon = line.firstIndex(of: ":") {
                flags.formUnion(line[line.index(after: colon)...].split(separator: " ").map(String.init))
            }
            break
        }
        return wanted.filter(flags.contains)
    }

    static func cpuCapability(config: String) -> String {
        for line in config.split(separator: "\n") where line.contains("CPU capability usage:") {
            return line.components(separatedBy: "CPU capability usage:").last!.trimmingCharacters(in: .whitespaces)
        }
        return "unknown"
    }

    /// The BLAS libtorch calls: MKL where its build configuration says so (PyPI's wheels link it
    /// into libtorch_cpu, so no file of its own is mapped, while OpenCV may map OpenBLAS for
    /// itself), else the one found in a `/proc/<pid>/maps` listing.
    public static func blasLibrary(maps: String, config: String) -> BLASLibrary {
        if config.contains("BLAS_INFO=mkl") { return BLASLibrary(kind: .mkl, path: "linked into libtorch_cpu (BLAS_INFO=mkl)") }
        return blasLibrary(maps: maps)
    }

    /// Finds the BLAS in a `/proc/<pid>/maps` listing.
    public static func blasLibrary(maps: String) -> BLASLibrary {
        var paths: [String] = []
        for line in maps.split(separator: "\n") {
            guard let slash = line.firstIndex(of: "/") else { continue }
            let path = String(line[slash...])
            let file = path.split(separator: "/").last.map(String.init) ?? path
            if file.contains("blas") || file.contains("mkl_") || file.contains("blis"), !paths.contains(path) { paths.append(path) }
        }
        if let p = paths.first(where: { $0.lowercased().contains("openblas") }) { return BLASLibrary(kind: .openblas, path: p) }
        if let p = paths.first(where: { $0.contains("mkl") }) { return BLASLibrary(kind: .mkl, path: p) }
        if let p = paths.first(where: { $0.contains("blis") }) { return BLASLibrary(kind: .blis, path: p) }
        if let p = paths.first(where: { $0.contains("libblas") }) { return BLASLibrary(kind: .reference, path: p) }
        return BLASLibrary(kind: .unknown, path: paths.first ?? "none found")
    }

    /// Float32 square matrix products for about `seconds`; returns GFLOP/s (2n³ per product).
    public static func matmulGFLOPS(size n: Int = 1024, seconds: Double = 1) -> Double {
        let a = Tensor.randn([n, n]), b = Tensor.randn([n, n])
        _ = a.matmul(b)
        var count = 0
        let start = DispatchTime.now().uptimeNanoseconds
        var elapsed = 0.0
        repeat {
            _ = a.matmul(b)
            count += 1
            elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        } while elapsed < seconds
        return 2 * Double(n * n * n) * Double(count) / elapsed / 1e9
    }

    /// The shapes `convolutionPeak` tries: (batch, channels in = out, side), the widths and
    /// sides of the models' inner layers.
    public static let peakShapes: [(batch: Int, channels: Int, side: Int)] = [(4, 256, 64), (1, 512, 32), (4, 128, 128)]

    /// The arithmetic rate a training step could reach here, on the current thread count, in
    /// `precision`: the best rate over `peakShapes` of a 3×3 convolution's forward and backward
    /// (input and weight gradients: 3 × 2·MACs), run on oneDNN as the models' convolutions are,
    /// with tensors in float32 or bfloat16. A step's GFLOP/s over this is a share of something
    /// this machine really did with the same kernels, so it stays below 100 %.
    public static func convolutionPeak(_ precision: Precision = .fp32, seconds: Double = 1.5) -> (gflops: Double, source: String) {
        var best = 0.0, bestShape = peakShapes[0]
        for shape in peakShapes {
            let x = Tensor.randn([shape.batch, shape.channels, shape.side, shape.side]).to(precision.dtype).requiringGrad()
            let w = (Tensor.randn([shape.channels, shape.channels, 3, 3]) * 0.02).to(precision.dtype).requiringGrad()
            let gy = Tensor.randn([shape.batch, shape.channels, shape.side, shape.side]).to(precision.dtype)
            func pass() {
                let y = x.conv2d(weight: w, bias: nil, stride: 1, padding: 1, dilation: 1, groups: 1)
                y.backward(gradient: gy)
                x.zeroGrad()
                w.zeroGrad()
            }
            pass()
            var count = 0
            let start = DispatchTime.now().uptimeNanoseconds
            var elapsed = 0.0
            repeat {
                pass()
                count += 1
                elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            } while elapsed < seconds / Double(peakShapes.count)
            let macs = Double(shape.batch * shape.channels * shape.channels * 9 * shape.side * shape.side)
            let rate = 3 * 2 * macs * Double(count) / elapsed / 1e9
            if rate > best { (best, bestShape) = (rate, shape) }
        }
        let type = precision == .bf16 ? "bfloat16" : "float32"
        return (best, String(format: "%@ 3×3 %d→%d convolution at %d², batch %d, forward + backward (oneDNN): %.1f GFLOP/s, best of %d shapes",
                             type, bestShape.channels, bestShape.channels, bestShape.side, bestShape.batch, best, peakShapes.count))
    }

    /// Human-readable lines for the terminal.
    public func lines(matmulGFLOPS: Double?) -> [String] {
        var out = [
            "sketch2real \(productVersion)",
            "libtorch     \(libtorchVersion)",
            "threads      \(threads) intra-op, \(interopThreads) inter-op (default: one per physical core\(Torch.physicalCores().map { ", \($0) here" } ?? ""); --threads N)",
            "cpu          \(cpuModel)",
            "cpu features \(cpuFeatures.isEmpty ? "none detected" : cpuFeatures.joined(separator: " ")); libtorch kernels: \(libtorchCPUCapability)",
            "devices      \(devices.joined(separator: ", "))",
            "oneDNN       \(mkldnn ? "available (convolutions)" : "not available")",
            "BLAS         \(blas.kind.rawValue) (\(blas.path))",
        ]
        if let g = matmulGFLOPS {
            out.append(String(format: "matmul       %.1f GFLOP/s (float32, 1024², 1 s)", g))
        }
        if blas.isSlow {
            out.append("warning: libtorch is not using an optimised BLAS; matrix products run tens of times slower. Install OpenBLAS: apt-get install libopenblas0-pthread (scripts/bootstrap does this).")
        }
        return out
    }
}
