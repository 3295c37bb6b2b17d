import Foundation

/// A problem with a file read from or written for another tool (PyTorch, ONNX, TensorBoard).
public struct InteropError: Error, CustomStringConvertible, Equatable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// The entries of a zip archive whose entries are stored uncompressed, as `torch.save` writes
/// them (zip64 records included). Reads the central directory; nothing is extracted to disk.
struct ZipArchive {
    struct Entry {
        let name: String
        let dataOffset: Int
        let size: Int
    }

    let data: Data
    let entries: [String: Entry]
    let source: String

    init(data: Data, source: String) throws {
        self.data = data
        self.source = source
        func fail(_ why: String) -> InteropError { InteropError("\(source): not a readable zip archive (\(why))") }
        let bytes = [UInt8](data)
        func u16(_ at: Int) throws -> Int {
            guard at >= 0, at + 2 <= bytes.count else { throw fail("a record runs past the end of the file") }
            return Int(bytes[at]) | Int(bytes[at + 1]) << 8
        }
        func u32(_ at: Int) throws -> Int {
            let low = try u16(at), high = try u16(at + 2)
            return low | high << 16
        }
        func u64(_ at: Int) throws -> Int {
            let low = try u32(at), high = try u32(at + 4)
            guard high < 1 << 30 else { throw fail("a size is implausibly large") }
            return low | high << 32
        }
        // The end-of-central-directory record: within the last 64 KiB + 22 bytes.
        guard bytes.count >= 22 else { throw fail("\(bytes.count) bytes is too short") }
        var eocd = -1
        var i = bytes.count - 22
        while i >= Swift.max(0, bytes.count - 22 - 65_535) {
            if bytes[i] == 0x50, bytes[i + 1] == 0x4B, bytes[i + 2] == 0x05, bytes[i + 3] == 0x06 { eocd = i; break }
            i -= 1
        }
        guard eocd >= 0 else { throw fail("no end-of-central-directory record; the file may be truncated") }
        var count = try u16(eocd + 10), directorySize = try u32(eocd + 12), directoryOffset = try u32(eocd + 16)
        if count == 0xFFFF || directorySize == 0xFFFF_FFFF || directoryOffset == 0xFFFF_FFFF {
            let locator = eocd - 20
            guard locator >= 0, try u32(locator) == 0x0706_4B50 else { throw fail("zip64 sizes without a zip64 locator") }
            let record = try u64(locator + 8)
            guard try u32(record) == 0x0606_4B50 else { throw fail("no zip64 end-of-central-directory record") }
            count = try u64(record + 32)
            directorySize = try u64(record + 40)
            directoryOffset = try u64(record + 48)
        }
        guard directoryOffset + directorySize <= bytes.count else { throw fail("the central directory lies past the end of the file") }
        var found: [String: Entry] = [:]
        var p = directoryOffset
        for _ in 0 ..< count {
            guard try u32(p) == 0x0201_4B50 else { throw fail("a damaged central directory") }
            let method = try u16(p + 10)
            var compressed = try u32(p + 20)
            let nameLength = try u16(p + 28), extraLength = try u16(p + 30), commentLength = try u16(p + 32)
            var local = try u32(p + 42)
            guard p + 46 + nameLength <= bytes.count else { throw fail("a damaged central directory") }
            let name = String(decoding: bytes[(p + 46) ..< (p + 46 + nameLength)], as: UTF8.self)
            // Zip64 extra field: 64-bit sizes and offset where the 32-bit ones are saturated.
            var e = p + 46 + nameLength
            let extraEnd = e + extraLength
            while e + 4 <= extraEnd {
                let id = try u16(e), length = try u16(e + 2)
                if id == 0x0001 {
                    var q = e + 4
                    if try u32(p + 24) == 0xFFFF_FFFF { q += 8 }
                    if compressed == 0xFFFF_FFFF { compressed = try u64(q); q += 8 }
                    if local == 0xFFFF_FFFF { local = try u64(q) }
                }
                e += 4 + length
            }
            guard method == 0 else { throw InteropError("\(source): entry \(name) is compressed (method \(method)); torch.save stores entries uncompressed, so this is not a PyTorch checkpoint") }
            guard try u32(local) == 0x0403_4B50 else { throw fail("entry \(name) has no local header") }
            let localName = try u16(local + 26), localExtra = try u16(local + 28)
            let start = local + 30 + localName + localExtra
            guard start + compressed <= bytes.count else { throw fail("entry \(name) runs past the end of the file; it may be truncated") }
            found[name] = Entry(name: name, dataOffset: start, size: compressed)
            p += 46 + nameLength + extraLength + commentLength
        }
        entries = found
    }

    func contents(_ name: String) throws -> Data {
        guard let e = entries[name] else { throw InteropError("\(source): the archive has no entry \(name)") }
        return data.subdata(in: e.dataOffset ..< (e.dataOffset + e.size))
    }
}
