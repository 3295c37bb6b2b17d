import CTorch
import Foundation
import Synchronization

/// The arithmetic networks run in. Weights, optimiser state, losses and checkpoints stay
/// float32 either way.
public enum Precision: String, Sendable, Codable, CaseIterable {
    /// float32 throughout.
    case fp32
    /// Convolutions and matrix products in bfloat16 under libtorch's CPU autocast (as
    /// `torch.autocast("cpu", dtype=torch.bfloat16)`), fed from float32 master weights; each
    /// network's outputs come back as float32, so that losses and norms stay float32.
    case bf16
    /// Convolutions and matrix products in float16 under autocast (as
    /// `torch.autocast(device, dtype=torch.float16)`), for GPUs without bfloat16 units: float16's
    /// narrow range needs the training loop's gradient scaler (`GradientScaler`) so that small
    /// gradients do not flush to zero; outputs come back as float32 as with `bf16`.
    case fp16

    public var dtype: DType {
        switch self {
        case .fp32: .float32
        case .bf16: .bfloat16
        case .fp16: .float16
        }
    }
}

extension Torch {
    private static let precisionCode = Atomic<Int>(0)
    private static let channelsLastFlag = Atomic<Bool>(false)

    /// Whether networks are laid out channels-last (`Module.useChannelsLast`) where they are
    /// built for training or loaded for inference; process-wide, off unless set.
    public static var channelsLast: Bool {
        get { channelsLastFlag.load(ordering: .relaxed) }
        set { channelsLastFlag.store(newValue, ordering: .relaxed) }
    }

    /// The precision `mixedPrecision` runs networks in, process-wide; float32 unless set.
    public static var precision: Precision {
        get { [Precision.fp32, .bf16, .fp16][precisionCode.load(ordering: .relaxed)] }
        set { precisionCode.store(newValue == .bf16 ? 1 : newValue == .fp16 ? 2 : 0, ordering: .relaxed) }
    }

    /// Whether autocast is on for this thread (inside a bfloat16 or float16 `mixedPrecision` scope).
    public static var isAutocasting: Bool { ct_autocast_enabled() != 0 }

    /// Runs one network's forward pass in `precision` (default: the process-wide one) and
    /// returns its outputs in float32. Backward passes need no scope: autograd records the casts.
    /// Autocast state is per thread, so the scope covers exactly the synchronous body.
    public static func mixedPrecision(_ precision: Precision? = nil, _ body: () -> Tensor) -> Tensor {
        autocast(precision ?? self.precision) { body().fullPrecision }
    }

    public static func mixedPrecision(_ precision: Precision? = nil, _ body: () -> [Tensor]) -> [Tensor] {
        autocast(precision ?? self.precision) { body().map(\.fullPrecision) }
    }

    public static func mixedPrecision(_ precision: Precision? = nil, _ body: () -> [[Tensor]]) -> [[Tensor]] {
        autocast(precision ?? self.precision) { body().map { $0.map(\.fullPrecision) } }
    }

    /// Runs `body` with autocast in `precision` on this thread, whatever was on before
    /// (`.fp32` switches autocast off inside, as `torch.autocast(enabled=False)`).
    public static func autocast<T>(_ precision: Precision, _ body: () throws -> T) rethrows -> T {
        if precision == .fp32, !isAutocasting { return try body() }
        let previous = ct_autocast_begin(precision == .fp32 ? 0 : 1, precision.dtype.rawValue)
        defer { ct_autocast_end(previous) }
        return try body()
    }
}

extension Tensor {
    /// The tensor in float32 when it is in a reduced floating type (bfloat16, float16), else itself.
    /// The cast is recorded by autograd, so gradients flow back in the tensor's own type.
    public var fullPrecision: Tensor {
        let type = dtype
        return type == .bfloat16 || type == .float16 ? to(.float32) : self
    }
}

/// One operator's share of a profiled run (libtorch's CPU profiler).
public struct ProfiledOperator: Sendable, Codable, Equatable {
    public var name: String
    public var calls: Int
    /// Microseconds inside the operator itself, and including the operators it called.
    public var selfMicroseconds: Double
    public var totalMicroseconds: Double

    public init(name: String, calls: Int, selfMicroseconds: Double, totalMicroseconds: Double) {
        self.name = name
        self.calls = calls
        self.selfMicroseconds = selfMicroseconds
        self.totalMicroseconds = totalMicroseconds
    }
}

extension Torch {
    /// Runs `body` under libtorch's CPU profiler and returns the per-operator totals, largest
    /// self time first.
    public static func profile(_ body: () throws -> Void) throws -> [ProfiledOperator] {
        guard ct_profile_begin() == 0 else { throw TorchError("cannot start the profiler: \(takeLastError())") }
        var failure: Error?
        do { try body() } catch { failure = error }
        guard let text = ct_profile_end() else { throw TorchError("cannot read the profile: \(takeLastError())") }
        defer { free(text) }
        if let failure { throw failure }
        return String(cString: text).split(separator: "\n").compactMap { line in
            let f = line.split(separator: "\t", omittingEmptySubsequences: false)
            guard f.count == 4, let calls = Int(f[1]), let own = Double(f[2]), let total = Double(f[3]) else { return nil }
            return ProfiledOperator(name: String(f[0]), calls: calls, selfMicroseconds: own, totalMicroseconds: total)
        }
    }
}
