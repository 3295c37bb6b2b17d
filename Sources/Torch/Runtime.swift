import CTorch

/// Process-wide libtorch settings: random generator, threads, build information.
public enum Torch {
    /// Seeds the global CPU generator (as `torch.manual_seed`).
    public static func manualSeed(_ seed: UInt64) { ct_manual_seed(seed) }

    /// The global CPU generator's complete state, as bytes.
    public static func rngState() -> [UInt8] { wrap(ct_rng_get_state()).toArray(UInt8.self) }

    /// Restores a state returned by `rngState()`.
    public static func setRNGState(_ state: [UInt8]) throws {
        let t = Tensor(state, shape: [state.count])
        if ct_rng_set_state(t.handle) != 0 {
            throw TorchError("cannot restore the random generator: \(takeLastError())")
        }
    }

    /// Whether CPU float32 transposed convolutions run on oneDNN (as the input gradient of an
    /// ordinary convolution) rather than libtorch 1.13's slow im2col path; on by default.
    /// Results agree to float rounding; the switch exists to measure the difference.
    public static var fastTransposedConvolution: Bool {
        get { ct_fast_transposed_convolution() != 0 }
        set { ct_set_fast_transposed_convolution(newValue ? 1 : 0) }
    }

    /// Intra-op worker threads.
    public static var threads: Int {
        get { Int(ct_get_num_threads()) }
        set { ct_set_num_threads(Int32(Swift.max(1, newValue))) }
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
    public static var isMKLDNNAvailable: Bool { ct_mkldnn_available() != 0 }

    static func takeString(_ p: UnsafeMutablePointer<CChar>?) -> String {
        guard let p else { return "" }
        defer { ct_free_string(p) }
        return String(cString: p)
    }
}
