import Foundation

/// Reads the tensors of a `torch.save` file (PyTorch's zip format: `archive/data.pkl` and
/// `archive/data/<key>` storages) from bytes that may come from anyone. Pure Swift over
/// Foundation, so that the fuzzer builds it with Unpickler.swift and ZipArchive.swift alone
/// (fuzz/CheckpointReaderFuzz.swift).
///
/// Built for hostile bytes: the pickle is interpreted by a loop, not by recursion, over a
/// whitelist of globals, and runs none of the file's code; containers nest at most
/// `maximumDepth` deep; every size, offset and stride is checked with overflow-reporting
/// arithmetic; a tensor must address only elements inside its storage, may not hold more
/// elements than its storage does, and all tensors together may not materialise more than
/// `maximumBytes(fileSize:)`. Every error names the file, and the tensor where there is one.
public struct CheckpointReader {
    /// How deep containers may nest. State dicts nest two or three levels; a checkpoint that
    /// wraps one in a training dict, five or six.
    public static let maximumDepth = 64

    /// How many values a pickle may build, and how long it may be. A state dict's pickle makes
    /// about 20 values and 150 bytes a tensor, so these admit 200,000 tensors.
    public static let maximumValues = 4_000_000
    public static let maximumPickleBytes = 32 << 20

    /// The most bytes the tensors of a file of `fileSize` bytes may materialise: their storages
    /// are in the file, so a state dict never needs more than the file's size, and tied or
    /// shared weights at most a few times that.
    public static func maximumBytes(fileSize: Int) -> Int { 4 * fileSize + (1 << 20) }

    /// Element types of the storages `torch.save` writes, by storage class name.
    public enum ElementType: String, Sendable, CaseIterable {
        case float32, float64, float16, bfloat16, int64, int32, int16, int8, uint8, bool

        public var byteSize: Int {
            switch self {
            case .float64, .int64: 8
            case .float32, .int32: 4
            case .float16, .bfloat16, .int16: 2
            case .int8, .uint8, .bool: 1
            }
        }

        static let storageClasses: [String: ElementType] = [
            "FloatStorage": .float32, "DoubleStorage": .float64, "HalfStorage": .float16, "BFloat16Storage": .bfloat16,
            "LongStorage": .int64, "IntStorage": .int32, "ShortStorage": .int16, "CharStorage": .int8, "ByteStorage": .uint8,
            "BoolStorage": .bool, "UntypedStorage": .uint8,
        ]
    }

    /// One tensor: contiguous bytes in row-major order.
    public struct TensorData: Sendable {
        public let type: ElementType
        public let shape: [Int]
        public let bytes: Data
    }

    /// The tensors of the state dict in `data` (the bytes of the file `source`), by name;
    /// entries that are not tensors are skipped. A checkpoint that wraps the state dict
    /// (`{"state_dict": …}`, `{"model": …}` or `{"net": …}`) is unwrapped.
    public static func stateDict(_ data: Data, source: String) throws -> [String: TensorData] {
        if data.prefix(2) != Data([0x50, 0x4B]) {
            if data.first == 0x80 {
                throw InteropError("\(source): a PyTorch checkpoint in the legacy format (saved with _use_new_zipfile_serialization=False or PyTorch < 1.6); load it in PyTorch and save it again with torch.save, which writes the zip format")
            }
            throw InteropError("\(source): not a PyTorch checkpoint (torch.save writes a zip archive)")
        }
        let zip = try ZipArchive(data: data, source: source)
        guard let pickle = zip.entries.keys.sorted().first(where: { $0.hasSuffix("/data.pkl") || $0 == "data.pkl" }) else {
            throw InteropError("\(source): a zip archive without data.pkl, so not a PyTorch checkpoint")
        }
        let prefix = String(pickle.dropLast("data.pkl".count))
        if let order = try? zip.contents(prefix + "byteorder"), String(decoding: order, as: UTF8.self) != "little" {
            throw InteropError("\(source): saved on a big-endian machine; load and save it again on a little-endian one")
        }
        guard let entry = zip.entries[pickle], entry.size <= maximumPickleBytes else {
            throw InteropError("\(source): its data.pkl is larger than \(maximumPickleBytes) bytes, far more than a state dict needs; the file is damaged or crafted")
        }
        var machine = Unpickler(bytes: [UInt8](try zip.contents(pickle)), source: source) { key in
            try zip.contents(prefix + "data/" + key)
        }
        // A crafted pickle can make containers refer to each other in a circle, which reference
        // counting never frees: every container is emptied once the tensors are out.
        defer { machine.releaseContainers() }
        let root = try machine.run()
        let records = try tensorRecords(root, source: source)
        var budget = maximumBytes(fileSize: data.count)
        var tensors: [String: TensorData] = [:]
        for (name, record) in records.sorted(by: { $0.0 < $1.0 }) {
            let tensor = try record.materialise(source: source, name: name)
            budget -= tensor.bytes.count
            guard budget >= 0 else {
                throw InteropError("\(source): tensor '\(name)' and those before it would need more than \(maximumBytes(fileSize: data.count)) bytes, more than a file of \(data.count) bytes can hold; the file is damaged or crafted")
            }
            tensors[name] = tensor
        }
        return tensors
    }

