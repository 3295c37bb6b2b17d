import Foundation
import Torch

/// What `--device` asks for: `auto` (the first CUDA device when one is present, else the CPU),
/// `cpu`, `cuda` (device 0) or `cuda:N`. Under torchrun (LOCAL_RANK set), `auto` is the GPU of
/// the rank's local index, as a PyTorch DDP script takes `cuda:LOCAL_RANK`.
public struct DeviceChoice: Sendable, Equatable, CustomStringConvertible {
    public enum Request: Sendable, Equatable {
        case auto
        case device(Device)
    }

    public let request: Request
    public var description: String {
        switch request {
        case .auto: "auto"
        case .device(let d): d.description
        }
    }

    public init(_ request: Request) { self.request = request }

    /// Parses auto, cpu, cuda or cuda:N (meta is for tests, not offered).
    public init(parsing text: String) throws {
        let t = text.trimmingCharacters(in: .whitespaces).lowercased()
        if t == "auto" { request = .auto; return }
        guard let d = Device(t), d != .meta else {
            throw ModelError("--device: use auto, cpu, cuda or cuda:N (got '\(text)')")
        }
        request = .device(d)
    }

    /// What this libtorch and machine offer, as `resolve` needs it.
    public struct Machine: Sendable {
        public var cudaCompiled: Bool
        public var cudaDevices: Int
        public var libtorch: String
        /// torchrun's LOCAL_RANK: the rank's index among the processes on this machine.
        public var localRank = 0
        public static var current: Machine {
            Machine(cudaCompiled: Torch.isCUDACompiled, cudaDevices: Torch.cudaDeviceCount, libtorch: Torch.version,
                    localRank: ProcessInfo.processInfo.environment["LOCAL_RANK"].flatMap(Int.init).map { max($0, 0) } ?? 0)
        }
    }

    /// The device to run on, or an error that says in one line why CUDA cannot be used here.
    public func resolve(_ machine: Machine = .current) throws -> Device {
        switch request {
        case .auto:
            return machine.cudaDevices > 0 ? .cuda(machine.localRank % machine.cudaDevices) : .cpu
        case .device(.cuda(let n)):
            guard machine.cudaCompiled else {
                throw ModelError("--device \(description): this sketch2real is built on libtorch \(machine.libtorch) without CUDA; "
                    + "build it against a libtorch with CUDA (README, \"GPUs\") or use --device cpu")
            }
            guard machine.cudaDevices > 0 else {
                throw ModelError("--device \(description): libtorch has CUDA but sees no CUDA device (check nvidia-smi and CUDA_VISIBLE_DEVICES), or use --device cpu")
            }
            guard n < machine.cudaDevices else {
                throw ModelError("--device \(description): there are \(machine.cudaDevices) CUDA device(s), cuda:0 to cuda:\(machine.cudaDevices - 1)")
            }
            return .cuda(n)
        case .device(let d):
            return d
        }
    }

    /// Makes `device` the process's device: tensors are made there from now on, and on CUDA
    /// cuDNN's autotuner picks each convolution's algorithm.
    public static func use(_ device: Device) {
        Torch.defaultDevice = device
        if device.isCUDA { Torch.setCuDNNBenchmark(true) }
    }
}
