import Foundation
import NN
import Torch

/// Writes a state dict the way `torch.save(module.state_dict(), path)` does: PyTorch's zip format
/// (`archive/data.pkl`, a protocol-2 pickle of an OrderedDict of tensors rebuilt by
/// `torch._utils._rebuild_tensor_v2` from persistent storages; `archive/data/<key>`, each
/// tensor's little-endian bytes; `archive/version`, `archive/byteorder`), entries stored and
/// 64-byte aligned as PyTorch aligns them. `torch.load` reads it, and so does `TorchCheckpoint`.
public enum TorchCheckpointWriter {
    public static func data(_ tensors: [(name: String, tensor: Tensor)]) throws -> Data {
        var pickle = Pickler()
        pickle.op(0x80); pickle.bytes([2]) // PROTO 2
        pickle.global("collections", "OrderedDict")
        pickle.op(0x29) // EMPTY_TUPLE
        pickle.op(0x52) // REDUCE
        pickle.op(0x28) // MARK
        var storages: [(key: String, bytes: [UInt8])] = []
        for (i, (name, tensor)) in tensors.enumerated() {
            let t = tensor.contiguous()
            guard let storageType = Self.storageName[t.dtype] else {
                throw InteropError("\(name): a \(t.dtype) tensor has no PyTorch storage type here")
            }
            let key = String(i)
            storages.append((key, t.bytes()))
            pickle.unicode(name)
            pickle.global("torch._utils", "_rebuild_tensor_v2")
            pickle.op(0x28) // MARK: the arguments
            pickle.op(0x28) // MARK: the persistent id
            pickle.unicode("storage")
            pickle.global("torch", storageType)
            pickle.unicode(key)
            pickle.unicode("cpu")
            pickle.int(t.count)
            pickle.op(0x74) // TUPLE
            pickle.op(0x51) // BINPERSID
            pickle.int(0) // storage offset
            pickle.tuple(t.shape)
            var strides = [Int](repeating: 1, count: t.shape.count)
            for d in stride(from: t.shape.count - 2, through: 0, by: -1) { strides[d] = strides[d + 1] * t.shape[d + 1] }
            pickle.tuple(strides)
            pickle.op(0x89) // NEWFALSE: requires_grad
            pickle.global("collections", "OrderedDict")
            pickle.op(0x29)
            pickle.op(0x52) // backward hooks: OrderedDict()
            pickle.op(0x74) // TUPLE
            pickle.op(0x52) // REDUCE
        }
        pickle.op(0x75) // SETITEMS
        pickle.op(0x2E) // STOP
        var zip = ZipWriter()
        zip.add("archive/data.pkl", pickle.out)
        for s in storages { zip.add("archive/data/\(s.key)", s.bytes) }
        zip.add("archive/version", Array("3\n".utf8))
        zip.add("archive/byteorder", Array("little".utf8))
        return Data(zip.finish())
    }

    static let storageName: [DType: String] = [
        .float32: "FloatStorage", .float64: "DoubleStorage", .float16: "HalfStorage", .bfloat16: "BFloat16Storage",
        .int64: "LongStorage", .int32: "IntStorage", .int16: "ShortStorage", .int8: "CharStorage", .uint8: "ByteStorage", .bool: "BoolStorage",
    ]

    struct Pickler {
        var out: [UInt8] = []
        mutating func op(_ code: UInt8) { out.append(code) }
        mutating func bytes(_ b: [UInt8]) { out += b }
        mutating func le32(_ v: Int) { out += withUnsafeBytes(of: UInt32(truncatingIfNeeded: v).littleEndian) { Array($0) } }
        mutating func unicode(_ s: String) {
            let u = Array(s.utf8)
            op(0x58) // BINUNICODE
            le32(u.count)
            out += u
        }
        mutating func global(_ module: String, _ name: String) {
            op(0x63) // GLOBAL
            out += Array("\(module)\n\(name)\n".utf8)
        }
        mutating func int(_ v: Int) {
            if v >= 0, v < 1 << 31 {
                op(0x4A) // BININT
                le32(v)
            } else {
                op(0x8A) // LONG1, 8 bytes two's complement
                out.append(8)
                out += withUnsafeBytes(of: Int64(v).littleEndian) { Array($0) }
            }
        }
        mutating func tuple(_ values: [Int]) {
            op(0x28)
            for v in values { int(v) }
            op(0x74)
        }
    }

    /// A zip archive of stored entries, each entry's data aligned to 64 bytes.
    struct ZipWriter {
        var out: [UInt8] = []
        var directory: [UInt8] = []
        var count = 0

        mutating func le16(_ v: Int, _ into: inout [UInt8]) { into += [UInt8(v & 0xFF), UInt8(v >> 8 & 0xFF)] }
        mutating func le32(_ v: UInt32, _ into: inout [UInt8]) { into += withUnsafeBytes(of: v.littleEndian) { Array($0) } }

        mutating func add(_ name: String, _ data: [UInt8]) {
            var crc = CRC32()
            crc.update(data)
            let nameBytes = Array(name.utf8)
            let offset = out.count
            // Padding in an extra field (id 0xFFFF) so that the data starts at a multiple of 64.
            let unpadded = offset + 30 + nameBytes.count + 4
            let padding = (64 - unpadded % 64) % 64
            var extra: [UInt8] = []
            le16(0xFFFF, &extra)
            le16(padding, &extra)
            extra += [UInt8](repeating: 0x5A, count: padding)
            var local: [UInt8] = []
            le32(0x0403_4B50, &local); le16(20, &local); le16(0, &local); le16(0, &local); le16(0, &local); le16(0, &local)
            le32(crc.value, &local); le32(UInt32(data.count), &local); le32(UInt32(data.count), &local)
            le16(nameBytes.count, &local); le16(extra.count, &local)
            out += local + nameBytes + extra + data
            var central: [UInt8] = []
            le32(0x0201_4B50, &central); le16(20, &central); le16(20, &central); le16(0, &central); le16(0, &central)
            le16(0, &central); le16(0, &central)
            le32(crc.value, &central); le32(UInt32(data.count), &central); le32(UInt32(data.count), &central)
            le16(nameBytes.count, &central); le16(0, &central); le16(0, &central); le16(0, &central); le16(0, &central)
            le32(0, &central); le32(UInt32(offset), &central)
            directory += central + nameBytes
            count += 1
        }

        mutating func finish() -> [UInt8] {
            let start = out.count
            out += directory
            var end: [UInt8] = []
            le32(0x0605_4B50, &end); le16(0, &end); le16(0, &end); le16(count, &end); le16(count, &end)
            le32(UInt32(directory.count), &end); le32(UInt32(start), &end); le16(0, &end)
            return out + end
        }
    }
}
