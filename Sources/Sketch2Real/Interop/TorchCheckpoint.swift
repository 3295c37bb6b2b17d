import Foundation
import Torch

/// Reads a state dict saved by `torch.save(module.state_dict(), path)` in PyTorch's zip format
/// (`archive/data.pkl` + `archive/data/<key>` storages), without Python and without running any
/// of the pickle's code: the pickle is interpreted by a small machine that knows containers,
/// numbers, strings and the few PyTorch globals that rebuild tensors. Any other global
/// (`os.system`, `builtins.eval`, a custom class) is refused with its name.
public enum TorchCheckpoint {
    /// Globals a state dict may name, and nothing else.
    static let storageTypes: [String: DType] = [
        "FloatStorage": .float32, "DoubleStorage": .float64, "HalfStorage": .float16, "BFloat16Storage": .bfloat16,
        "LongStorage": .int64, "IntStorage": .int32, "ShortStorage": .int16, "CharStorage": .int8, "ByteStorage": .uint8,
        "BoolStorage": .bool, "UntypedStorage": .uint8,
    ]

    /// The tensors of the state dict in `path`, by name (non-tensor entries are skipped).
    /// A checkpoint that wraps the state dict (`{"state_dict": …}` or `{"model": …}`) is unwrapped.
    public static func load(path: String) throws -> [String: Tensor] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw InteropError("\(path): \(FileErrorText.missing(path, what: "checkpoint"))")
        }
        if data.prefix(2) != Data([0x50, 0x4B]) {
            if data.first == 0x80 {
                throw InteropError("\(path): a PyTorch checkpoint in the legacy format (saved with _use_new_zipfile_serialization=False or PyTorch < 1.6); load it in PyTorch and save it again with torch.save, which writes the zip format")
            }
            throw InteropError("\(path): not a PyTorch checkpoint (torch.save writes a zip archive)")
        }
        let zip = try ZipArchive(data: data, source: path)
        guard let pickle = zip.entries.keys.sorted().first(where: { $0.hasSuffix("/data.pkl") || $0 == "data.pkl" }) else {
            throw InteropError("\(path): a zip archive without data.pkl, so not a PyTorch checkpoint")
        }
        let prefix = String(pickle.dropLast("data.pkl".count))
        if let order = try? zip.contents(prefix + "byteorder"), String(decoding: order, as: UTF8.self) != "little" {
            throw InteropError("\(path): saved on a big-endian machine; load and save it again on a little-endian one")
        }
        var machine = Unpickler(bytes: [UInt8](try zip.contents(pickle)), source: path) { key, dtype in
            try zip.contents(prefix + "data/" + key)
        }
        let root = try machine.run()
        return try stateDict(root, source: path)
    }

    static func stateDict(_ root: PickleValue, source: String) throws -> [String: Tensor] {
        guard case .dict(let box) = root else { throw InteropError("\(source): the checkpoint holds \(root.kind), not a state dict") }
        var tensors: [String: Tensor] = [:]
        var nested: [String: PickleValue] = [:]
        for (key, value) in box.items {
            guard case .string(let name) = key else { continue }
            switch value {
            case .tensor(let t): tensors[name] = t
            case .dict: nested[name] = value
            default: continue
            }
        }
        if tensors.isEmpty, let inner = nested["state_dict"] ?? nested["model"] ?? nested["net"] {
            return try stateDict(inner, source: source)
        }
        guard !tensors.isEmpty else { throw InteropError("\(source): the checkpoint holds no tensors") }
        return tensors
    }
}

