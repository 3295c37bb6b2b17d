import CTorch

// MARK: Element-wise arithmetic with broadcasting

extension Tensor {
    public static func + (a: Tensor, b: Tensor) -> Tensor { wrap(ct_add(a.handle, b.handle, 1)) }
    public static func - (a: Tensor, b: Tensor) -> Tensor { wrap(ct_sub(a.handle, b.handle, 1)) }
    public static func * (a: Tensor, b: Tensor) -> Tensor { wrap(ct_mul(a.handle, b.handle)) }
    public static func / (a: Tensor, b: Tensor) -> Tensor { wrap(ct_div(a.handle, b.handle)) }
    public static func + (a: Tensor, s: Double) -> Tensor { wrap(ct_add_scalar(a.handle, s)) }
    public static func - (a: Tensor, s: Double) -> Tensor { wrap(ct_add_scalar(a.handle, -s)) }
    public static func * (a: Tensor, s: Double) -> Tensor { wrap(ct_mul_scalar(a.handle, s)) }
    public static func / (a: Tensor, s: Double) -> Tensor { wrap(ct_div_scalar(a.handle, s)) }
    public static func + (s: Double, a: Tensor) -> Tensor { wrap(ct_add_scalar(a.handle, s)) }
    public static func - (s: Double, a: Tensor) -> Tensor { wrap(ct_rsub_scalar(a.handle, s)) }
    public static func * (s: Double, a: Tensor) -> Tensor { wrap(ct_mul_scalar(a.handle, s)) }
    public static func / (s: Double, a: Tensor) -> Tensor { wrap(ct_rdiv_scalar(a.handle, s)) }
    public static prefix func - (a: Tensor) -> Tensor { wrap(ct_neg(a.handle)) }

    /// `self + alpha * other`.
    public func adding(_ other: Tensor, alpha: Double) -> Tensor { wrap(ct_add(handle, other.handle, alpha)) }
    public func pow(_ exponent: Double) -> Tensor { wrap(ct_pow_scalar(handle, exponent)) }
    public func pow(_ exponent: Tensor) -> Tensor { wrap(ct_pow(handle, exponent.handle)) }
    public func maximum(_ other: Tensor) -> Tensor { wrap(ct_maximum(handle, other.handle)) }
    public func minimum(_ other: Tensor) -> Tensor { wrap(ct_minimum(handle, other.handle)) }
    public func lerp(_ end: Tensor, weight: Double) -> Tensor { wrap(ct_lerp(handle, end.handle, weight)) }

    public func eq(_ other: Tensor) -> Tensor { wrap(ct_eq(handle, other.handle)) }
    public func ne(_ other: Tensor) -> Tensor { wrap(ct_ne(handle, other.handle)) }
    public func lt(_ other: Tensor) -> Tensor { wrap(ct_lt(handle, other.handle)) }
    public func le(_ other: Tensor) -> Tensor { wrap(ct_le(handle, other.handle)) }
    public func gt(_ other: Tensor) -> Tensor { wrap(ct_gt(handle, other.handle)) }
    public func ge(_ other: Tensor) -> Tensor { wrap(ct_ge(handle, other.handle)) }
    public func eq(_ s: Double) -> Tensor { wrap(ct_eq_scalar(handle, s)) }
    public func lt(_ s: Double) -> Tensor { wrap(ct_lt_scalar(handle, s)) }
    public func gt(_ s: Double) -> Tensor { wrap(ct_gt_scalar(handle, s)) }
    public func logicalNot() -> Tensor { wrap(ct_logical_not(handle)) }
    /// Elements of `a` where `condition` holds, else of `b`.
    public static func `where`(_ condition: Tensor, _ a: Tensor, _ b: Tensor) -> Tensor {
        wrap(ct_where(condition.handle, a.handle, b.handle))
    }

    public func abs() -> Tensor { wrap(ct_abs(handle)) }
    public func exp() -> Tensor { wrap(ct_exp(handle)) }
    public func log() -> Tensor { wrap(ct_log(handle)) }
    public func log1p() -> Tensor { wrap(ct_log1p(handle)) }
    public func sqrt() -> Tensor { wrap(ct_sqrt(handle)) }
    public func rsqrt() -> Tensor { wrap(ct_rsqrt(handle)) }
    public func square() -> Tensor { wrap(ct_square(handle)) }
    public func sin() -> Tensor { wrap(ct_sin(handle)) }
    public func cos() -> Tensor { wrap(ct_cos(handle)) }
    public func sign() -> Tensor { wrap(ct_sign(handle)) }
    public func floor() -> Tensor { wrap(ct_floor(handle)) }
    public func ceil() -> Tensor { wrap(ct_ceil(handle)) }
    public func rounded() -> Tensor { wrap(ct_round(handle)) }
    public func clamp(min lo: Double? = nil, max hi: Double? = nil) -> Tensor {
        wrap(ct_clamp(handle, lo ?? 0, hi ?? 0, lo == nil ? 0 : 1, hi == nil ? 0 : 1))
    }

    // MARK: Activations

    public func relu() -> Tensor { wrap(ct_relu(handle)) }
    public func leakyRelu(_ negativeSlope: Double = 0.01) -> Tensor { wrap(ct_leaky_relu(handle, negativeSlope)) }
    public func sigmoid() -> Tensor { wrap(ct_sigmoid(handle)) }
    public func tanh() -> Tensor { wrap(ct_tanh(handle)) }
    public func softplus(beta: Double = 1, threshold: Double = 20) -> Tensor { wrap(ct_softplus(handle, beta, threshold)) }
    public func softmax(dim: Int) -> Tensor { wrap(ct_softmax(handle, Int64(dim))) }
    public func logSoftmax(dim: Int) -> Tensor { wrap(ct_log_softmax(handle, Int64(dim))) }

