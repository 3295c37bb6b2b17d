import Synchronization
import Torch

/// Storage for one tensor of a module, found by reflection. Parameters and buffers are
/// declared with the property wrappers below; the state-dict name is the wrapper's `key`
/// or else the property's name.
public class TensorSlot: @unchecked Sendable {
    public var tensor: Tensor?
    /// The state-dict name; nil means "the property's name".
    public var key: String?
    public let isBuffer: Bool
    /// Set for a tensor re-registered under a new name (spectral norm's `weight_orig`).
    /// PyTorch deletes and re-adds such a parameter, which moves it after the module's
    /// other parameters in `state_dict()` and `parameters()`; ordering it last keeps
    /// names and optimiser-state indices in PyTorch's order.
    var reregistered = false

    init(tensor: Tensor?, key: String?, isBuffer: Bool) {
        self.tensor = tensor
        self.key = key
        self.isBuffer = isBuffer
        if !isBuffer, let tensor, tensor.dtype.isFloatingPoint { tensor.requiresGrad = true }
    }
}

/// A trainable tensor of a module (`requiresGrad` is set on assignment).
@propertyWrapper
public final class Parameter: TensorSlot, @unchecked Sendable {
    public init(wrappedValue: Tensor, key: String? = nil) { super.init(tensor: wrappedValue, key: key, isBuffer: false) }
    public var wrappedValue: Tensor {
        get { tensor! }
        set { tensor = newValue; newValue.requiresGrad = true }
    }
    public var projectedValue: Parameter { self }
}

/// A trainable tensor that a configuration may leave out (a bias, an affine scale).
@propertyWrapper
public final class OptionalParameter: TensorSlot, @unchecked Sendable {
    public init(wrappedValue: Tensor?, key: String? = nil) { super.init(tensor: wrappedValue, key: key, isBuffer: false) }
    public var wrappedValue: Tensor? {
        get { tensor }
        set { tensor = newValue; newValue?.requiresGrad = true }
    }
    public var projectedValue: OptionalParameter { self }
}

/// Non-trainable state saved with the module (running statistics, power-iteration vectors).
@propertyWrapper
public final class Buffer: TensorSlot, @unchecked Sendable {
    public init(wrappedValue: Tensor, key: String? = nil) { super.init(tensor: wrappedValue, key: key, isBuffer: true) }
    public var wrappedValue: Tensor {
        get { tensor! }
        set { tensor = newValue }
    }
    public var projectedValue: Buffer { self }
}

/// A buffer that a configuration may leave out.
@propertyWrapper
public final class OptionalBuffer: TensorSlot, @unchecked Sendable {
    public init(wrappedValue: Tensor?, key: String? = nil) { super.init(tensor: wrappedValue, key: key, isBuffer: true) }
    public var wrappedValue: Tensor? {
        get { tensor }
        set { tensor = newValue }
    }
    public var projectedValue: OptionalBuffer { self }
}

/// A child module stored under a state-dict name that differs from the property's name.
@propertyWrapper
public final class Child<M: Module>: @unchecked Sendable {
    public var wrappedValue: M
    public let key: String
    public init(wrappedValue: M, key: String) {
        self.wrappedValue = wrappedValue
        self.key = key
    }
}

protocol NamedChildSlot {
    var childKey: String { get }
    var childModule: Module { get }
}
extension Child: NamedChildSlot {
    var childKey: String { key }
    var childModule: Module { wrappedValue }
}

/// A layer that maps one tensor to one tensor, so it can sit in a `Sequential`.
public protocol UnaryLayer: Module {
    func callAsFunction(_ x: Tensor) -> Tensor
}

/// Base class of every layer and network. Parameters, buffers and children are the
/// stored properties of a subclass, discovered by reflection and named as PyTorch's
/// `state_dict` names the same structure: `encoder.blocks.3.conv1.weight`.
open class Module {
    /// Training mode (batch statistics, dropout) versus evaluation mode.
    public private(set) var isTraining = true

    public init() { Self.constructions.add(1, ordering: .relaxed) }

    private static let constructions = Atomic<Int>(0)

    /// How many modules this process has constructed so far: where a job builds a network and
    /// where it builds one again shows here (`train`'s memory check measures the trainer's own
    /// networks instead of copies).
    public static var constructedCount: Int { constructions.load(ordering: .relaxed) }

    // MARK: Structure

    struct Members {
        var slots: [(String, TensorSlot)] = []
        var children: [(String, Module)] = []
    }

    func members() -> Members {
        var result = Members()
        var mirrors: [Mirror] = []
        var mirror: Mirror? = Mirror(reflecting: self)
        while let m = mirror, m.subjectType != Module.self {
            mirrors.append(m)
            mirror = m.superclassMirror
        }
        for m in mirrors.reversed() {
            for case let (label?, value) in m.children {
                let name = label.hasPrefix("_") ? String(label.dropFirst()) : label
                if let slot = value as? TensorSlot {
                    result.slots.append((slot.key ?? name, slot))
                } else if let named = value as? NamedChildSlot {
                    result.children.append((named.childKey, named.childModule))
                } else if let child = value as? Module {
                    result.children.append((name, child))
                } else if let list = value as? [Module] {
                    for (i, child) in list.enumerated() { result.children.append(("\(name).\(i)", child)) }
                }
            }
        }
        result.slots = result.slots.filter { !$0.1.reregistered } + result.slots.filter { $0.1.reregistered }
        return result
    }

    /// Direct children with their names. `Sequential` overrides this to name children by index.
    open func namedChildren() -> [(String, Module)] { members().children }

