/// CRC-32 in its two common polynomials: IEEE 802.3 (zlib, zip; for detecting damaged
/// checkpoint files) and Castagnoli (CRC-32C: TFRecord framing of TensorBoard event files).
public struct CRC32 {
    public enum Polynomial: Sendable {
        case ieee, castagnoli
        var reflected: UInt32 { self == .ieee ? 0xEDB8_8320 : 0x82F6_3B78 }
    }

    private static func table(_ polynomial: UInt32) -> [UInt32] {
        (0 ..< 256).map { n -> UInt32 in
            var c = UInt32(n)
            for _ in 0 ..< 8 { c = c & 1 != 0 ? polynomial ^ (c >> 1) : c >> 1 }
            return c
        }
    }
    private static let ieeeTable = table(Polynomial.ieee.reflected)
    private static let castagnoliTable = table(Polynomial.castagnoli.reflected)

    public private(set) var value: UInt32 = 0
    private let polynomial: Polynomial

    public init(_ polynomial: Polynomial = .ieee) { self.polynomial = polynomial }

    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        var c = ~value
        (polynomial == .ieee ? Self.ieeeTable : Self.castagnoliTable).withUnsafeBufferPointer { table in
            for b in bytes { c = table[Int((c ^ UInt32(b)) & 0xFF)] ^ (c >> 8) }
        }
        value = ~c
    }

    public mutating func update<S: Sequence>(_ bytes: S) where S.Element == UInt8 {
        let array = Array(bytes)
        array.withUnsafeBytes { update($0) }
    }

    public var hex: String {
        let s = String(value, radix: 16)
        return String(repeating: "0", count: 8 - s.count) + s
    }
}
