import Foundation
import Torch

/// Differentiable augmentation of the discriminator's inputs (DiffAugment, Zhao et al. 2020):
/// real and generated images go through the same kinds of random transform before D sees them,
/// in D's update and in G's, and the transforms are differentiable so G's gradient passes
/// through them. D then cannot memorise a small training set, which is what makes GANs train on
/// a few hundred images. For a conditional D the transform covers the whole (sketch, image)
/// input, so sketch and image stay aligned.
///
/// Each call draws one random transform per example (from libtorch's global generator, so a
/// seeded or resumed run draws the same) and applies it alike to every tensor passed in.
public struct DiffAugment: Sendable, Codable, Equatable {
    public enum Kind: String, Sendable, Codable, CaseIterable, Comparable {
        /// Brightness ± 0.5, saturation × [0, 2], contrast × [0.5, 1.5].
        case color
        /// A shift of up to `translationRatio` of each side, filled with zeros.
        case translation
        /// A zeroed square of `cutoutRatio` of each side at a random place.
        case cutout

        public static func < (a: Kind, b: Kind) -> Bool { allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)! }
    }

    public var kinds: [Kind]
    public var translationRatio: Double
    public var cutoutRatio: Double

    public init(kinds: [Kind] = Kind.allCases, translationRatio: Double = 0.125, cutoutRatio: Double = 0.5) {
        self.kinds = Array(Set(kinds)).sorted()
        self.translationRatio = translationRatio
        self.cutoutRatio = cutoutRatio
    }

    /// Training sets smaller than this get augmentation by default (`--augment auto`).
    public static let automaticBelowPairs = 2000

    /// "color,translation,cutout" → the policy; "none" → nil.
    public static func parse(_ text: String) throws -> DiffAugment? {
        let words = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        if words == ["none"] || words == ["off"] { return nil }
        var kinds: [Kind] = []
        for w in words {
            guard let k = Kind(rawValue: w) else {
                throw ModelError("--augment: unknown augmentation '\(w)' (use color, translation, cutout, none or auto)")
            }
            kinds.append(k)
        }
        guard !kinds.isEmpty else { throw ModelError("--augment: name at least one of color, translation, cutout (or none)") }
        return DiffAugment(kinds: kinds)
    }

    public var description: String { kinds.map(\.rawValue).joined(separator: ",") }

    public func validate() throws {
        guard (0 ... 0.5).contains(translationRatio), (0 ... 1).contains(cutoutRatio) else {
            throw ModelError("augmentation ratios out of range: translation \(translationRatio) (0–0.5), cutout \(cutoutRatio) (0–1)")
        }
    }

    /// The tensors (N×C×H×W, all the same N, H and W) under one random transform per example.
    public func callAsFunction(_ inputs: [Tensor]) -> [Tensor] {
        guard let first = inputs.first else { return inputs }
        let n = first.size(0), h = first.size(2), w = first.size(3)
        var out = inputs
        for kind in kinds {
            switch kind {
            case .color:
                let brightness = Tensor.rand([n, 1, 1, 1]) - 0.5
                let saturation = Tensor.rand([n, 1, 1, 1]) * 2.0
                let contrast = Tensor.rand([n, 1, 1, 1]) + 0.5
                out = out.map { x in
                    var y = x + brightness
                    let channelMean = y.mean(dims: [1], keepDim: true)
                    y = (y - channelMean) * saturation + channelMean
                    let imageMean = y.mean(dims: [1, 2, 3], keepDim: true)
                    return (y - imageMean) * contrast + imageMean
                }
            case .translation:
                let sy = Int((Double(h) * translationRatio).rounded()), sx = Int((Double(w) * translationRatio).rounded())
                guard sy > 0 || sx > 0 else { continue }
                let dy = Tensor.randint(-sy, sy + 1, [n]).toArray(Int64.self)
                let dx = Tensor.randint(-sx, sx + 1, [n]).toArray(Int64.self)
                out = out.map { x in
                    // Zero borders, then each example's window, shifted by (dy, dx).
                    let padded = x.padded([sx, sx, sy, sy])
                    let rows = (0 ..< n).map { i in
                        padded.narrow(dim: 0, start: i, length: 1)
                            .narrow(dim: 2, start: sy - Int(dy[i]), length: h)
                            .narrow(dim: 3, start: sx - Int(dx[i]), length: w)
                    }
                    return Tensor.cat(rows, dim: 0)
                }
            case .cutout:
                let ch = Int((Double(h) * cutoutRatio).rounded()), cw = Int((Double(w) * cutoutRatio).rounded())
                guard ch > 0, cw > 0 else { continue }
                // The square's centre anywhere in the image; parts outside it are clipped.
                let cy = Tensor.randint(0, h + (1 - ch % 2), [n]).toArray(Int64.self)
                let cx = Tensor.randint(0, w + (1 - cw % 2), [n]).toArray(Int64.self)
                var mask = [Float](repeating: 1, count: n * h * w)
                for i in 0 ..< n {
                    let top = Swift.max(0, Int(cy[i]) - ch / 2), bottom = Swift.min(h, Int(cy[i]) - ch / 2 + ch)
                    let left = Swift.max(0, Int(cx[i]) - cw / 2), right = Swift.min(w, Int(cx[i]) - cw / 2 + cw)
                    guard top < bottom, left < right else { continue }
                    for r in top ..< bottom { for c in left ..< right { mask[(i * h + r) * w + c] = 0 } }
                }
                let m = Tensor(mask, shape: [n, 1, h, w])
                out = out.map { $0 * m }
            }
        }
        return out
    }

    public func callAsFunction(_ input: Tensor) -> Tensor { self([input])[0] }
}