/// A value on the pickle machine's stack.
indirect enum PickleValue {
    case none, mark
    case bool(Bool), int(Int64), float(Double), string(String), bytes([UInt8])
    case tuple([PickleValue])
    case list(ListBox)
    case dict(DictBox)
    /// A global the machine knows: a callable or a storage type.
    case global(String)
    case storage(bytes: Data, dtype: DType)
    case tensor(Tensor)

    final class ListBox { var items: [PickleValue] = [] }
    final class DictBox { var items: [(PickleValue, PickleValue)] = [] }

    var kind: String {
        switch self {
        case .none: "None"
        case .mark: "a mark"
        case .bool: "a bool"
        case .int: "an integer"
        case .float: "a float"
        case .string: "a string"
        case .bytes: "bytes"
        case .tuple: "a tuple"
        case .list: "a list"
        case .dict: "a dict"
        case .global(let g): g
        case .storage: "a storage"
        case .tensor: "a tensor"
        }
    }
}

/// Interprets the opcodes `torch.save` uses (pickle protocols 2 to 4) over a whitelist of globals.
struct Unpickler {
    let bytes: [UInt8]
    let source: String
    let storage: (String, DType) throws -> Data
    var position = 0
    var stack: [PickleValue] = []
    var memo: [Int: PickleValue] = [:]
    var storages: [String: PickleValue] = [:]

    init(bytes: [UInt8], source: String, storage: @escaping (String, DType) throws -> Data) {
        self.bytes = bytes
        self.source = source
        self.storage = storage
    }

    func fail(_ why: String) -> InteropError { InteropError("\(source): \(why)") }

    mutating func take(_ n: Int) throws -> ArraySlice<UInt8> {
        guard n >= 0, position + n <= bytes.count else { throw fail("the pickle ends early (truncated or damaged)") }
        defer { position += n }
        return bytes[position ..< position + n]
    }

    mutating func uint(_ n: Int) throws -> Int {
        try take(n).reversed().reduce(0) { $0 << 8 | Int($1) }
    }

    mutating func line() throws -> String {
        guard let end = bytes[position...].firstIndex(of: 0x0A) else { throw fail("the pickle ends early (truncated or damaged)") }
        defer { position = end + 1 }
        return String(decoding: bytes[position ..< end], as: UTF8.self)
    }

    mutating func pop() throws -> PickleValue {
        guard let v = stack.popLast() else { throw fail("a damaged pickle (its stack ran empty)") }
        return v
    }

    /// Everything above the topmost mark, which is removed.
    mutating func popToMark() throws -> [PickleValue] {
        guard let m = stack.lastIndex(where: { if case .mark = $0 { true } else { false } }) else { throw fail("a damaged pickle (no mark)") }
        let items = Array(stack[(m + 1)...])
        stack.removeSubrange(m...)
        return items
    }

    func resolve(module: String, name: String) throws -> PickleValue {
        let full = module + "." + name
        switch full {
        case "collections.OrderedDict", "torch._utils._rebuild_tensor_v2", "torch._utils._rebuild_parameter",
             "builtins.dict", "__builtin__.dict":
            return .global(full)
        default:
            if (module == "torch" || module == "torch.storage"), TorchCheckpoint.storageTypes[name] != nil { return .global(full) }
            throw fail("refused: the checkpoint asks for the Python object '\(full)'. Only state dicts (tensors, numbers, strings and containers) are imported, and no pickle code is run")
        }
    }

