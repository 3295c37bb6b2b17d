import Foundation

/// The header of a safetensors file, parsed and checked without touching libtorch: an 8-byte
/// little-endian length, a JSON object naming each tensor's dtype, shape and byte range, then
/// the data section. Every check that protects the reader from a hostile file lives here, so the
/// fuzz target (`make fuzz`) exercises exactly the code `SafeTensors.decode` runs.
public struct SafeTensorsHeader: Equatable, Sendable {
    public struct Entry: Equatable, Sendable {
        public let name: String
        /// The format's dtype name (F32, BF16, I64, …).
        public let dtype: String
        public let shape: [Int]
        /// Byte range within the data section.
        public let begin: Int
        public let end: Int
    }

    /// Entries in data order.
    public let entries: [Entry]
    public let metadata: [String: String]
    /// Offset of the data section within the file.
    public let dataStart: Int

    /// Bytes per element of each dtype name the format defines and this reader accepts.
    public static let elementSizes: [String: Int] = [
        "F16": 2, "BF16": 2, "F32": 4, "F64": 8, "I64": 8, "I32": 4, "I16": 2, "I8": 1, "U8": 1, "BOOL": 1,
    ]

    /// The element type each dtype name stands for, as messages say it.
    static let elementNames: [String: String] = [
        "F16": "float16", "BF16": "bfloat16", "F32": "float32", "F64": "float64", "I64": "int64",
        "I32": "int32", "I16": "int16", "I8": "int8", "U8": "uint8", "BOOL": "bool",
    ]

    /// Upper bound on the JSON header, as the reference implementation uses.
    public static let maxHeaderBytes = 100_000_000

    /// A problem with the file, in words that follow its name.
    public struct FormatError: Error, CustomStringConvertible, Equatable {
        public let reason: String
        public var description: String { reason }
    }

    /// Parses and checks the header of `data`: every entry's dtype, shape and byte range, that the
    /// ranges lie inside the data section, and that they neither overlap nor leave gaps.
    public static func parse(_ data: Data) throws(FormatError) -> SafeTensorsHeader {
        func fail(_ reason: String) -> FormatError { FormatError(reason: reason) }
        guard data.count >= 8 else { throw fail("not a safetensors file (only \(data.count) bytes)") }
        let headerLength = data.withUnsafeBytes { raw -> UInt64 in
            UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 0, as: UInt64.self))
        }
        guard headerLength <= UInt64(maxHeaderBytes) else {
            throw fail("not a safetensors file (header length \(headerLength) is implausible)")
        }
        guard 8 + Int(headerLength) <= data.count else {
            throw fail("truncated or not a safetensors file (header needs \(headerLength) bytes, file has \(data.count - 8) after the length)")
        }
        let headerBytes = data.subdata(in: (data.startIndex + 8) ..< (data.startIndex + 8 + Int(headerLength)))
        guard let json = try? JSONSerialization.jsonObject(with: headerBytes), let header = json as? [String: Any] else {
            throw fail("not a safetensors file (header is not a JSON object)")
        }
        let dataStart = 8 + Int(headerLength)
        let dataCount = data.count - dataStart
        var metadata: [String: String] = [:]
        var entries: [Entry] = []
        for (name, value) in header {
            if name == "__metadata__" {
                guard let m = value as? [String: Any] else { throw fail("__metadata__ must map strings to strings") }
                for (k, v) in m {
                    guard let s = v as? String else { throw fail("metadata value for \(k) is not a string") }
                    metadata[k] = s
                }
                continue
            }
            guard let info = value as? [String: Any],
                  let dtype = info["dtype"] as? String,
                  let shapeValues = info["shape"] as? [Any],
                  let offsets = info["data_offsets"] as? [Any], offsets.count == 2
            else { throw fail("malformed header entry for tensor '\(name)'") }
            guard let elementSize = elementSizes[dtype] else { throw fail("tensor '\(name)' has unsupported dtype \(dtype)") }
            let shape = shapeValues.compactMap(integer)
            let bounds = offsets.compactMap(integer)
            guard shape.count == shapeValues.count, shape.allSatisfy({ $0 >= 0 }), bounds.count == 2 else {
                throw fail("malformed shape or offsets for tensor '\(name)'")
            }
            let (begin, end) = (bounds[0], bounds[1])
            guard begin >= 0, end >= begin else {
                throw fail("tensor '\(name)' has invalid data offsets [\(begin), \(end)] (they must satisfy 0 ≤ begin ≤ end)")
            }
            // A hostile header can name shapes whose element count overflows Int.
            var expected = elementSize, overflow = false
            for side in shape where !overflow { (expected, overflow) = expected.multipliedReportingOverflow(by: side) }
            guard !overflow else { throw fail("tensor '\(name)' has an impossibly large shape \(shape)") }
            guard end - begin == expected else {
                throw fail("tensor '\(name)' has \(end - begin) bytes but shape \(shape) of \(elementNames[dtype] ?? dtype) needs \(expected)")
            }
            guard end <= dataCount else {
                throw fail("truncated (tensor '\(name)' ends at byte \(end) of the data, which has \(dataCount))")
            }
            entries.append(Entry(name: name, dtype: dtype, shape: shape, begin: begin, end: end))
        }
        entries.sort { ($0.begin, $0.end, $0.name) < ($1.begin, $1.end, $1.name) }
        var cursor = 0
        for e in entries {
            guard e.begin == cursor || e.begin == e.end else {
                throw fail("tensor '\(e.name)' overlaps or leaves a gap in the data section")
            }
            cursor = Swift.max(cursor, e.end)
        }
        return SafeTensorsHeader(entries: entries, metadata: metadata, dataStart: dataStart)
    }

    /// A JSON number that is a whole number representable as Int; nil otherwise (fractions,
    /// strings, values beyond Int's range).
    static func integer(_ value: Any) -> Int? {
        guard let number = value as? NSNumber else { return nil }
        let double = number.doubleValue
        guard double.isFinite, double == double.rounded(), abs(double) < 9.2e18 else { return nil }
        return number.intValue
    }
}
