import CTorch

/// An error reported by libtorch or by argument validation in this library.
public struct TorchError: Error, CustomStringConvertible, Equatable, Sendable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Runs `body`, turning any libtorch failure inside it into a thrown `TorchError`.
///
/// Outside such a scope a failing op stops the program with libtorch's message (like an
/// out-of-range array index). Inside it, the first failure is recorded, later ops on the
/// resulting undefined tensors are no-ops, and the message is thrown when `body` returns.
/// Scopes nest: a failure is thrown by the innermost scope it happens in.
public func withTorchErrors<T>(_ body: () throws -> T) throws -> T {
    ct_capture_begin()
    let result: T
    do {
        result = try body()
    } catch {
        if let p = ct_capture_end() { ct_free_string(p) }
        throw error
    }
    if let p = ct_capture_end() {
        let message = String(cString: p)
        ct_free_string(p)
        throw TorchError(message)
    }
    return result
}

@usableFromInline
func takeLastError() -> String {
    let message = ct_last_error().map { String(cString: $0) } ?? "unknown libtorch error"
    ct_clear_error()
    return message
}

/// Turns a handle from the shim into a tensor, handling failure as `withTorchErrors` documents.
@usableFromInline
func wrap(_ handle: CTTensor?) -> Tensor {
    if let handle { return Tensor(handle: handle) }
    let message = takeLastError()
    if ct_capture_depth() > 0 {
        ct_capture_record(message)
        return Tensor(handle: ct_undefined())
    }
    fatalError("libtorch: \(message)")
}

@usableFromInline
func check(_ status: Int32) {
    if status == 0 { return }
    let message = takeLastError()
    if ct_capture_depth() > 0 {
        ct_capture_record(message)
        return
    }
    fatalError("libtorch: \(message)")
}

/// Records a validation failure found on the Swift side, with the same rules as libtorch's.
func fail(_ message: String) -> Tensor {
    if ct_capture_depth() > 0 {
        ct_capture_record(message)
        return Tensor(handle: ct_undefined())
    }
    fatalError(message)
}
