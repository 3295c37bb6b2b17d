import Foundation

// libFuzzer target: any bytes given to the safetensors header parser either fail with a
// FormatError or give entries that lie inside the data section, in order, without overlap.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSafeTensorsHeader(_ bytes: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    let data = Data(bytes: bytes, count: count)
    guard let header = try? SafeTensorsHeader.parse(data) else { return 0 }
    var cursor = 0
    for e in header.entries {
        precondition(e.begin >= 0 && e.end >= e.begin && header.dataStart + e.end <= data.count, "entry outside the data")
        precondition(e.begin == cursor || e.begin == e.end, "entries overlap or leave a gap")
        cursor = max(cursor, e.end)
        precondition(SafeTensorsHeader.elementSizes[e.dtype] != nil, "unknown dtype accepted")
    }
    return 0
}
