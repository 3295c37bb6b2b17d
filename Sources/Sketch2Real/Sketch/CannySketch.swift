import Torch

/// Canny's edge detector (OpenCV) on the photo's luma: one-pixel lines at every intensity step
/// between the hysteresis thresholds.
public struct CannySketch: SketchExtractor, Codable, Equatable, Sendable {
    /// Gradient magnitude (L2, on 0–255 luma, 3×3 Sobel) that continues a line from a strong pixel.
    public var lowThreshold: Double
    /// Gradient magnitude that starts a line.
    public var highThreshold: Double
    /// Gaussian pre-blur scale in pixels, nil for none: blurring first ignores fine texture and
    /// JPEG noise, which would otherwise fill the sketch with short fragments.
    public var blurSigma: Double?

    /// Defaults chosen on photos 190–512 px wide: outlines and major internal edges, little texture.
    public init(lowThreshold: Double = 50, highThreshold: Double = 120, blurSigma: Double? = 1.0) {
        self.lowThreshold = lowThreshold
        self.highThreshold = highThreshold
        self.blurSigma = blurSigma
    }

    public func sketch(_ photo: Image) throws -> Image {
        guard lowThreshold >= 0, highThreshold >= lowThreshold else {
            throw SketchError("Canny needs 0 ≤ low ≤ high thresholds (low \(lowThreshold), high \(highThreshold))")
        }
        if let s = blurSigma, !(s > 0 && s.isFinite) {
            throw SketchError("Canny's blur sigma must be above 0 (got \(s)); leave it out for no blur")
        }
        var source = photo.grayscale()
        if let s = blurSigma {
            source = Image(pixels: try ImageOps.gaussianBlur(source.pixels.contiguous(), sigma: s))
        }
        let edges = try ImageOps.canny(source.grayBytes(), low: lowThreshold, high: highThreshold)
        return Image.sketch(lines: edges)
    }
}
