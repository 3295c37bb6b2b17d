import CTorch
import Foundation

/// Processes that train one model together: a process group of PyTorch's distributed engine
/// (c10d), Gloo or NCCL, on a TCP store (rank 0 serves it) or a file store. Collectives are in
/// place and wait for their result; a peer that dies or hangs makes them throw after `timeout`.
public final class ProcessGroup: @unchecked Sendable {
    /// Gloo: CPU tensors (CUDA tensors too, through copies); NCCL: CUDA tensors, GPU to GPU.
    public enum Backend: String, Sendable { case gloo, nccl }

    public let rank: Int
    public let worldSize: Int
    public let backend: Backend
    let handle: CTProcessGroup

    /// Whether this build can make NCCL groups: a CUDA build that found NCCL's header.
    public static var ncclAvailable: Bool { ct_pg_nccl_available() != 0 }

    /// NCCL for groups whose tensors live on a GPU, where this build has it; Gloo otherwise.
    public static func backend(for device: Device) -> Backend {
        if case .cuda = device, ncclAvailable { return .nccl }
        return .gloo
    }

    /// Joins through a TCPStore at `host:port`, which rank 0 serves unless `launcherServesStore`
    /// (torchrun's agent runs it: TORCHELASTIC_USE_AGENT_STORE).
    public convenience init(host: String, port: Int, rank: Int, worldSize: Int, timeout: Double, launcherServesStore: Bool = false,
                            backend: Backend = .gloo) throws {
        let serve: Int32 = rank == 0 && !launcherServesStore ? 1 : 0
        try self.init(rank: rank, worldSize: worldSize, backend: backend) {
            ct_pg_create(host, Int32(port), serve, nil, Int32(rank), Int32(worldSize), timeout, backend == .nccl ? 1 : 0)
        }
    }

    /// Joins through a FileStore at `file` (one machine, or a shared file system).
    public convenience init(file: String, rank: Int, worldSize: Int, timeout: Double, backend: Backend = .gloo) throws {
        try self.init(rank: rank, worldSize: worldSize, backend: backend) {
            ct_pg_create(nil, 0, 0, file, Int32(rank), Int32(worldSize), timeout, backend == .nccl ? 1 : 0)
        }
    }

    private init(rank: Int, worldSize: Int, backend: Backend, create: () -> CTProcessGroup?) throws {
        guard worldSize >= 1, (0 ..< worldSize).contains(rank) else {
            throw TorchError("a process group of \(worldSize) ranks has no rank \(rank)")
        }
        guard let h = create() else { throw TorchError("could not join the process group: \(takeLastError())") }
        (self.rank, self.worldSize, self.backend, handle) = (rank, worldSize, backend, h)
    }

    deinit { ct_pg_free(handle) }

    /// Every tensor becomes its sum over all ranks (one collective for all of them).
    public func allReduceSum(_ tensors: [Tensor]) throws {
        try collective(tensors) { ct_pg_allreduce_sum(handle, $0, $1) }
    }

    /// Every tensor becomes rank `root`'s.
    public func broadcast(_ tensors: [Tensor], root: Int = 0) throws {
        try collective(tensors) { ct_pg_broadcast(handle, $0, $1, Int32(root)) }
    }

    public func barrier() throws {
        guard ct_pg_barrier(handle) == 0 else { throw TorchError("barrier failed: \(takeLastError())") }
    }

    private func collective(_ tensors: [Tensor], _ run: (UnsafeMutablePointer<CTTensor?>, Int32) -> Int32) throws {
        guard !tensors.isEmpty else { return }
        var handles: [CTTensor?] = tensors.map { $0.handle }
        let status = handles.withUnsafeMutableBufferPointer { run($0.baseAddress!, Int32($0.count)) }
        guard status == 0 else { throw TorchError("\(backend == .nccl ? "NCCL" : "Gloo"): \(takeLastError())") }
    }
}

/// Averages the gradients of a fixed set of parameters over a process group while backward
/// runs, as PyTorch's DDP reducer does: the parameters are cut into buckets of at most
/// `bucketBytes` in reverse order, and each bucket's all-reduce starts as soon as backward has
/// produced all of its gradients. Use: `begin()`, the backward, `finish()`.
public final class GradientReducer: @unchecked Sendable {
    let handle: CTReducer
    let group: ProcessGroup
    public let parameters: [Tensor]

    public init(group: ProcessGroup, parameters: [Tensor], bucketBytes: Int) throws {
        var handles: [CTTensor?] = parameters.map { $0.handle }
        guard let h = handles.withUnsafeMutableBufferPointer({ ct_reducer_create(group.handle, $0.baseAddress!, Int32($0.count), Int64(bucketBytes)) }) else {
            throw TorchError("could not set up gradient averaging: \(takeLastError())")
        }
        (handle, self.group, self.parameters) = (h, group, parameters)
    }

    deinit { ct_reducer_free(handle) }

    public var bucketCount: Int { Int(ct_reducer_buckets(handle)) }

    /// Arms the hooks: the next backward's gradients of these parameters are reduced.
    public func begin() throws {
        guard ct_reducer_begin(handle) == 0 else { throw TorchError("gradient averaging: \(takeLastError())") }
    }

    /// Waits for every bucket and leaves each gradient as its mean over the ranks; returns the
    /// seconds spent waiting after backward (the communication not hidden behind it).
    @discardableResult
    public func finish() throws -> Double {
        var seconds = 0.0
        guard ct_reducer_finish(handle, &seconds) == 0 else { throw TorchError("\(group.backend == .nccl ? "NCCL" : "Gloo"): \(takeLastError())") }
        return seconds
    }
}
