import Foundation
import Torch

/// Animated GIF89a files, written without any image library: every frame is mapped onto a
/// fixed 6×6×6 colour cube (216 colours, the rest of the 256-entry table black) with 8×8
/// ordered (Bayer) dithering, LZW-compressed, and the animation loops forever. A fixed palette
/// keeps colours steady from frame to frame, which matters more for a walk through latent
/// space than the last bit of fidelity.
public enum AnimatedGIF {
    /// Frames of equal size; `delay` between frames in hundredths of a second.
    public static func encode(_ frames: [Image], delayCentiseconds delay: Int = 10) throws -> [UInt8] {
        guard let first = frames.first else { throw ModelError("an animation needs at least one frame") }
        let (w, h) = (first.width, first.height)
        guard w <= 0xFFFF, h <= 0xFFFF else { throw ModelError("GIF frames are at most 65535 pixels on a side") }
        guard frames.allSatisfy({ $0.width == w && $0.height == h }) else {
            throw ModelError("all frames of an animation must have the same size")
        }
        var out: [UInt8] = Array("GIF89a".utf8)
        out += le16(w) + le16(h)
        // Global colour table of 2^(7+1) entries, 8 bits per primary.
        out += [0xF7, 0, 0]
        out += palette
        // NETSCAPE2.0 application extension: loop count 0 = forever.
        out += [0x21, 0xFF, 0x0B] + Array("NETSCAPE2.0".utf8) + [0x03, 0x01, 0x00, 0x00, 0x00]
        for frame in frames {
            out += [0x21, 0xF9, 0x04, 0x04] + le16(Swift.max(0, Swift.min(delay, 0xFFFF))) + [0x00, 0x00]
            out += [0x2C] + le16(0) + le16(0) + le16(w) + le16(h) + [0x00]
            out.append(UInt8(minimumCodeSize))
            let data = lzw(indices(frame))
            var start = 0
            while start < data.count {
                let n = Swift.min(255, data.count - start)
                out.append(UInt8(n))
                out += data[start ..< start + n]
                start += n
            }
            out.append(0x00)
        }
        out.append(0x3B)
        return out
    }

    public static func save(_ frames: [Image], path: String, delayCentiseconds delay: Int = 10) throws {
        try AtomicFile.write(Data(try encode(frames, delayCentiseconds: delay)), to: path)
    }

    static let minimumCodeSize = 8

    /// The 6×6×6 cube (levels 0, 51, …, 255), red slowest, padded with black to 256 entries.
    static let palette: [UInt8] = {
        var p: [UInt8] = []
        for r in 0 ..< 6 { for g in 0 ..< 6 { for b in 0 ..< 6 { p += [UInt8(r * 51), UInt8(g * 51), UInt8(b * 51)] } } }
        return p + [UInt8](repeating: 0, count: (256 - 216) * 3)
    }()

    /// The 8×8 Bayer matrix, entries 0…63.
    static let bayer: [Int] = {
        var m = [0]
        var n = 1
        while n < 8 {
            var next = [Int](repeating: 0, count: 4 * n * n)
            for y in 0 ..< n {
                for x in 0 ..< n {
                    let v = 4 * m[y * n + x]
                    next[y * 2 * n + x] = v
                    next[y * 2 * n + x + n] = v + 2
                    next[(y + n) * 2 * n + x] = v + 3
                    next[(y + n) * 2 * n + x + n] = v + 1
                }
            }
            m = next
            n *= 2
        }
        return m
    }()

    /// Palette indices, row by row: each primary scaled to 0…5 and rounded up or down by the
    /// dither threshold of its pixel.
    static func indices(_ image: Image) -> [UInt8] {
        let rgb = image.rgb()
        let values = withNoGrad { (rgb.pixels.clamp(min: 0, max: 1) * 5.0).contiguous() }.toArray(Float.self)
        let (w, h) = (rgb.width, rgb.height)
        var out = [UInt8](repeating: 0, count: w * h)
        for y in 0 ..< h {
            for x in 0 ..< w {
                let threshold = (Float(bayer[(y % 8) * 8 + x % 8]) + 0.5) / 64
                var index = 0
                for c in 0 ..< 3 {
                    let level = Swift.min(5, Swift.max(0, Int((values[(y * w + x) * 3 + c] + threshold).rounded(.down))))
                    index = index * 6 + level
                }
                out[y * w + x] = UInt8(index)
            }
        }
        return out
    }

    /// GIF's variable-width LZW: codes start one bit wider than the minimum code size, widen
    /// when the next table entry needs another bit, and a clear code resets the table at 4095.
    static func lzw(_ indices: [UInt8]) -> [UInt8] {
        let clear = 1 << minimumCodeSize, end = clear + 1
        var writer = BitWriter()
        var width = minimumCodeSize + 1
        var next = end + 1
        var table: [Int: Int] = [:]
        writer.write(clear, width: width)
        guard var prefix = indices.first.map(Int.init) else {
            writer.write(end, width: width)
            return writer.finish()
        }
        func emit(_ code: Int) {
            writer.write(code, width: width)
            // The decoder adds its entry one code later, so it widens after this code too.
            if next >= (1 << width), width < 12 { width += 1 }
        }
        for k in indices.dropFirst().map(Int.init) {
            let key = prefix << 8 | k
            if let code = table[key] {
                prefix = code
                continue
            }
            emit(prefix)
            if next < 4095 {
                table[key] = next
                next += 1
            } else {
                emit(clear)
                table.removeAll(keepingCapacity: true)
                next = end + 1
                width = minimumCodeSize + 1
            }
            prefix = k
        }
        emit(prefix)
        emit(end)
        return writer.finish()
    }

    struct BitWriter {
        var bytes: [UInt8] = []
        var buffer = 0
        var count = 0

        /// Least significant bit first, as GIF packs codes.
        mutating func write(_ code: Int, width: Int) {
            buffer |= code << count
            count += width
            while count >= 8 {
                bytes.append(UInt8(buffer & 0xFF))
                buffer >>= 8
                count -= 8
            }
        }

        mutating func finish() -> [UInt8] {
            if count > 0 { bytes.append(UInt8(buffer & 0xFF)) }
            buffer = 0
            count = 0
            return bytes
        }
    }

    static func le16(_ v: Int) -> [UInt8] { [UInt8(v & 0xFF), UInt8(v >> 8 & 0xFF)] }
}
