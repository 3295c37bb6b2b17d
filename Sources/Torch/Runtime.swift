import CTorch
import Foundation
import Synchronization

/// Process-wide libtorch settings: random generator, threads, build information.
public enum Torch {
    /// Seeds the global CPU generator (as `torch.manual_seed`).
    public static func manualSeed(_ seed: UInt64) { ct_manual_seed(seed) }

    /// The global CPU generator's complete state, as bytes.
    public static func rngState() -> [UInt8] { wrap(ct_rng_get_state()).toArray(UInt8.self) }

    /// Restores a state returned by `rngState()`.
    public static func setRNGState(_ state: [UInt8]) throws {
        let t = Tensor(state, shape: [state.count], device: .cpu)
        if ct_rng_set_state(t.handle) != 0 {
            throw TorchError("cannot restore the random generator: \(takeLastError())")
        }
    }

    /// How CPU transposed convolutions run: libtorch 1.13's own im2col path, as the input
    /// gradient of an ordinary convolution on oneDNN, or (the default) whichever of the two was
    /// faster when each shape was first seen in this process. Neither wins on every processor
    /// (oneDNN's did on an Intel Xeon, im2col on an AMD EPYC Zen 4 for pix2pix's layers).
    /// Results agree to float rounding.
    public enum TransposedConvolutionPath: Int32, Sendable, CaseIterable {
        case im2col = 0, oneDNN = 1, measure = 2
    }

    public static var transposedConvolutionPath: TransposedConvolutionPath {
        get { TransposedConvolutionPath(rawValue: ct_transposed_convolution_mode()) ?? .measure }
        set { ct_set_transposed_convolution_mode(newValue.rawValue) }
    }

    /// Shapes measured so far, and how many of them chose each path.
    public static var transposedConvolutionChoices: (measured: Int, oneDNN: Int, im2col: Int) {
        var a: Int32 = 0, b: Int32 = 0
        let n = ct_transposed_convolution_choices(&a, &b)
        return (Int(n), Int(a), Int(b))
    }

    /// Forgets the measured choices (they are measured again on next use).
    public static func forgetTransposedConvolutionChoices() { ct_transposed_convolution_forget() }

    /// Keeps the measured choices in `path` (one "key path" line each) from now on and takes
    /// those already there, so that every process on one machine picks the same path per shape
    /// (results then agree bit for bit between runs, resumed ones included). Returns the number
    /// of known choices; nil switches persistence off.
    @discardableResult
    public static func persistTransposedConvolutionChoices(at path: String?) -> Int {
        Int(ct_set_transposed_convolution_cache(path ?? ""))
    }

    /// Whether transposed convolutions may take the oneDNN path (`transposedConvolutionPath`
    /// other than `.im2col`); setting it picks `.oneDNN` or `.im2col`.
    public static var fastTransposedConvolution: Bool {
        get { ct_fast_transposed_convolution() != 0 }
        set { ct_set_fast_transposed_convolution(newValue ? 1 : 0) }
    }

    /// Intra-op worker threads.
    public static var threads: Int {
        get { Int(ct_get_num_threads()) }
        set { ct_set_num_threads(Int32(Swift.max(1, newValue))) }
    }