    /// The tensor entries of the state dict inside `root`, found without recursion.
    static func tensorRecords(_ root: PickleValue, source: String) throws -> [String: TensorRecord] {
        var current = root
        var seen: Set<ObjectIdentifier> = []
        for _ in 0 ..< maximumDepth {
            guard case .dict(let box) = current else { throw InteropError("\(source): the checkpoint holds \(current.kind), not a state dict") }
            guard seen.insert(ObjectIdentifier(box)).inserted else { throw InteropError("\(source): the checkpoint's dict contains itself; the file is damaged or crafted") }
            var tensors: [String: TensorRecord] = [:]
            var nested: [String: PickleValue] = [:]
            for (key, value) in box.items {
                guard case .string(let name) = key else { continue }
                switch value {
                case .tensor(let t): tensors[name] = t
                case .dict: nested[name] = value
                default: continue
                }
            }
            if !tensors.isEmpty { return tensors }
            guard let inner = nested["state_dict"] ?? nested["model"] ?? nested["net"] else {
                throw InteropError("\(source): the checkpoint holds no tensors")
            }
            current = inner
        }
        throw InteropError("\(source): state dicts nested more than \(maximumDepth) deep")
    }
}

/// A tensor as the pickle describes it: a strided view of a storage, checked and copied out
/// only once its name is known.
struct TensorRecord {
    let storage: Data
    let type: CheckpointReader.ElementType
    let offset: Int
    let size: [Int]
    let stride: [Int]

    /// a·b and a+b, or nil on overflow.
    static func product(_ values: [Int]) -> Int? {
        var result = 1
        for v in values {
            let (p, overflow) = result.multipliedReportingOverflow(by: v)
            if overflow { return nil }
            result = p
        }
        return result
    }

    func materialise(source: String, name: String) throws -> CheckpointReader.TensorData {
        func fail(_ why: String) -> InteropError { InteropError("\(source): tensor '\(name)' \(why); the file is damaged or crafted") }
        guard size.count == stride.count else { throw fail("has \(size.count) sizes but \(stride.count) strides") }
        guard size.count <= 16 else { throw fail("has \(size.count) dimensions") }
        guard offset >= 0, size.allSatisfy({ $0 >= 0 }), stride.allSatisfy({ $0 >= 0 }) else {
            throw fail("has a negative size, stride or offset (size \(size), stride \(stride), offset \(offset))")
        }
        let width = type.byteSize, storageCount = storage.count / width
        guard let count = Self.product(size) else { throw fail("declares more elements than can be counted (size \(size))") }
        if count == 0 { return .init(type: type, shape: size, bytes: Data()) }
        guard count <= storageCount else {
            throw fail("declares \(count) elements (size \(size), stride \(stride)) over a storage of \(storageCount); state dicts hold no expanded tensors")
        }
        // The last element the view reaches: offset + Σ (size − 1)·stride, each step checked.
        var last = offset
        for (s, t) in zip(size, stride) {
            guard let step = Self.product([s - 1, t]) else { throw fail("reaches past any storage (size \(size), stride \(stride))") }
            let (sum, overflow) = last.addingReportingOverflow(step)
            guard !overflow else { throw fail("reaches past any storage (size \(size), stride \(stride))") }
            last = sum
        }
        guard last < storageCount else {
            throw fail("of shape \(size) reaches element \(last) of a storage of \(storageCount)")
        }
        // All products below are now bounded by the storage's size.
        var contiguous = [Int](repeating: 1, count: size.count)
        for i in Swift.stride(from: size.count - 2, through: 0, by: -1) { contiguous[i] = contiguous[i + 1] * size[i + 1] }
        let isContiguous = zip(zip(size, stride), contiguous).allSatisfy { $0.0 == 1 || $0.1 == $1 }
        if isContiguous {
            return .init(type: type, shape: size, bytes: storage.subdata(in: (storage.startIndex + offset * width) ..< (storage.startIndex + (offset + count) * width)))
        }
        var out = Data(count: count * width)
        storage.withUnsafeBytes { src in
            out.withUnsafeMutableBytes { dst in
                var index = [Int](repeating: 0, count: size.count)
                var element = offset
                for n in 0 ..< count {
                    dst.baseAddress!.advanced(by: n * width).copyMemory(from: src.baseAddress!.advanced(by: element * width), byteCount: width)
                    var d = size.count - 1
                    while d >= 0 {
                        index[d] += 1
                        element += stride[d]
                        if index[d] < size[d] { break }
                        element -= stride[d] * size[d]
                        index[d] = 0
                        d -= 1
                    }
                }
            }
        }
        return .init(type: type, shape: size, bytes: out)
    }
}
