import CTorch

/// An n-dimensional array backed by a libtorch tensor. The native storage is released
/// when the last Swift reference goes away. Like a PyTorch tensor, a `Tensor` is a
/// reference: in-place operations are visible through every reference to it.
public final class Tensor: @unchecked Sendable {
    public let handle: CTTensor

    @usableFromInline
    init(handle: CTTensor) { self.handle = handle }

    deinit { ct_free(handle) }

    // MARK: Introspection

    /// False only for the placeholder produced after a failure inside `withTorchErrors`.
    public var isDefined: Bool { ct_defined(handle) != 0 }
    public var rank: Int { Int(ct_ndim(handle)) }
    public var shape: [Int] {
        let n = rank
        if n == 0 { return [] }
        var out = [Int64](repeating: 0, count: n)
        check(ct_shape(handle, &out))
        return out.map(Int.init)
    }
    public var strides: [Int] {
        let n = rank
        if n == 0 { return [] }
        var out = [Int64](repeating: 0, count: n)
        check(ct_strides(handle, &out))
        return out.map(Int.init)
    }
    public func size(_ dim: Int) -> Int {
        let s = shape
        let d = dim < 0 ? dim + s.count : dim
        guard s.indices.contains(d) else {
            _ = fail("dimension \(dim) is out of range for a tensor of rank \(s.count)")
            return 0
        }
        return s[d]
    }
    public var count: Int { Int(ct_numel(handle)) }
    public var dtype: DType { DType(rawValue: ct_dtype(handle)) ?? .float32 }
    public var device: Device {
        switch ct_device_type(handle) {
        case Int32(CT_CUDA): .cuda(Int(ct_device_index(handle)))
        case Int32(CT_META): .meta
        default: .cpu
        }
    }
    public var isContiguous: Bool { ct_is_contiguous(handle) != 0 }

    /// The single value of a one-element tensor (NaN on the meta device, which holds no data).
    public func item() -> Double {
        if device == .meta { return .nan }
        var v = 0.0
        check(ct_item(handle, &v))
        return v
    }

    // MARK: Creation

    public static func empty(_ shape: [Int], dtype: DType = .float32, device: Device? = nil) -> Tensor {
        let device = device ?? Torch.currentDevice
        return withShape(shape) { p, n in wrap(ct_empty(p, n, dtype.rawValue, device.code.0, device.code.1)) }
    }
    public static func zeros(_ shape: [Int], dtype: DType = .float32, device: Device? = nil) -> Tensor {
        let device = device ?? Torch.currentDevice
        return withShape(shape) { p, n in wrap(ct_zeros(p, n, dtype.rawValue, device.code.0, device.code.1)) }
    }
    public static func ones(_ shape: [Int], dtype: DType = .float32, device: Device? = nil) -> Tensor {
        let device = device ?? Torch.currentDevice
        return withShape(shape) { p, n in wrap(ct_ones(p, n, dtype.rawValue, device.code.0, device.code.1)) }
    }
    public static func full(_ shape: [Int], _ value: Double, dtype: DType = .float32, device: Device? = nil) -> Tensor {
        let device = device ?? Torch.currentDevice
        return withShape(shape) { p, n in wrap(ct_full(p, n, value, dtype.rawValue, device.code.0, device.code.1)) }
    }
    /// Uniform samples in [0, 1) from the global generator.
    public static func rand(_ shape: [Int], dtype: DType = .float32, device: Device? = nil) -> Tensor {
        let device = device ?? Torch.currentDevice
        return withShape(shape) { p, n in wrap(ct_rand(p, n, dtype.rawValue, device.code.0, device.code.1)) }
    }
    /// Standard normal samples from the global generator.
    public static func randn(_ shape: [Int], dtype: DType = .float32, device: Device? = nil) -> Tensor {
        let device = device ?? Torch.currentDevice
        return withShape(shape) { p, n in wrap(ct_randn(p, n, dtype.rawValue, device.code.0, device.code.1)) }
    }
    /// Integers uniformly drawn from [low, high).
    public static func randint(_ low: Int, _ high: Int, _ shape: [Int], dtype: DType = .int64, device: Device? = nil) -> Tensor {
        let device = device ?? Torch.currentDevice
        return withShape(shape) { p, n in
            wrap(ct_randint(Int64(low), Int64(high), p, n, dtype.rawValue, device.code.0, device.code.1))
        }
    }
    /// A random permutation of 0..<n.
    public static func randperm(_ n: Int, device: Device? = nil) -> Tensor {
        let device = device ?? Torch.currentDevice
        return wrap(ct_randperm(Int64(n), device.code.0, device.code.1))
    }
    public static func arange(_ start: Double, _ end: Double, step: Double = 1, dtype: DType = .float32, device: Device? = nil) -> Tensor {
        let device = device ?? Torch.currentDevice
        return wrap(ct_arange(start, end, step, dtype.rawValue, device.code.0, device.code.1))
    }
    public static func arange(_ end: Int, dtype: DType = .int64, device: Device? = nil) -> Tensor {
        arange(0, Double(end), dtype: dtype, device: device)
    }

