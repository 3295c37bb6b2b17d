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

    /// Upper bound on the JSON header, as the reference implementation uses.
    static let maxHeaderBytes = 100_000_000

    // MARK: Reading

    public static func load(path: String) throws -> SafeTensors {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped)
        } catch {
            if !FileManager.default.fileExists(atPath: path) { throw TorchError("\(path): no such file") }
            throw TorchError("\(path): cannot read (\(FileErrorText.reason(error)))")
        }
        return try decode(data, source: path)
    }

    /// Parses a safetensors image; `source` names it in error messages.
    public static func decode(_ data: Data, source: String = "safetensors data") throws -> SafeTensors {
        guard data.count >= 8 else {
            throw TorchError("\(source): not a safetensors file (only \(data.count) bytes)")
        }
        let headerLength = data.withUnsafeBytes { raw -> UInt64 in
            UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 0, as: UInt64.self))
        }
        guard headerLength <= UInt64(maxHeaderBytes) else {
            throw TorchError("\(source): not a safetensors file (header length \(headerLength) is implausible)")
        }
        guard 8 + Int(headerLength) <= data.count else {
            throw TorchError("\(source): truncated or not a safetensors file (header needs \(headerLength) bytes, file has \(data.count - 8) after the length)")
        }
        let headerBytes = data.subdata(in: (data.startIndex + 8) ..< (data.startIndex + 8 + Int(headerLength)))
        guard let json = try? JSONSerialization.jsonObject(with: headerBytes), let header = json as? [String: Any] else {
            throw TorchError("\(source): not a safetensors file (header is not a JSON object)")
        }
        let dataStart = 8 + Int(headerLength)
        let dataCount = data.count - dataStart
        var metadata: [String: String] = [:]
        var entries: [(name: String, dtype: DType, shape: [Int], begin: Int, end: Int)] = []
        for (name, value) in header {
            if name == "__metadata__" {
                guard let m = value as? [String: Any] else {
                    throw TorchError("\(source): __metadata__ must map strings to strings")
                }
                for (k, v) in m {
                    guard let s = v as? String else { throw TorchError("\(source): metadata value for \(k) is not a string") }
                    metadata[k] = s
                }
                continue
            }
            guard let info = value as? [String: Any],
                  let dtypeName = info["dtype"] as? String,
                  let shapeValues = info["shape"] as? [Any],
                  let offsets = info["data_offsets"] as? [Any], offsets.count == 2
            else { throw TorchError("\(source): malformed header entry for tensor '\(name)'") }
            guard let dtype = dtypesByName[dtypeName] else {
                throw TorchError("\(source): tensor '\(name)' has unsupported dtype \(dtypeName)")
            }
            let shape = shapeValues.compactMap { ($0 as? NSNumber)?.intValue }
            let bounds = offsets.compactMap { ($0 as? NSNumber)?.intValue }
            guard shape.count == shapeValues.count, shape.allSatisfy({ $0 >= 0 }), bounds.count == 2 else {
                throw TorchError("\(source): malformed shape or offsets for tensor '\(name)'")
            }
            let (begin, end) = (bounds[0], bounds[1])
            guard begin >= 0, end >= begin else {
                throw TorchError("\(source): tensor '\(name)' has invalid data offsets [\(begin), \(end)] (they must satisfy 0 ≤ begin ≤ end)")
            }
            // A hostile header can name shapes whose element count overflows Int.
            var expected = dtype.byteSize, overflow = false
            for side in shape where !overflow { (expected, overflow) = expected.multipliedReportingOverflow(by: side) }
            guard !overflow else { throw TorchError("\(source): tensor '\(name)' has an impossibly large shape \(shape)") }
            guard end - begin == expected else {
                throw TorchError("\(source): tensor '\(name)' has \(end - begin) bytes but shape \(shape) of \(dtype) needs \(expected)")
            }
            guard end <= dataCount else {
                throw TorchError("\(source): truncated (tensor '\(name)' ends at byte \(end) of the data, which has \(dataCount))")
            }
            entries.append((name, dtype, shape, begin, end))
        }
        entries.sort { ($0.begin, $0.end, $0.name) < ($1.begin, $1.end, $1.name) }
        var cursor = 0
        for e in entries {
            guard e.begin == cursor || e.begin == e.end else {
                throw TorchError("\(source): tensor '\(e.name)' overlaps or leaves a gap in the data section")
            }
            cursor = Swift.max(cursor, e.end)
        }
        let tensors: [(name: String, tensor: Tensor)] = data.withUnsafeBytes { raw in
            entries.map { e in
                let slice = UnsafeRawBufferPointer(rebasing: raw[(dataStart + e.begin) ..< (dataStart + e.end)])
                return (e.name, Tensor(bytes: slice, shape: e.shape, dtype: e.dtype))
            }
        }
        return SafeTensors(tensors: tensors, metadata: metadata)
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
