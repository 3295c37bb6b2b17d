import Foundation
import NN

/// TFRecord framing, the container of TensorBoard event files: each record is its length
/// (uint64, little-endian), the masked CRC-32C of those 8 bytes, the data, and the masked
/// CRC-32C of the data.
public enum TFRecord {
    /// TensorFlow's CRC mask: rotate right by 15 bits and add a constant, so that a CRC of data
    /// that itself holds CRCs does not degenerate.
    public static func maskedCRC(_ bytes: some Sequence<UInt8>) -> UInt32 {
        var crc = CRC32(.castagnoli)
        crc.update(bytes)
        let c = crc.value
        return ((c >> 15) | (c << 17)) &+ 0xA282_EAD8
    }

    /// One framed record.
    public static func frame(_ data: [UInt8]) -> [UInt8] {
        let length = withUnsafeBytes(of: UInt64(data.count).littleEndian) { Array($0) }
        func le32(_ v: UInt32) -> [UInt8] { withUnsafeBytes(of: v.littleEndian) { Array($0) } }
        return length + le32(maskedCRC(length)) + data + le32(maskedCRC(data))
    }

    /// The records of a TFRecord file, each checked against its CRCs.
    public static func records(_ bytes: [UInt8], source: String) throws -> [[UInt8]] {
        var out: [[UInt8]] = []
        var p = 0
        func le(_ at: Int, _ n: Int) -> UInt64 { (0 ..< n).reduce(UInt64(0)) { $0 | UInt64(bytes[at + $1]) << (8 * UInt64($1)) } }
        while p < bytes.count {
            guard p + 12 <= bytes.count else { throw InteropError("\(source): a record header is cut short at byte \(p)") }
            let length = Int(le(p, 8))
            guard UInt32(le(p + 8, 4)) == maskedCRC(bytes[p ..< p + 8]) else { throw InteropError("\(source): a damaged record length at byte \(p)") }
            guard length >= 0, p + 12 + length + 4 <= bytes.count else { throw InteropError("\(source): a record is cut short at byte \(p)") }
            let data = Array(bytes[(p + 12) ..< (p + 12 + length)])
            guard UInt32(le(p + 12 + length, 4)) == maskedCRC(data) else { throw InteropError("\(source): a damaged record at byte \(p)") }
            out.append(data)
            p += 16 + length
        }
        return out
    }
}
