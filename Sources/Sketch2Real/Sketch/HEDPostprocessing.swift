import Torch

/// Turns HED's edge probabilities into a clean binary line drawing the way edges2shoes and
/// edges2handbags were made (pix2pix's scripts/edges/PostprocessHED.m): non-maximum
/// suppression along the edge orientation, a threshold, thinning to one-pixel lines, and
/// removal of tiny fragments. The defaults are that script's.
public struct HEDPostprocessing: Codable, Equatable, Sendable {
    /// Thin the soft map to its ridges before thresholding; off keeps HED's thick strokes.
    public var nonMaximumSuppression: Bool
    /// Triangle-filter radius that smooths the map before its edge orientation is measured.
    public var orientationSmoothing: Int
    /// Distance, in pixels, to the neighbours across the edge that a pixel must not fall below.
    public var suppressionRadius: Int
    /// A neighbour suppresses a pixel only when it is stronger by more than this factor.
    public var suppressionMargin: Double
    /// Width of the border band over which responses fade to zero (image frames are not lines).
    public var borderFade: Int
    /// Edge probability (after suppression) from which a pixel belongs to a line.
    public var threshold: Double
    /// Reduce lines to one pixel width (Zhang–Suen; PostprocessHED used MATLAB's `bwmorph thin`).
    public var thinning: Bool
    /// Lines with fewer pixels than this (8-connected) are removed; 0 or 1 keeps everything.
    public var minComponentSize: Int

    public init(nonMaximumSuppression: Bool = true, orientationSmoothing: Int = 4, suppressionRadius: Int = 1,
                suppressionMargin: Double = 1.01, borderFade: Int = 5, threshold: Double = 25.0 / 255.0,
                thinning: Bool = true, minComponentSize: Int = 5) {
        self.nonMaximumSuppression = nonMaximumSuppression
        self.orientationSmoothing = orientationSmoothing
        self.suppressionRadius = suppressionRadius
        self.suppressionMargin = suppressionMargin
        self.borderFade = borderFade
        self.threshold = threshold
        self.thinning = thinning
        self.minComponentSize = minComponentSize
    }

    func validate() throws {
        guard orientationSmoothing >= 0, suppressionRadius >= 1, suppressionMargin.isFinite, suppressionMargin > 0,
              borderFade >= 0, threshold.isFinite, minComponentSize >= 0 else {
            throw SketchError("HED post-processing settings out of range: orientation smoothing and border fade ≥ 0, "
                + "suppression radius ≥ 1, margin > 0, finite threshold, minimum component size ≥ 0 (got \(self))")
        }
    }

    /// Line pixels (uint8 H×W, 255 on lines, 0 elsewhere) of an edge-probability map (H×W).
    public func lines(probability: Tensor) throws -> Tensor {
        try validate()
        guard probability.rank == 2 else { throw SketchError("edge map must be H×W, got shape \(probability.shape)") }
        let (height, width) = (probability.size(0), probability.size(1))
        var map = probability.to(.float32).to(.cpu)
        if nonMaximumSuppression {
            let nms = EdgeNMS(orientationSmoothing: orientationSmoothing, radius: suppressionRadius,
                              margin: Float(suppressionMargin), boundary: borderFade, width: width, height: height)
            map = Tensor(nms.suppressed(map.contiguous().toArray(Float.self)), shape: [height, width], device: .cpu)
        }
        // A positive floor, as the original's max(eps, threshold), so a zero threshold does not mark everything.
        let level = Swift.max(threshold, Double(Float.leastNormalMagnitude))
        var mask = withNoGrad { (map.ge(Tensor.full([], level, device: .cpu)).to(.uint8) * 255.0).to(.uint8).contiguous() }
        if thinning { mask = try ImageOps.thinning(mask) }
        if minComponentSize > 1 { mask = try removingSmallComponents(mask) }
        return mask
    }

    /// The mask without its 8-connected components of fewer than `minComponentSize` pixels.
    func removingSmallComponents(_ mask: Tensor) throws -> Tensor {
        let (labels, stats) = try ImageOps.connectedComponents(mask, connectivity: 8)
        let areas = stats.select(dim: 1, index: 4).toArray(Int32.self)
        var keep = areas.map { $0 >= Int32(minComponentSize) ? UInt8(255) : 0 }
        keep[0] = 0  // label 0 is the background
        let table = Tensor(keep, shape: [keep.count], device: .cpu)
        return table.indexSelect(dim: 0, index: labels.flatten().to(.int64)).reshape(labels.shape).contiguous()
    }

    /// The sketch (dark lines on white, one channel) of an edge-probability map (H×W).
    public func sketch(probability: Tensor) throws -> Image {
        Image.sketch(lines: try lines(probability: probability))
    }
}
