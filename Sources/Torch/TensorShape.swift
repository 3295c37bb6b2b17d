import CTorch

/// How `pad` fills the new border.
public enum PaddingMode: String, Sendable, Codable {
    case constant, reflect, replicate
}

extension Tensor {
    public func reshape(_ shape: [Int]) -> Tensor { withShape(shape) { wrap(ct_reshape(handle, $0, $1)) } }
    public func reshape(_ shape: Int...) -> Tensor { reshape(shape) }
    /// Flattens dimensions `startDim...endDim` into one.
    public func flatten(startDim: Int = 0, endDim: Int = -1) -> Tensor {
        let s = shape
        if s.isEmpty { return reshape([1]) }
        let a = startDim < 0 ? startDim + s.count : startDim
        let b = endDim < 0 ? endDim + s.count : endDim
        guard 0 <= a, a <= b, b < s.count else {
            return fail("flatten(startDim: \(startDim), endDim: \(endDim)) is out of range for a tensor of rank \(s.count)")
        }
        let merged = s[a...b].reduce(1, *)
        return reshape(Array(s[..<a]) + [merged] + Array(s[(b + 1)...]))
    }
    public func permute(_ dims: [Int]) -> Tensor { withShape(dims) { wrap(ct_permute(handle, $0, $1)) } }
    public func permute(_ dims: Int...) -> Tensor { permute(dims) }
    public func transposed(_ d0: Int, _ d1: Int) -> Tensor { wrap(ct_transpose(handle, Int64(d0), Int64(d1))) }
    /// Matrix transpose of the last two dimensions.
    public var T: Tensor { transposed(-2, -1) }
    public func expand(_ shape: [Int]) -> Tensor { withShape(shape) { wrap(ct_expand(handle, $0, $1)) } }
    public func repeated(_ repeats: [Int]) -> Tensor { withShape(repeats) { wrap(ct_repeat(handle, $0, $1)) } }
    public func flipped(_ dims: [Int]) -> Tensor { withShape(dims) { wrap(ct_flip(handle, $0, $1)) } }
    public func squeezed(_ dim: Int) -> Tensor { wrap(ct_squeeze(handle, Int64(dim))) }
    public func unsqueezed(_ dim: Int) -> Tensor { wrap(ct_unsqueeze(handle, Int64(dim))) }

    /// Elements `start..<end` (negative values count from the end) with `step` along `dim`; a view.
    public func slice(dim: Int, start: Int = 0, end: Int = Int.max, step: Int = 1) -> Tensor {
        wrap(ct_slice(handle, Int64(dim), Int64(start), end == Int.max ? Int64.max : Int64(end), Int64(step)))
    }
    public func narrow(dim: Int, start: Int, length: Int) -> Tensor { slice(dim: dim, start: start, end: start + length) }
    /// Index `index` along `dim`, removing that dimension.
    public func select(dim: Int, index: Int) -> Tensor { wrap(ct_select(handle, Int64(dim), Int64(index))) }
    public func indexSelect(dim: Int, index: Tensor) -> Tensor { wrap(ct_index_select(handle, Int64(dim), index.handle)) }

    /// Splits into `chunks` pieces along `dim`, as `torch.chunk` does (the last may be smaller).
    public func chunked(_ chunks: Int, dim: Int = 0) -> [Tensor] {
        precondition(chunks > 0, "chunk count must be positive")
        let n = size(dim)
        let step = (n + chunks - 1) / chunks
        if step == 0 { return [self] }
        return stride(from: 0, to: n, by: step).map { narrow(dim: dim, start: $0, length: Swift.min(step, n - $0)) }
    }

    /// Splits into pieces of the given sizes along `dim`.
    public func split(sizes: [Int], dim: Int = 0) -> [Tensor] {
        var start = 0
        return sizes.map { s in
            defer { start += s }
            return narrow(dim: dim, start: start, length: s)
        }
    }

    public static func cat(_ tensors: [Tensor], dim: Int = 0) -> Tensor {
        let handles: [CTTensor?] = tensors.map { $0.handle }
        return withExtendedLifetime(tensors) {
            handles.withUnsafeBufferPointer { wrap(ct_cat($0.baseAddress, Int32($0.count), Int64(dim))) }
        }
    }
    public static func stack(_ tensors: [Tensor], dim: Int = 0) -> Tensor {
        let handles: [CTTensor?] = tensors.map { $0.handle }
        return withExtendedLifetime(tensors) {
            handles.withUnsafeBufferPointer { wrap(ct_stack($0.baseAddress, Int32($0.count), Int64(dim))) }
        }
    }

    /// Pads the last dimensions; `pad` lists (before, after) pairs starting from the last
    /// dimension, as `torch.nn.functional.pad` does.
    public func padded(_ pad: [Int], mode: PaddingMode = .constant, value: Double = 0) -> Tensor {
        withShape(pad) { p, n in
            switch mode {
            case .constant: wrap(ct_pad_constant(handle, p, n, value))
            case .reflect: wrap(ct_pad_reflect(handle, p, n))
            case .replicate: wrap(ct_pad_replicate(handle, p, n))
            }
        }
    }
}
