import CTorch

extension Tensor {
    /// Whether operations on this tensor are recorded for differentiation.
    public var requiresGrad: Bool {
        get { ct_requires_grad(handle) != 0 }
        set { check(ct_set_requires_grad(handle, newValue ? 1 : 0)) }
    }

    /// Sets `requiresGrad` and returns self, for chaining.
    @discardableResult
    public func requiringGrad(_ flag: Bool = true) -> Tensor {
        requiresGrad = flag
        return self
    }

    /// Accumulates d(self)/d(leaf) into each leaf's `grad`. A non-scalar tensor needs `gradient`.
    /// `createGraph` implies `retainGraph`, as in PyTorch: the new graph refers to the old one.
    public func backward(gradient: Tensor? = nil, retainGraph: Bool = false, createGraph: Bool = false) {
        check(ct_backward(handle, gradient?.handle, retainGraph || createGraph ? 1 : 0, createGraph ? 1 : 0))
    }

    /// The accumulated gradient, or nil when none has been computed.
    public var grad: Tensor? {
        get {
            let g = wrap(ct_grad(handle))
            return g.isDefined ? g : nil
        }
        set {
            // libtorch would attach the gradient to its shared undefined-tensor singleton.
            guard isDefined else { _ = fail("cannot set the gradient of an undefined tensor"); return }
            check(ct_set_grad(handle, newValue?.handle))
        }
    }

    /// Drops the accumulated gradient (as PyTorch's `zero_grad(set_to_none=True)`).
    public func zeroGrad() {
        guard isDefined else { _ = fail("cannot clear the gradient of an undefined tensor"); return }
        check(ct_zero_grad(handle))
    }
}

/// Gradients of `outputs` with respect to `inputs` without touching `.grad`.
/// An input that does not influence the outputs gets nil. `createGraph` (for gradient
/// penalties and other higher-order terms) implies `retainGraph`, as in PyTorch.
public func gradients(of outputs: [Tensor], withRespectTo inputs: [Tensor], gradOutputs: [Tensor]? = nil,
                      retainGraph: Bool = false, createGraph: Bool = false) -> [Tensor?] {
    let outs: [CTTensor?] = outputs.map { $0.handle }
    let ins: [CTTensor?] = inputs.map { $0.handle }
    let gouts: [CTTensor?]? = gradOutputs?.map { $0.handle }
    var result = [CTTensor?](repeating: nil, count: inputs.count)
    let retain: Int32 = retainGraph || createGraph ? 1 : 0
    let status: Int32 = withExtendedLifetime((outputs, inputs, gradOutputs)) {
        outs.withUnsafeBufferPointer { o in
            ins.withUnsafeBufferPointer { i in
                if let gouts {
                    return gouts.withUnsafeBufferPointer { g in
                        ct_autograd_grad(o.baseAddress, Int32(o.count), g.baseAddress, i.baseAddress, Int32(i.count),
                                         retain, createGraph ? 1 : 0, 1, &result)
                    }
                }
                return ct_autograd_grad(o.baseAddress, Int32(o.count), nil, i.baseAddress, Int32(i.count),
                                        retain, createGraph ? 1 : 0, 1, &result)
            }
        }
    }
    check(status)
    return result.map { h in
        guard let h else { return nil }
        let t = Tensor(handle: h)
        return t.isDefined ? t : nil
    }
}

/// Whether autograd records operations on this thread.
public var isGradEnabled: Bool { ct_grad_enabled() != 0 }

/// Runs `body` with autograd recording switched off on this thread (inference, parameter updates).
public func withNoGrad<T>(_ body: () throws -> T) rethrows -> T {
    let previous = ct_grad_enabled()
    ct_set_grad_enabled(0)
    defer { ct_set_grad_enabled(previous) }
    return try body()
}

/// Runs `body` in libtorch's inference mode: like `withNoGrad`, and tensors skip autograd's
/// version and view bookkeeping. Tensors made here cannot take part in autograd later.
public func withInferenceMode<T>(_ body: () throws -> T) rethrows -> T {
    let guardHandle = ct_inference_mode_begin()
    defer { ct_inference_mode_end(guardHandle) }
    return try body()
}

/// Runs `body` with autograd recording switched on.
public func withGrad<T>(_ body: () throws -> T) rethrows -> T {
    let previous = ct_grad_enabled()
    ct_set_grad_enabled(1)
    defer { ct_set_grad_enabled(previous) }
    return try body()
}