    mutating func run() throws -> PickleValue {
        while true {
            let op = try take(1).first!
            switch op {
            case 0x80: _ = try take(1) // PROTO
            case 0x95: _ = try take(8) // FRAME
            case 0x2E: return try pop() // STOP
            case 0x28: stack.append(.mark)
            case 0x7D: stack.append(.dict(.init())) // EMPTY_DICT
            case 0x5D: stack.append(.list(.init())) // EMPTY_LIST
            case 0x29: stack.append(.tuple([])) // EMPTY_TUPLE
            case 0x4E: stack.append(.none)
            case 0x88: stack.append(.bool(true))
            case 0x89: stack.append(.bool(false))
            case 0x4B: stack.append(.int(Int64(try uint(1)))) // BININT1
            case 0x4D: stack.append(.int(Int64(try uint(2)))) // BININT2
            case 0x4A: stack.append(.int(Int64(Int32(truncatingIfNeeded: try uint(4))))) // BININT
            case 0x8A: // LONG1
                let n = try uint(1)
                guard n <= 8 else { throw fail("an integer of \(n) bytes") }
                let raw = try take(n)
                var v: Int64 = 0
                for (k, b) in raw.enumerated() { v |= Int64(b) << (8 * Int64(k)) }
                if n > 0, n < 8, raw.last! & 0x80 != 0 { v -= Int64(1) << (8 * Int64(n)) }
                stack.append(.int(v))
            case 0x47: stack.append(.float(Double(bitPattern: UInt64(try take(8).reduce(0) { $0 << 8 | Int($1) })))) // BINFLOAT (big-endian)
            case 0x58: stack.append(.string(String(decoding: try take(try uint(4)), as: UTF8.self))) // BINUNICODE
            case 0x8C: stack.append(.string(String(decoding: try take(try uint(1)), as: UTF8.self))) // SHORT_BINUNICODE
            case 0x55: stack.append(.string(String(decoding: try take(try uint(1)), as: UTF8.self))) // SHORT_BINSTRING
            case 0x54: stack.append(.string(String(decoding: try take(try uint(4)), as: UTF8.self))) // BINSTRING
            case 0x43: stack.append(.bytes(Array(try take(try uint(1))))) // SHORT_BINBYTES
            case 0x42: stack.append(.bytes(Array(try take(try uint(4))))) // BINBYTES
            case 0x71: memo[try uint(1)] = stack.last // BINPUT
            case 0x72: memo[try uint(4)] = stack.last // LONG_BINPUT
            case 0x94: memo[memo.count] = stack.last // MEMOIZE
            case 0x68, 0x6A: // BINGET, LONG_BINGET
                let k = try uint(op == 0x68 ? 1 : 4)
                guard let v = memo[k] else { throw fail("a damaged pickle (memo \(k) is empty)") }
                stack.append(v)
            case 0x63: // GLOBAL
                let module = try line(), name = try line()
                stack.append(try resolve(module: module, name: name))
            case 0x93: // STACK_GLOBAL
                guard case .string(let name) = try pop(), case .string(let module) = try pop() else { throw fail("a damaged pickle (STACK_GLOBAL)") }
                stack.append(try resolve(module: module, name: name))
            case 0x74: stack.append(.tuple(try popToMark())) // TUPLE
            case 0x85: stack.append(.tuple([try pop()]))
            case 0x86: let b = try pop(), a = try pop(); stack.append(.tuple([a, b]))
            case 0x87: let c = try pop(), b = try pop(), a = try pop(); stack.append(.tuple([a, b, c]))
            case 0x61: // APPEND
                let v = try pop()
                guard case .list(let l) = stack.last else { throw fail("a damaged pickle (APPEND)") }
                l.items.append(v)
            case 0x65: // APPENDS
                let items = try popToMark()
                guard case .list(let l) = stack.last else { throw fail("a damaged pickle (APPENDS)") }
                l.items += items
            case 0x73: // SETITEM
                let v = try pop(), k = try pop()
                guard case .dict(let d) = stack.last else { throw fail("a damaged pickle (SETITEM)") }
                d.items.append((k, v))
            case 0x75: // SETITEMS
                let items = try popToMark()
                guard items.count % 2 == 0, case .dict(let d) = stack.last else { throw fail("a damaged pickle (SETITEMS)") }
                for i in stride(from: 0, to: items.count, by: 2) { d.items.append((items[i], items[i + 1])) }
            case 0x62: _ = try pop() // BUILD: an OrderedDict's attributes (`_metadata`), not needed
            case 0x51: stack.append(try persistentLoad(try pop())) // BINPERSID
            case 0x52: // REDUCE
                let args = try pop(), callable = try pop()
                stack.append(try call(callable, args))
            default:
                throw fail(String(format: "unsupported pickle opcode 0x%02x at byte %d; only state dicts saved by torch.save are imported", op, position - 1))
            }
        }
    }