    // MARK: Reductions (empty `dims` reduces over everything)

    public func sum(dims: [Int] = [], keepDim: Bool = false) -> Tensor {
        withShape(dims) { wrap(ct_sum(handle, $0, $1, keepDim ? 1 : 0)) }
    }
    public func mean(dims: [Int] = [], keepDim: Bool = false) -> Tensor {
        withShape(dims) { wrap(ct_mean(handle, $0, $1, keepDim ? 1 : 0)) }
    }
    public func max(dims: [Int] = [], keepDim: Bool = false) -> Tensor {
        withShape(dims) { wrap(ct_amax(handle, $0, $1, keepDim ? 1 : 0)) }
    }
    public func min(dims: [Int] = [], keepDim: Bool = false) -> Tensor {
        withShape(dims) { wrap(ct_amin(handle, $0, $1, keepDim ? 1 : 0)) }
    }
    /// Variance with Bessel's `correction` (1 = unbiased, as `torch.var`'s default).
    public func variance(dims: [Int] = [], correction: Int = 1, keepDim: Bool = false) -> Tensor {
        withShape(dims) { wrap(ct_var(handle, $0, $1, Int64(correction), keepDim ? 1 : 0)) }
    }
    public func std(dims: [Int] = [], correction: Int = 1, keepDim: Bool = false) -> Tensor {
        withShape(dims) { wrap(ct_std(handle, $0, $1, Int64(correction), keepDim ? 1 : 0)) }
    }
    public func norm(p: Double = 2, dims: [Int] = [], keepDim: Bool = false) -> Tensor {
        withShape(dims) { wrap(ct_norm(handle, p, $0, $1, keepDim ? 1 : 0)) }
    }
    public func logSumExp(dims: [Int], keepDim: Bool = false) -> Tensor {
        withShape(dims) { wrap(ct_logsumexp(handle, $0, $1, keepDim ? 1 : 0)) }
    }
    public func argmax(dim: Int, keepDim: Bool = false) -> Tensor { wrap(ct_argmax(handle, Int64(dim), keepDim ? 1 : 0)) }
    public func argmin(dim: Int, keepDim: Bool = false) -> Tensor { wrap(ct_argmin(handle, Int64(dim), keepDim ? 1 : 0)) }

    // MARK: Linear algebra

    public func matmul(_ other: Tensor) -> Tensor { wrap(ct_matmul(handle, other.handle)) }
    public func mv(_ vector: Tensor) -> Tensor { wrap(ct_mv(handle, vector.handle)) }
    public func dot(_ other: Tensor) -> Tensor { wrap(ct_dot(handle, other.handle)) }

    /// Eigenvalues (ascending) and eigenvectors (the columns of `vectors`) of a symmetric
    /// matrix or batch of them, as `torch.linalg.eigh`; only the lower triangle is read.
    public func symmetricEigen() -> (values: Tensor, vectors: Tensor) {
        var vectors: CTTensor?
        let values = wrap(ct_linalg_eigh(handle, &vectors))
        return (values, vectors.map { Tensor(handle: $0) } ?? Tensor(handle: ct_undefined()))
    }

    // MARK: In place (not recorded for autograd on leaves that require grad)

    /// `self += alpha * other`.
    public func addInPlace(_ other: Tensor, alpha: Double = 1) { check(ct_add_(handle, other.handle, alpha)) }
    public func addInPlace(_ s: Double) { check(ct_add_scalar_(handle, s)) }
    public func mulInPlace(_ other: Tensor) { check(ct_mul_(handle, other.handle)) }
    public func mulInPlace(_ s: Double) { check(ct_mul_scalar_(handle, s)) }
    /// `self += value * a * b`.
    public func addcmulInPlace(_ a: Tensor, _ b: Tensor, value: Double = 1) { check(ct_addcmul_(handle, a.handle, b.handle, value)) }
    /// `self += value * a / b`.
    public func addcdivInPlace(_ a: Tensor, _ b: Tensor, value: Double = 1) { check(ct_addcdiv_(handle, a.handle, b.handle, value)) }
    /// Adam's update of this parameter and its moment estimates in one pass; false (nothing
    /// changed) unless all four are dense float32 CPU tensors of one size.
    public func adamStepInPlace(grad: Tensor, expAvg: Tensor, expAvgSq: Tensor, learningRate: Double, beta1: Double,
                                beta2: Double, eps: Double, step: Int) -> Bool {
        let status = ct_adam_step_(handle, grad.handle, expAvg.handle, expAvgSq.handle, learningRate, beta1, beta2, eps, Int64(step))
        check(status < 0 ? status : 0)
        return status == 0
    }
    /// Copies `source` (broadcast, converted) into this tensor's storage.
    public func copyFrom(_ source: Tensor) { check(ct_copy_(handle, source.handle)) }
    public func zeroInPlace() { check(ct_zero_(handle)) }
    public func fillInPlace(_ value: Double) { check(ct_fill_(handle, value)) }
    public func normalInPlace(mean: Double = 0, std: Double = 1) { check(ct_normal_(handle, mean, std)) }
    public func uniformInPlace(_ low: Double = 0, _ high: Double = 1) { check(ct_uniform_(handle, low, high)) }
    public func clampInPlace(min lo: Double, max hi: Double) { check(ct_clamp_(handle, lo, hi)) }
}
