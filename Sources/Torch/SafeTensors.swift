import Foundation

/// Reader and writer of the safetensors format: an 8-byte little-endian header length,
/// a JSON header naming each tensor's dtype, shape and byte range, then the raw data.
/// Files move unchanged between this library and Python's `safetensors` / PyTorch.
public struct SafeTensors {
    /// Tensors in file order (by data offset).
    public var tensors: [(name: String, tensor: Tensor)]
    /// The free-form string map stored under `__metadata__`.
    public var metadata: [String: String]

    public init(tensors: [(name: String, tensor: Tensor)] = [], metadata: [String: String] = [:]) {
        self.tensors = tensors
        self.metadata = metadata
    }

    public var names: [String] { tensors.map(\.name) }

    public subscript(name: String) -> Tensor? { tensors.first { $0.name == name }?.tensor }

    /// A dictionary view of the tensors.
    public var dictionary: [String: Tensor] {
        Dictionary(tensors.map { ($0.name, $0.tensor) }, uniquingKeysWith: { a, _ in a })
    }

    static let dtypeNames: [DType: String] = [
        .float16: "F16", .bfloat16: "BF16", .float32: "F32", .float64: "F64", .int64: "I64",
        .int32: "I32", .int16: "I16", .int8: "I8", .uint8: "U8", .bool: "BOOL",
    ]
    static let dtypesByName: [String: DType] = Dictionary(uniqueKeysWithValues: dtypeNames.map { ($1, $0) })

    // MARK: Reading

    public static func load(path: String) throws -> SafeTensors {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped)
        } catch {
            if !FileManager.default.fileExists(atPath: path) { throw TorchError("\(path): \(FileErrorText.missing(path))") }
            throw TorchError("\(path): cannot read (\(FileErrorText.reason(error)))")
        }
        return try decode(data, source: path)
    }

    /// Parses a safetensors image; `source` names it in error messages.
    public static func decode(_ data: Data, source: String = "safetensors data") throws -> SafeTensors {
        let header: SafeTensorsHeader
        do {
            header = try SafeTensorsHeader.parse(data)
        } catch {
            throw TorchError("\(source): \(error.reason)")
        }
        let tensors: [(name: String, tensor: Tensor)] = data.withUnsafeBytes { raw in
            header.entries.map { e in
                let slice = UnsafeRawBufferPointer(rebasing: raw[(header.dataStart + e.begin) ..< (header.dataStart + e.end)])
                return (e.name, Tensor(bytes: slice, shape: e.shape, dtype: dtypesByName[e.dtype]!))
            }
        }
        return SafeTensors(tensors: tensors, metadata: header.metadata)
    }

    // MARK: Writing

    /// Serialises the tensors (moved to the CPU and made contiguous) with the metadata.
    public func encode() throws -> Data {
        var seen = Set<String>()
        var header: [String: Any] = [:]
        if !metadata.isEmpty { header["__metadata__"] = metadata }
        var blobs: [[UInt8]] = []
        var offset = 0
        for (name, tensor) in tensors {
            guard seen.insert(name).inserted else { throw TorchError("duplicate tensor name '\(name)'") }
            guard name != "__metadata__" else { throw TorchError("'__metadata__' cannot name a tensor") }
            guard tensor.isDefined else { throw TorchError("tensor '\(name)' is undefined") }
            guard let dtypeName = Self.dtypeNames[tensor.dtype] else {
                throw TorchError("tensor '\(name)' has dtype \(tensor.dtype), which safetensors cannot store")
            }
            let bytes = tensor.device == .cpu ? tensor.bytes() : tensor.to(.cpu).bytes()
            header[name] = ["dtype": dtypeName, "shape": tensor.shape, "data_offsets": [offset, offset + bytes.count]] as [String: Any]
            offset += bytes.count
            blobs.append(bytes)
        }
        var json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        while json.count % 8 != 0 { json.append(0x20) }
        var out = Data(capacity: 8 + json.count + offset)
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { out.append(contentsOf: $0) }
        out.append(json)
        for b in blobs { out.append(contentsOf: b) }
        return out
    }

    /// Writes the file atomically.
    public func save(path: String) throws {
        try AtomicFile.write(try encode(), to: path)
    }
}
