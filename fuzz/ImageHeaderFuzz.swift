// libFuzzer target: the PNG/JPEG header reader (the studio's size check before decoding) on
// any bytes never traps or loops, and any size it reports is not negative.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzImageHeader(_ bytes: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    let input = Array(UnsafeBufferPointer(start: bytes, count: count))
    for prefix in [[], [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A], [0xFF, 0xD8]] as [[UInt8]] {
        if let header = ImageHeader.read(prefix + input) {
            precondition(header.width >= 0 && header.height >= 0, "negative size")
        }
    }
    return 0
}
