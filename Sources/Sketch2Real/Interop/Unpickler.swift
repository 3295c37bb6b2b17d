import Foundation

/// A value on the pickle machine's stack. Containers carry their nesting depth, so that no
/// value deeper than `CheckpointReader.maximumDepth` is ever built (and none is torn down by a
/// recursion deeper than that).
enum PickleValue {
    case none, mark
    case bool(Bool), int(Int64), float(Double), string(String), bytes([UInt8])
    case tuple(TupleBox)
    case list(ListBox)
    case dict(DictBox)
    /// A global the machine knows: a callable or a storage type.
    case global(String)
    case storage(bytes: Data, type: CheckpointReader.ElementType)
    case tensor(TensorRecord)

    final class TupleBox {
        let items: [PickleValue]
        let depth: Int
        init(_ items: [PickleValue], depth: Int) { self.items = items; self.depth = depth }
    }
    final class ListBox { var items: [PickleValue] = []; var depth = 1 }
    final class DictBox { var items: [(PickleValue, PickleValue)] = []; var depth = 1 }

    var depth: Int {
        switch self {
        case .tuple(let t): t.depth
        case .list(let l): l.depth
        case .dict(let d): d.depth
        default: 0
        }
    }

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
    let storage: (String) throws -> Data
    var position = 0
    var stack: [PickleValue] = []
    var marks: [Int] = []
    var memo: [Int: PickleValue] = [:]
    var storages: [String: PickleValue] = [:]
    /// Every list and dict made, so that `releaseContainers` can break circles among them.
    var lists: [PickleValue.ListBox] = []
    var dicts: [PickleValue.DictBox] = []

    init(bytes: [UInt8], source: String, storage: @escaping (String) throws -> Data) {
        self.bytes = bytes
        self.source = source
        self.storage = storage
    }

    /// Empties every container made (tuples hold no circle without a list or dict in it).
    mutating func releaseContainers() {
        for l in lists { l.items.removeAll() }
        for d in dicts { d.items.removeAll() }
        lists.removeAll(); dicts.removeAll(); stack.removeAll(); memo.removeAll(); storages.removeAll()
    }

    mutating func newDict() -> PickleValue {
        let d = PickleValue.DictBox()
        dicts.append(d)
        return .dict(d)
    }

    mutating func newList() -> PickleValue {
        let l = PickleValue.ListBox()
        lists.append(l)
        return .list(l)
    }

    func fail(_ why: String) -> InteropError { InteropError("\(source): \(why)") }
    func damaged(_ what: String) -> InteropError { fail("a damaged pickle (\(what)) at byte \(position)") }

    mutating func take(_ n: Int) throws -> ArraySlice<UInt8> {
        guard n >= 0, n <= bytes.count - position else { throw fail("the pickle ends early (truncated or damaged)") }
        defer { position += n }
        return bytes[position ..< position + n]
    }

    /// A little-endian unsigned integer of `n` ≤ 4 bytes.
    mutating func uint(_ n: Int) throws -> Int {
        try take(n).reversed().reduce(0) { $0 << 8 | Int($1) }
    }

    mutating func line() throws -> String {
        guard let end = bytes[position...].firstIndex(of: 0x0A) else { throw fail("the pickle ends early (truncated or damaged)") }
        defer { position = end + 1 }
        return String(decoding: bytes[position ..< end], as: UTF8.self)
    }

    /// Values made so far: every value the machine holds, on its stack, in its memo or inside
    /// a container, was pushed once, so this bounds its memory whatever the pickle does.
    var pushed = 0

    mutating func push(_ value: PickleValue) throws {
        pushed += 1
        guard pushed <= CheckpointReader.maximumValues else {
            throw fail("the pickle builds more than \(CheckpointReader.maximumValues) values, far more than a state dict needs; the file is damaged or crafted")
        }
        stack.append(value)
    }

    mutating func pop() throws -> PickleValue {
        guard stack.count > (marks.last ?? 0), let v = stack.popLast() else { throw damaged("its stack ran empty") }
        return v
    }

    /// Everything above the topmost mark, which is removed.
    mutating func popToMark() throws -> [PickleValue] {
        guard let m = marks.popLast() else { throw damaged("no mark") }
        let items = Array(stack[m...])
        stack.removeSubrange(m...)
        return items
    }