    /// A tensor holding a copy of `values`, shaped `shape` (default: one dimension), on `device`
    /// (default: `Torch.currentDevice`).
    public convenience init<T: TensorElement>(_ values: [T], shape: [Int]? = nil, device: Device? = nil) {
        let shape = shape ?? [values.count]
        let h: CTTensor? = values.withUnsafeBytes { raw in
            shape.map(Int64.init).withUnsafeBufferPointer { s in
                ct_from_data(raw.baseAddress, raw.count, s.baseAddress, Int32(s.count), T.dtype.rawValue)
            }
        }
        self.init(handle: Tensor.placed(wrap(h), on: device).retainedHandle())
    }

    /// `t` (made on the CPU) on `device`, or on the thread's device.
    static func placed(_ t: Tensor, on device: Device?) -> Tensor {
        device.map { $0 == .cpu ? t : t.to($0) } ?? t.onCurrentDevice()
    }

    /// This tensor on the thread's device (`Torch.currentDevice`); itself where it already is.
    public func onCurrentDevice() -> Tensor {
        let d = Torch.currentDevice
        return device == d ? self : to(d)
    }

    /// A zero-dimensional tensor, on the CPU: libtorch lets a CPU scalar take part in an
    /// operation on any device.
    public convenience init(scalar: Double, dtype: DType = .float32) {
        self.init(handle: Tensor.full([], scalar, dtype: dtype, device: .cpu).retainedHandle())
    }

    /// A tensor holding a copy of raw little-endian bytes laid out as `dtype` in row-major order,
    /// on `device` (default: `Torch.currentDevice`).
    public convenience init(bytes: UnsafeRawBufferPointer, shape: [Int], dtype: DType, device: Device? = nil) {
        let h: CTTensor? = shape.map(Int64.init).withUnsafeBufferPointer { s in
            ct_from_data(bytes.baseAddress, bytes.count, s.baseAddress, Int32(s.count), dtype.rawValue)
        }
        self.init(handle: Tensor.placed(wrap(h), on: device).retainedHandle())
    }

    /// Moves ownership of the native tensor to a new wrapper (used by convenience initialisers).
    func retainedHandle() -> CTTensor { ct_alias(handle)! }

    /// The elements in row-major order, converted to `T` first when the dtype differs.
    public func toArray<T: TensorElement>(_ type: T.Type = T.self) -> [T] {
        let src = dtype == T.dtype ? self : to(T.dtype)
        let n = src.count
        if n == 0 { return [] }
        // The meta device holds no data: its tensors read as zeros, so code runs through.
        if device == .meta { return [T](unsafeUninitializedCapacity: n) { b, i in _ = UnsafeMutableRawBufferPointer(b).initializeMemory(as: UInt8.self, repeating: 0); i = n } }
        return [T](unsafeUninitializedCapacity: n) { buffer, initialized in
            check(ct_copy_to(src.handle, buffer.baseAddress, n * MemoryLayout<T>.stride))
            initialized = n
        }
    }

    /// The raw bytes of the elements in row-major order.
    public func bytes() -> [UInt8] {
        let n = count * dtype.byteSize
        if n == 0 { return [] }
        if device == .meta { return [UInt8](repeating: 0, count: n) }
        return [UInt8](unsafeUninitializedCapacity: n) { buffer, initialized in
            check(ct_copy_to(handle, buffer.baseAddress, n))
            initialized = n
        }
    }

    // MARK: Conversion

    public func to(_ dtype: DType) -> Tensor { wrap(ct_to_dtype(handle, dtype.rawValue)) }
    public func to(_ device: Device) -> Tensor { wrap(ct_to_device(handle, device.code.0, device.code.1)) }
    public func clone() -> Tensor { wrap(ct_clone(handle)) }
    public func contiguous() -> Tensor { wrap(ct_contiguous(handle)) }
    /// A 4-D tensor's memory becomes channels-last (NHWC order, same shape and values), in
    /// place: whoever holds the tensor sees the new layout. Other ranks are left as they are.
    public func makeChannelsLast() { check(ct_set_channels_last_(handle)) }
    /// Whether this is a 4-D tensor laid out channels-last.
    public var isChannelsLast: Bool { ct_is_channels_last(handle) != 0 }
    /// The same data, cut from the autograd graph.
    public func detached() -> Tensor { wrap(ct_detach(handle)) }
}

@inline(__always)
func withShape<R>(_ shape: [Int], _ body: (UnsafePointer<Int64>?, Int32) -> R) -> R {
    shape.map(Int64.init).withUnsafeBufferPointer { body($0.baseAddress, Int32($0.count)) }
}

extension Tensor: CustomStringConvertible {
    public var description: String {
        guard isDefined else { return "Tensor(undefined)" }
        var text = "Tensor(shape: \(shape), dtype: \(dtype), device: \(device)"
        if count <= 16, dtype != .bool {
            let v = to(.float64).toArray(Double.self)
            text += ", values: \(v)"
        }
        return text + ")"
    }
}
