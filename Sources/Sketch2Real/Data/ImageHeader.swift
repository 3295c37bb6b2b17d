/// The format and size of a PNG or JPEG read from its first bytes, before anything is decoded,
/// so that an oversized picture is refused without allocating its pixels.
public struct ImageHeader: Equatable, Sendable {
    public enum Format: String, Sendable { case png, jpeg }
    public let format: Format
    public let width: Int
    public let height: Int

    public init(format: Format, width: Int, height: Int) {
        self.format = format
        self.width = width
        self.height = height
    }

    /// nil when the bytes are neither a PNG nor a JPEG whose size can be found.
    public static func read(_ bytes: [UInt8]) -> ImageHeader? {
        if bytes.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) { return png(bytes) }
        if bytes.starts(with: [0xFF, 0xD8]) { return jpeg(bytes) }
        return nil
    }

    static func bigEndian(_ b: [UInt8], _ at: Int, _ count: Int) -> Int {
        (at ..< at + count).reduce(0) { $0 << 8 | Int(b[$1]) }
    }

    /// The IHDR chunk comes first: length, "IHDR", width, height (big-endian).
    static func png(_ b: [UInt8]) -> ImageHeader? {
        guard b.count >= 24, b[12 ..< 16].elementsEqual("IHDR".utf8) else { return nil }
        return ImageHeader(format: .png, width: bigEndian(b, 16, 4), height: bigEndian(b, 20, 4))
    }

    /// Walks the marker segments up to the first start-of-frame (SOF0–SOF15 except DHT, JPG
    /// and DAC), which holds precision, height and width.
    static func jpeg(_ b: [UInt8]) -> ImageHeader? {
        var i = 2
        while i + 3 < b.count {
            guard b[i] == 0xFF else { return nil }
            let marker = b[i + 1]
            if marker == 0xFF { i += 1; continue }  // fill byte
            if marker == 0x01 || (0xD0 ... 0xD7).contains(marker) { i += 2; continue }  // no length
            if marker == 0xD9 || marker == 0xDA { return nil }  // end of image or scan before any frame
            let length = bigEndian(b, i + 2, 2)
            guard length >= 2 else { return nil }
            if (0xC0 ... 0xCF).contains(marker) && ![0xC4, 0xC8, 0xCC].contains(marker) {
                guard i + 9 <= b.count else { return nil }
                return ImageHeader(format: .jpeg, width: bigEndian(b, i + 7, 2), height: bigEndian(b, i + 5, 2))
            }
            i += 2 + length
        }
        return nil
    }
}