    /// Every module below this one (itself first), with dotted paths.
    public func namedModules(prefix: String = "") -> [(String, Module)] {
        var out: [(String, Module)] = [(prefix, self)]
        for (name, child) in namedChildren() {
            out += child.namedModules(prefix: prefix.isEmpty ? name : "\(prefix).\(name)")
        }
        return out
    }

    func namedSlots(buffers: Bool) -> [(String, TensorSlot)] {
        var out: [(String, TensorSlot)] = []
        for (path, module) in namedModules() {
            for (name, slot) in module.members().slots where slot.isBuffer == buffers && slot.tensor != nil {
                out.append((path.isEmpty ? name : "\(path).\(name)", slot))
            }
        }
        return out
    }

    public func namedParameters() -> [(String, Tensor)] { namedSlots(buffers: false).map { ($0.0, $0.1.tensor!) } }
    public func parameters() -> [Tensor] { namedParameters().map(\.1) }
    public func trainableParameters() -> [Tensor] { parameters().filter(\.requiresGrad) }
    public func namedBuffers() -> [(String, Tensor)] { namedSlots(buffers: true).map { ($0.0, $0.1.tensor!) } }
    public var parameterCount: Int { parameters().reduce(0) { $0 + $1.count } }

    /// Parameters then buffers of each module, parents before children (PyTorch's order).
    public func stateDict() -> [(String, Tensor)] {
        var out: [(String, Tensor)] = []
        for (path, module) in namedModules() {
            let slots = module.members().slots.filter { $0.1.tensor != nil }
            for (name, slot) in slots.filter({ !$0.1.isBuffer }) + slots.filter({ $0.1.isBuffer }) {
                out.append((path.isEmpty ? name : "\(path).\(name)", slot.tensor!))
            }
        }
        return out
    }

    /// Copies values into this module's tensors in place (so optimisers keep their references).
    /// With `strict`, missing or unexpected names are an error; shapes must always match.
    public func loadStateDict(_ values: [String: Tensor], strict: Bool = true) throws {
        var slots: [String: TensorSlot] = [:]
        for (name, slot) in namedSlots(buffers: false) + namedSlots(buffers: true) { slots[name] = slot }
        var problems: [String] = []
        let missing = slots.keys.filter { values[$0] == nil }.sorted()
        let unexpected = values.keys.filter { slots[$0] == nil }.sorted()
        if strict {
            if !missing.isEmpty { problems.append("missing \(missing.count) tensor(s): \(Self.abbreviate(missing))") }
            if !unexpected.isEmpty { problems.append("unexpected \(unexpected.count) tensor(s): \(Self.abbreviate(unexpected))") }
        }
        for (name, slot) in slots.sorted(by: { $0.key < $1.key }) {
            guard let value = values[name], let current = slot.tensor else { continue }
            if value.shape != current.shape {
                problems.append("\(name) has shape \(value.shape) in the file but \(current.shape) in the model")
            }
        }
        if !problems.isEmpty { throw TorchError("weights do not match the model: " + problems.joined(separator: "; ")) }
        withNoGrad {
            for (name, slot) in slots {
                if let value = values[name], let current = slot.tensor { current.copyFrom(value) }
            }
        }
    }

    public static func abbreviate(_ names: [String]) -> String {
        names.count <= 8 ? names.joined(separator: ", ") : names.prefix(8).joined(separator: ", ") + ", …"
    }

    // MARK: Modes

    /// Switches this module and all below it to training (`true`) or evaluation mode.
    public func train(_ on: Bool = true) {
        for (_, m) in namedModules() { m.isTraining = on }
    }
    public func eval() { train(false) }

    /// Stops (or resumes) gradient computation for every parameter below this module.
    public func freeze(_ frozen: Bool = true) {
        for p in parameters() { p.requiresGrad = !frozen }
    }
    public func unfreeze() { freeze(false) }

    /// Drops the accumulated gradients of every parameter.
    public func zeroGrad() {
        for p in parameters() { p.zeroGrad() }
    }

    /// Moves every parameter and buffer to `device`, keeping trainability.
    public func to(_ device: Device) {
        for (_, module) in namedModules() {
            for (_, slot) in module.members().slots {
                guard let t = slot.tensor, t.device != device else { continue }
                let moved = t.to(device).detached()
                if !slot.isBuffer { moved.requiresGrad = t.requiresGrad }
                slot.tensor = moved
            }
        }
    }

    /// Lays every 4-D parameter and buffer (convolution weights) out channels-last, in place, so
    /// that optimisers already holding them follow. Convolutions then run channels-last (libtorch
    /// picks the layout from the weight as from the input), which tensor cores prefer under
    /// autocast. Values, names and saved files do not change: a saved tensor is written in NCHW order.
    public func useChannelsLast() {
        for (_, module) in namedModules() {
            for (_, slot) in module.members().slots {
                if let t = slot.tensor, t.rank == 4 { t.makeChannelsLast() }
            }
        }
    }

    /// Converts floating-point parameters and buffers to `dtype`.
    public func to(_ dtype: DType) {
        precondition(dtype.isFloatingPoint, "modules convert only to floating-point dtypes")
        for (_, module) in namedModules() {
            for (_, slot) in module.members().slots {
                guard let t = slot.tensor, t.dtype.isFloatingPoint, t.dtype != dtype else { continue }
                let converted = t.to(dtype).detached()
                if !slot.isBuffer { converted.requiresGrad = t.requiresGrad }
                slot.tensor = converted
            }
        }
    }
}
