import Foundation
import Torch

/// The latent codes of `sample`, `eval`, `demo` and the studio, one definition for all four:
/// code `k` of sketch `i` under seed `s` is a standard normal vector drawn from its own stream,
/// a function of (s, i, k) alone. So the same `--seed` gives the same variations of the i-th
/// sketch everywhere (the studio's one sketch is sketch 0), asking for more codes keeps the
/// first ones, and nothing depends on libtorch's global generator or on what ran before.
///
/// Values: Box–Muller on SplitMix64 (both the cosine and the sine draw of each pair are used).
public enum LatentCodes {
    /// The stream of code `sample` of sketch `sketch`.
    public static func stream(seed: UInt64, sketch: Int, sample: Int) -> UInt64 {
        SplitMix64.mix(seed ^ SplitMix64.mix(UInt64(sketch) &* 0x1_0000 &+ UInt64(sample))) & ((1 << 53) - 1)
    }

    /// `count` standard normal values of one stream.
    public static func standardNormal(count: Int, stream: UInt64) -> [Float] {
        var g = SplitMix64(stream, 0x2A7E)
        var out: [Float] = []
        out.reserveCapacity(count + 1)
        while out.count < count {
            let u1 = Swift.max(g.unit(), 1e-300), u2 = g.unit()
            let r = (-2 * log(u1)).squareRoot()
            out.append(Float(r * cos(2 * Double.pi * u2)))
            out.append(Float(r * sin(2 * Double.pi * u2)))
        }
        return Array(out.prefix(count))
    }

    /// Code `sample` of sketch `sketch`: `size` values.
    public static func code(seed: UInt64, sketch: Int, sample: Int, size: Int) -> [Float] {
        standardNormal(count: size, stream: stream(seed: seed, sketch: sketch, sample: sample))
    }

    /// Codes 0 ..< `count` of sketch `sketch`, one per row.
    public static func rows(seed: UInt64, sketch: Int, count: Int, size: Int) -> [[Float]] {
        (0 ..< count).map { code(seed: seed, sketch: sketch, sample: $0, size: size) }
    }

    /// The same as a `count`×`size` tensor.
    public static func tensor(seed: UInt64, sketch: Int, count: Int, size: Int) -> Tensor {
        Tensor(rows(seed: seed, sketch: sketch, count: count, size: size).flatMap { $0 }, shape: [count, size])
    }
}