    /// ('storage', storage type, key, location, numel) → the storage's bytes.
    mutating func persistentLoad(_ id: PickleValue) throws -> PickleValue {
        guard case .tuple(let t) = id, t.count >= 5, case .string("storage") = t[0], case .global(let type) = t[1],
              case .string(let key) = t[2] else { throw fail("a damaged pickle (an unknown persistent id)") }
        if let cached = storages[key] { return cached }
        let dtype = TorchCheckpoint.storageTypes[String(type.split(separator: ".").last ?? "")] ?? .uint8
        let data = try storage(key, dtype)
        let value = PickleValue.storage(bytes: data, dtype: dtype)
        storages[key] = value
        return value
    }

    func ints(_ v: PickleValue, _ what: String) throws -> [Int] {
        guard case .tuple(let t) = v else { throw fail("a damaged tensor record (\(what))") }
        return try t.map { guard case .int(let i) = $0, i >= 0 else { throw fail("a damaged tensor record (\(what))") }; return Int(i) }
    }

    func call(_ callable: PickleValue, _ args: PickleValue) throws -> PickleValue {
        guard case .global(let name) = callable, case .tuple(let a) = args else { throw fail("a damaged pickle (REDUCE)") }
        switch name {
        case "collections.OrderedDict", "builtins.dict", "__builtin__.dict":
            return .dict(.init())
        case "torch._utils._rebuild_parameter":
            guard let first = a.first, case .tensor = first else { throw fail("a damaged parameter record") }
            return first
        case "torch._utils._rebuild_tensor_v2":
            guard a.count >= 4, case .storage(let data, let dtype) = a[0], case .int(let offset) = a[1] else {
                throw fail("a damaged tensor record")
            }
            return .tensor(try tensor(data: data, dtype: dtype, offset: Int(offset), size: try ints(a[2], "size"), stride: try ints(a[3], "stride")))
        default:
            throw fail("refused: the checkpoint calls '\(name)'")
        }
    }

    /// The elements of a strided view of a storage, as a new contiguous tensor.
    func tensor(data: Data, dtype: DType, offset: Int, size: [Int], stride strides: [Int]) throws -> Tensor {
        let stride = strides
        guard size.count == stride.count else { throw fail("a tensor record whose size and stride differ in length") }
        let width = dtype.byteSize, count = size.reduce(1, *)
        let storageCount = data.count / width
        if count == 0 { return Tensor.zeros(size, dtype: dtype) }
        let last = offset + zip(size, stride).map { ($0 - 1) * $1 }.reduce(0, +)
        guard offset >= 0, last < storageCount else {
            throw fail("a tensor of shape \(size) reaches element \(last) of a storage of \(storageCount); the file is damaged")
        }
        var contiguous = [Int](repeating: 1, count: size.count)
        for i in Swift.stride(from: size.count - 2, through: 0, by: -1) { contiguous[i] = contiguous[i + 1] * size[i + 1] }
        let isContiguous = zip(zip(size, stride), contiguous).allSatisfy { $0.0 == 1 || $0.1 == $1 }
        var out = Data(count: count * width)
        if isContiguous {
            out = data.subdata(in: (offset * width) ..< ((offset + count) * width))
        } else {
            data.withUnsafeBytes { src in
                out.withUnsafeMutableBytes { dst in
                    var index = [Int](repeating: 0, count: size.count)
                    for n in 0 ..< count {
                        let element = offset + zip(index, stride).map { $0 * $1 }.reduce(0, +)
                        dst.baseAddress!.advanced(by: n * width).copyMemory(from: src.baseAddress!.advanced(by: element * width), byteCount: width)
                        var d = size.count - 1
                        while d >= 0 { index[d] += 1; if index[d] < size[d] { break }; index[d] = 0; d -= 1 }
                    }
                }
            }
        }
        return out.withUnsafeBytes { Tensor(bytes: $0, shape: size, dtype: dtype) }
    }
}
