import CTorch

/// A pair of integers for 2-D layer arguments (height, width); an integer literal means both.
public struct Size2: Equatable, Hashable, Sendable, Codable, ExpressibleByIntegerLiteral, CustomStringConvertible {
    public var h: Int
    public var w: Int
    public init(_ h: Int, _ w: Int) { self.h = h; self.w = w }
    public init(_ both: Int) { self.init(both, both) }
    public init(integerLiteral value: Int) { self.init(value) }
    var int64: [Int64] { [Int64(h), Int64(w)] }
    public var description: String { h == w ? "\(h)" : "(\(h), \(w))" }
}

/// How a loss combines per-element values.
public enum Reduction: Int32, Sendable {
    case none = 0, mean = 1, sum = 2
}

@inline(__always)
func with2<R>(_ a: Size2, _ body: (UnsafePointer<Int64>) -> R) -> R {
    a.int64.withUnsafeBufferPointer { body($0.baseAddress!) }
}

extension Tensor {
    /// 2-D convolution over NCHW input; `weight` is (out, in/groups, kh, kw).
    public func conv2d(weight: Tensor, bias: Tensor? = nil, stride: Size2 = 1, padding: Size2 = 0,
                       dilation: Size2 = 1, groups: Int = 1) -> Tensor {
        with2(stride) { s in with2(padding) { p in with2(dilation) { d in
            wrap(ct_conv2d(handle, weight.handle, bias?.handle, s, p, d, Int64(groups)))
        } } }
    }

    /// Transposed 2-D convolution; `weight` is (in, out/groups, kh, kw) as in PyTorch.
    public func convTranspose2d(weight: Tensor, bias: Tensor? = nil, stride: Size2 = 1, padding: Size2 = 0,
                                outputPadding: Size2 = 0, groups: Int = 1, dilation: Size2 = 1) -> Tensor {
        with2(stride) { s in with2(padding) { p in with2(outputPadding) { op in with2(dilation) { d in
            wrap(ct_conv_transpose2d(handle, weight.handle, bias?.handle, s, p, op, Int64(groups), d))
        } } } }
    }

    /// `self @ weightᵀ + bias`.
    public func linear(weight: Tensor, bias: Tensor? = nil) -> Tensor {
        wrap(ct_linear(handle, weight.handle, bias?.handle))
    }

    /// Batch normalisation. In training, batch statistics are used and the running
    /// statistics (when given) are updated in place with `momentum`.
    /// Normalisation over groups of channels (with the pixels) of each sample, then a
    /// per-channel scale and shift: PyTorch's `group_norm`, one fused kernel each way.
    public func groupNorm(groups: Int, weight: Tensor?, bias: Tensor?, eps: Double = 1e-5) -> Tensor {
        wrap(ct_group_norm(handle, Int64(groups), weight?.handle, bias?.handle, eps))
    }

    public func batchNorm(weight: Tensor?, bias: Tensor?, runningMean: Tensor?, runningVar: Tensor?,
                          training: Bool, momentum: Double = 0.1, eps: Double = 1e-5) -> Tensor {
        wrap(ct_batch_norm(handle, weight?.handle, bias?.handle, runningMean?.handle, runningVar?.handle,
                           training ? 1 : 0, momentum, eps))
    }

    /// Instance normalisation (per sample, per channel).
    public func instanceNorm(weight: Tensor? = nil, bias: Tensor? = nil, runningMean: Tensor? = nil,
                             runningVar: Tensor? = nil, useInputStats: Bool = true, momentum: Double = 0.1,
                             eps: Double = 1e-5) -> Tensor {
        wrap(ct_instance_norm(handle, weight?.handle, bias?.handle, runningMean?.handle, runningVar?.handle,
                              useInputStats ? 1 : 0, momentum, eps))
    }

    public func avgPool2d(kernel: Size2, stride: Size2? = nil, padding: Size2 = 0, ceilMode: Bool = false,
                          countIncludePad: Bool = true) -> Tensor {
        with2(kernel) { k in with2(stride ?? kernel) { s in with2(padding) { p in
            wrap(ct_avg_pool2d(handle, k, s, p, ceilMode ? 1 : 0, countIncludePad ? 1 : 0))
        } } }
    }

    public func maxPool2d(kernel: Size2, stride: Size2? = nil, padding: Size2 = 0, dilation: Size2 = 1,
                          ceilMode: Bool = false) -> Tensor {
        with2(kernel) { k in with2(stride ?? kernel) { s in with2(padding) { p in with2(dilation) { d in
            wrap(ct_max_pool2d(handle, k, s, p, d, ceilMode ? 1 : 0))
        } } } }
    }

    public func adaptiveAvgPool2d(_ outputSize: Size2) -> Tensor {
        with2(outputSize) { wrap(ct_adaptive_avg_pool2d(handle, $0)) }
    }
    public func adaptiveMaxPool2d(_ outputSize: Size2) -> Tensor {
        with2(outputSize) { wrap(ct_adaptive_max_pool2d(handle, $0)) }
    }

    /// Nearest-neighbour resize of NCHW input to `size`.
    public func upsampleNearest(size: Size2) -> Tensor {
        with2(size) { wrap(ct_upsample_nearest2d(handle, $0, 0, 0)) }
    }
    /// Nearest-neighbour resize by `scale` (as `F.interpolate(scale_factor=...)`).
    public func upsampleNearest(scale: Double) -> Tensor {
        let s = shape
        guard s.count == 4 else { return fail("upsampleNearest(scale:) expects NCHW input, got shape \(s)") }
        let size = Size2(Int((Double(s[2]) * scale).rounded(.down)), Int((Double(s[3]) * scale).rounded(.down)))
        return with2(size) { wrap(ct_upsample_nearest2d(handle, $0, scale, scale)) }
    }
    public func upsampleBilinear(size: Size2, alignCorners: Bool = false) -> Tensor {
        with2(size) { wrap(ct_upsample_bilinear2d(handle, $0, alignCorners ? 1 : 0, 0, 0)) }
    }
    public func upsampleBilinear(scale: Double, alignCorners: Bool = false) -> Tensor {
        let s = shape
        guard s.count == 4 else { return fail("upsampleBilinear(scale:) expects NCHW input, got shape \(s)") }
        let size = Size2(Int((Double(s[2]) * scale).rounded(.down)), Int((Double(s[3]) * scale).rounded(.down)))
        return with2(size) { wrap(ct_upsample_bilinear2d(handle, $0, alignCorners ? 1 : 0, scale, scale)) }
    }

    /// Zeroes elements with probability `p` and scales the rest by 1/(1-p) when `training`.
    public func dropout(p: Double, training: Bool) -> Tensor { wrap(ct_dropout(handle, p, training ? 1 : 0)) }

    public func l1Loss(_ target: Tensor, reduction: Reduction = .mean) -> Tensor {
        wrap(ct_l1_loss(handle, target.handle, reduction.rawValue))
    }
    public func mseLoss(_ target: Tensor, reduction: Reduction = .mean) -> Tensor {
        wrap(ct_mse_loss(handle, target.handle, reduction.rawValue))
    }
    /// Binary cross-entropy on logits (numerically stable), as `F.binary_cross_entropy_with_logits`.
    public func bceWithLogits(_ target: Tensor, weight: Tensor? = nil, posWeight: Tensor? = nil,
                              reduction: Reduction = .mean) -> Tensor {
        wrap(ct_bce_with_logits(handle, target.handle, weight?.handle, posWeight?.handle, reduction.rawValue))
    }
}