    /// A container's depth: one more than its deepest element's, within the limit.
    func depth(of items: some Sequence<PickleValue>, atLeast current: Int = 1) throws -> Int {
        var d = current
        for item in items { d = Swift.max(d, item.depth + 1) }
        guard d <= CheckpointReader.maximumDepth else {
            throw fail("containers nest more than \(CheckpointReader.maximumDepth) deep; the file is damaged or crafted")
        }
        return d
    }

    func resolve(module: String, name: String) throws -> PickleValue {
        let full = module + "." + name
        switch full {
        case "collections.OrderedDict", "torch._utils._rebuild_tensor_v2", "torch._utils._rebuild_parameter",
             "builtins.dict", "__builtin__.dict":
            return .global(full)
        default:
            if module == "torch" || module == "torch.storage", CheckpointReader.ElementType.storageClasses[name] != nil { return .global(full) }
            throw fail("refused: the checkpoint asks for the Python object '\(full)'. Only state dicts (tensors, numbers, strings and containers) are imported, and no pickle code is run")
        }
    }

    mutating func run() throws -> PickleValue {
        while true {
            let op = try take(1).first!
            switch op {
            case 0x80: _ = try take(1) // PROTO
            case 0x95: _ = try take(8) // FRAME
            case 0x2E: // STOP
                return try pop()
            case 0x28: marks.append(stack.count) // MARK
            case 0x7D: try push(newDict()) // EMPTY_DICT
            case 0x5D: try push(newList()) // EMPTY_LIST
            case 0x29: try push(.tuple(.init([], depth: 1))) // EMPTY_TUPLE
            case 0x4E: try push(.none)
            case 0x88: try push(.bool(true))
            case 0x89: try push(.bool(false))
            case 0x4B: try push(.int(Int64(try uint(1)))) // BININT1
            case 0x4D: try push(.int(Int64(try uint(2)))) // BININT2
            case 0x4A: try push(.int(Int64(Int32(truncatingIfNeeded: try uint(4))))) // BININT
            case 0x8A: // LONG1
                let n = try uint(1)
                guard n <= 8 else { throw fail("an integer of \(n) bytes, beyond what a state dict holds") }
                let raw = try take(n)
                var v: UInt64 = 0
                for (k, b) in raw.enumerated() { v |= UInt64(b) << (8 * UInt64(k)) }
                // Two's complement in n bytes: extend the sign bit.
                if n > 0, n < 8, raw.last! & 0x80 != 0 { v |= ~UInt64(0) << (8 * UInt64(n)) }
                try push(.int(Int64(bitPattern: v)))
            case 0x47: // BINFLOAT (big-endian), any sign
                try push(.float(Double(bitPattern: try take(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) })))
            case 0x58: try push(.string(String(decoding: try take(try uint(4)), as: UTF8.self))) // BINUNICODE
            case 0x8C: try push(.string(String(decoding: try take(try uint(1)), as: UTF8.self))) // SHORT_BINUNICODE
            case 0x55: try push(.string(String(decoding: try take(try uint(1)), as: UTF8.self))) // SHORT_BINSTRING
            case 0x54: try push(.string(String(decoding: try take(try uint(4)), as: UTF8.self))) // BINSTRING
            case 0x43: try push(.bytes(Array(try take(try uint(1))))) // SHORT_BINBYTES
            case 0x42: try push(.bytes(Array(try take(try uint(4))))) // BINBYTES
            case 0x71, 0x72: // BINPUT, LONG_BINPUT
                let k = try uint(op == 0x71 ? 1 : 4)
                guard let top = stack.last else { throw damaged("PUT on an empty stack") }
                memo[k] = top
            case 0x94: // MEMOIZE
                guard let top = stack.last else { throw damaged("MEMOIZE on an empty stack") }
                memo[memo.count] = top
            case 0x68, 0x6A: // BINGET, LONG_BINGET
                let k = try uint(op == 0x68 ? 1 : 4)
                guard let v = memo[k] else { throw damaged("memo \(k) is empty") }
                try push(v)
            case 0x63: // GLOBAL
                let module = try line(), name = try line()
                try push(try resolve(module: module, name: name))
            case 0x93: // STACK_GLOBAL
                guard case .string(let name) = try pop(), case .string(let module) = try pop() else { throw damaged("STACK_GLOBAL") }
                try push(try resolve(module: module, name: name))
            case 0x74: // TUPLE
                let items = try popToMark()
                try push(.tuple(.init(items, depth: try depth(of: items))))
            case 0x85, 0x86, 0x87: // TUPLE1, TUPLE2, TUPLE3
                var items: [PickleValue] = []
                for _ in 0 ..< Int(op - 0x84) { items.insert(try pop(), at: 0) }
                try push(.tuple(.init(items, depth: try depth(of: items))))
            case 0x61: // APPEND
                let v = try pop()
                guard case .list(let l) = stack.last else { throw damaged("APPEND") }
                if case .list(let inner) = v, inner === l { throw fail("a list that contains itself; the file is damaged or crafted") }
                l.depth = try depth(of: [v], atLeast: l.depth)
                l.items.append(v)
            case 0x65: // APPENDS
                let items = try popToMark()
                guard case .list(let l) = stack.last else { throw damaged("APPENDS") }
                l.depth = try depth(of: items, atLeast: l.depth)
                l.items += items
            case 0x73: // SETITEM
                let v = try pop(), k = try pop()
                guard case .dict(let d) = stack.last else { throw damaged("SETITEM") }
                if case .dict(let inner) = v, inner === d { throw fail("a dict that contains itself; the file is damaged or crafted") }
                d.depth = try depth(of: [k, v], atLeast: d.depth)
                d.items.append((k, v))
            case 0x75: // SETITEMS
                let items = try popToMark()
                guard items.count % 2 == 0, case .dict(let d) = stack.last else { throw damaged("SETITEMS") }
                d.depth = try depth(of: items, atLeast: d.depth)
                for i in stride(from: 0, to: items.count, by: 2) { d.items.append((items[i], items[i + 1])) }
            case 0x62: _ = try pop() // BUILD: an OrderedDict's attributes (`_metadata`), not needed
            case 0x51: try push(try persistentLoad(try pop())) // BINPERSID
            case 0x52: // REDUCE
                let args = try pop(), callable = try pop()
                try push(try call(callable, args))
            default:
                throw fail(String(format: "unsupported pickle opcode 0x%02x at byte %d; only state dicts saved by torch.save are imported", op, position - 1))
            }
        }
    }

    /// ('storage', storage type, key, location, numel) → the storage's bytes.
    mutating func persistentLoad(_ id: PickleValue) throws -> PickleValue {
        guard case .tuple(let box) = id, box.items.count >= 5, case .string("storage") = box.items[0], case .global(let type) = box.items[1],
              case .string(let key) = box.items[2] else { throw damaged("an unknown persistent id") }
        if let cached = storages[key] { return cached }
        let element = CheckpointReader.ElementType.storageClasses[String(type.split(separator: ".").last ?? "")] ?? .uint8
        let value = PickleValue.storage(bytes: try storage(key), type: element)
        storages[key] = value
        return value
    }

    func ints(_ v: PickleValue, _ what: String) throws -> [Int] {
        guard case .tuple(let box) = v else { throw damaged("a tensor record's \(what)") }
        return try box.items.map {
            guard case .int(let i) = $0 else { throw damaged("a tensor record's \(what)") }
            return Int(i)
        }
    }

    mutating func call(_ callable: PickleValue, _ args: PickleValue) throws -> PickleValue {
        guard case .global(let name) = callable, case .tuple(let box) = args else { throw damaged("REDUCE") }
        let a = box.items
        switch name {
        case "collections.OrderedDict", "builtins.dict", "__builtin__.dict":
            return newDict()
        case "torch._utils._rebuild_parameter":
            guard let first = a.first, case .tensor = first else { throw damaged("a parameter record") }
            return first
        case "torch._utils._rebuild_tensor_v2":
            guard a.count >= 4, case .storage(let data, let type) = a[0], case .int(let offset) = a[1] else {
                throw damaged("a tensor record")
            }
            return .tensor(TensorRecord(storage: data, type: type, offset: Int(offset), size: try ints(a[2], "size"), stride: try ints(a[3], "stride")))
        default:
            throw fail("refused: the checkpoint calls '\(name)'")
        }
    }
}