    /// Physical cores this process may run on: the distinct (package, core) pairs, read from
    /// /sys, of the CPUs in its affinity list (`Cpus_allowed_list` of /proc/self/status), capped
    /// by a cgroup CPU quota; nil where those files are missing.
    public static func physicalCores() -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("Cpus_allowed_list:") }),
              let cpus = cpuList(String(line.dropFirst("Cpus_allowed_list:".count))), !cpus.isEmpty else { return nil }
        var cores = Set<String>()
        for cpu in cpus {
            let base = "/sys/devices/system/cpu/cpu\(cpu)/topology/"
            guard let package = try? String(contentsOfFile: base + "physical_package_id", encoding: .utf8),
                  let core = try? String(contentsOfFile: base + "core_id", encoding: .utf8) else { return nil }
            cores.insert(package.trimmingCharacters(in: .whitespacesAndNewlines) + "/" + core.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        // A cgroup CPU quota ("200000 100000": two CPUs' worth) caps what those cores can give.
        if let quota = try? String(contentsOfFile: "/sys/fs/cgroup/cpu.max", encoding: .utf8) {
            let fields = quota.split(separator: " ").map { Double($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
            if fields.count == 2, let q = fields[0], let period = fields[1], q > 0, period > 0 {
                return Swift.max(1, Swift.min(cores.count, Int((q / period).rounded(.up))))
            }
        }
        return cores.count
    }

    /// "0-3,8,10-11" → [0, 1, 2, 3, 8, 10, 11]; nil when malformed.
    public static func cpuList(_ text: String) -> [Int]? {
        var out: [Int] = []
        for part in text.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: ",") {
            let ends = part.split(separator: "-").map { Int($0.trimmingCharacters(in: .whitespaces)) }
            guard (1 ... 2).contains(ends.count), let first = ends.first!, let last = ends.last!, first <= last, last - first < 65536 else { return nil }
            out += Array(first ... last)
        }
        return out
    }

    /// One intra-op thread per physical core, unless the thread count was chosen
    /// (`SKETCH2REAL_THREADS`, `OMP_NUM_THREADS`, `MKL_NUM_THREADS`). libtorch 1.13 sizes its pool
    /// from cpuinfo's count of cores, which some virtual machines report as 1 where the kernel
    /// shows 2 (an AMD EPYC here: a 256² SRAGAN translation took 1.3–1.6 s on one thread and
    /// 0.8 s on two). Returns the count set, or nil when left alone.
    @discardableResult
    public static func usePhysicalCores() -> Int? {
        let environment = ProcessInfo.processInfo.environment
        guard ["SKETCH2REAL_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"].allSatisfy({ environment[$0] == nil }),
              let cores = physicalCores(), cores != threads else { return nil }
        threads = cores
        return cores
    }

    /// Inter-op threads; can be set only once, before any parallel work.
    public static func setInteropThreads(_ n: Int) throws {
        if ct_set_num_interop_threads(Int32(n)) != 0 { throw TorchError(takeLastError()) }
    }
    public static var interopThreads: Int { Int(ct_get_num_interop_threads()) }

    public static var version: String { takeString(ct_version()) }
    /// libtorch's build configuration (compiler, BLAS, CPU capability, ...).
    public static var buildConfiguration: String { takeString(ct_config()) }
    public static var parallelInfo: String { takeString(ct_parallel_info()) }
    public static var isCUDAAvailable: Bool { ct_cuda_available() != 0 }
    public static var cudaDeviceCount: Int { Int(ct_cuda_device_count()) }
    /// Whether this libtorch has CUDA kernels (libtorch_cuda linked), whether or not a GPU is here.
    public static var isCUDACompiled: Bool { ct_cuda_compiled() != 0 }
    /// Compute capability of CUDA device `index` as (major, minor); nil without one.
    public static func cudaCapability(_ index: Int) -> (major: Int, minor: Int)? {
        let c = Int(ct_cuda_capability(Int32(index)))
        return c > 0 ? (c / 10, c % 10) : nil
    }
    /// cuDNN's autotuner (`torch.backends.cudnn.benchmark`): each convolution shape is timed
    /// with every algorithm once and the fastest kept.
    public static func setCuDNNBenchmark(_ on: Bool) { ct_set_cudnn_benchmark(on ? 1 : 0) }

    private static let defaultDeviceStore = Mutex<Device>(.cpu)
    /// The process's device: where tensors are made when no device is named (factories such as
    /// `zeros` and `rand`, tensors from Swift arrays, loaded weights), on every thread that has
    /// not chosen another (`withDevice`). Commands set it from `--device`; the default is the CPU.
    public static var defaultDevice: Device {
        get { defaultDeviceStore.withLock { $0 } }
        set { defaultDeviceStore.withLock { $0 = newValue } }
    }

    /// Where this thread makes tensors: its own choice inside `withDevice`, else `defaultDevice`.
    public static var currentDevice: Device {
        var index: Int32 = 0
        let type = ct_thread_device(&index)
        switch type {
        case Int32(CT_CPU): return .cpu
        case Int32(CT_CUDA): return .cuda(Int(index))
        case Int32(CT_META): return .meta
        default: return defaultDevice
        }
    }

    /// Runs `body` with this thread making tensors on `device` (data loading keeps images on
    /// the CPU this way while the networks live on a GPU).
    public static func withDevice<T>(_ device: Device, _ body: () throws -> T) rethrows -> T {
        var previous: Int32 = -1, previousIndex: Int32 = 0
        ct_set_thread_device(device.code.0, device.code.1, &previous, &previousIndex)
        defer {
            var ignored: Int32 = 0, ignoredIndex: Int32 = 0
            ct_set_thread_device(previous, previousIndex, &ignored, &ignoredIndex)
        }
        return try body()
    }
    public static var isMKLDNNAvailable: Bool { ct_mkldnn_available() != 0 }

    static func takeString(_ p: UnsafeMutablePointer<CChar>?) -> String {
        guard let p else { return "" }
        defer { ct_free_string(p) }
        return String(cString: p)
    }
}
