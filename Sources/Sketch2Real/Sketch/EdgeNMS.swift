import Foundation

/// Non-maximum suppression of a soft edge map along its local edge orientation, as Dollár's
/// Structured Edge toolbox does it (`edgesNmsMex` with the orientation of pix2pix's
/// PostprocessHED.m): thick HED responses shrink to their ridge before thresholding, which is
/// what keeps edges2shoes' lines one or two pixels wide.
///
/// Maps are row-major `height × width` arrays of Float, as the toolbox computes in single precision.
struct EdgeNMS: Sendable {
    /// Triangle-filter radius smoothing the map before its orientation is measured.
    var orientationSmoothing: Int
    /// Distance, in pixels, to the neighbours a pixel must beat across the edge.
    var radius: Int
    /// A pixel survives unless a neighbour exceeds it by more than this factor (1.01: ties survive).
    var margin: Float
    /// Width of the border band over which responses fade linearly to zero.
    var boundary: Int

    let width: Int, height: Int

    func suppressed(_ e: [Float]) -> [Float] {
        precondition(e.count == width * height, "edge map has \(e.count) values for \(width)×\(height)")
        let orientation = orientations(e)
        var out = e
        for y in 0 ..< height {
            for x in 0 ..< width {
                let i = y * width + x
                let v = e[i]
                if v == 0 { continue }
                let scaled = v * margin
                let (c, s) = (cos(orientation[i]), sin(orientation[i]))
                for d in -radius ... radius where d != 0 {
                    if scaled < interpolate(e, Float(x) + Float(d) * c, Float(y) + Float(d) * s) {
                        out[i] = 0
                        break
                    }
                }
            }
        }
        fadeBorder(&out)
        return out
    }

    /// Orientation in [0, π) of the edge through each pixel, from second derivatives of the
    /// smoothed map: mod(atan(Oyy·sign(−Oxy) / (Oxx + 1e-5)), π).
    func orientations(_ e: [Float]) -> [Float] {
        let smooth = triangleSmoothed(e)
        let (ox, oy) = gradients(smooth)
        let (oxx, _) = gradients(ox)
        let (oxy, oyy) = gradients(oy)
        return (0 ..< e.count).map { i in
            let sign: Float = oxy[i] > 0 ? -1 : (oxy[i] < 0 ? 1 : 0)
            var angle = atan(oyy[i] * sign / (oxx[i] + 1e-5))
            if angle < 0 { angle += .pi }
            return angle
        }
    }

    /// Separable triangle filter [1 2 … r+1 … 2 1] / (r+1)², borders mirrored including the edge pixel.
    func triangleSmoothed(_ e: [Float]) -> [Float] {
        let r = orientationSmoothing
        if r <= 0 { return e }
        let weights = (-r ... r).map { Float(r + 1 - abs($0)) / Float((r + 1) * (r + 1)) }
        var rows = [Float](repeating: 0, count: e.count)
        for y in 0 ..< height {
            for x in 0 ..< width {
                var sum: Float = 0
                for (k, w) in weights.enumerated() { sum += w * e[y * width + mirrored(x + k - r, width)] }
                rows[y * width + x] = sum
            }
        }
        var out = [Float](repeating: 0, count: e.count)
        for y in 0 ..< height {
            for x in 0 ..< width {
                var sum: Float = 0
                for (k, w) in weights.enumerated() { sum += w * rows[mirrored(y + k - r, height) * width + x] }
                out[y * width + x] = sum
            }
        }
        return out
    }

    /// Index into 0..<n of a symmetric extension (… c b a | a b c | c b a …).
    func mirrored(_ i: Int, _ n: Int) -> Int {
        let period = 2 * n
        let m = ((i % period) + period) % period
        return m < n ? m : period - 1 - m
    }

    /// Numerical gradients along x and y as MATLAB's `gradient`: central differences inside,
    /// one-sided differences on the border.
    func gradients(_ a: [Float]) -> (x: [Float], y: [Float]) {
        var gx = [Float](repeating: 0, count: a.count), gy = gx
        for y in 0 ..< height {
            for x in 0 ..< width {
                let i = y * width + x
                if width > 1 {
                    gx[i] = x == 0 ? a[i + 1] - a[i]
                        : x == width - 1 ? a[i] - a[i - 1]
                        : (a[i + 1] - a[i - 1]) / 2
                }
                if height > 1 {
                    gy[i] = y == 0 ? a[i + width] - a[i]
                        : y == height - 1 ? a[i] - a[i - width]
                        : (a[i + width] - a[i - width]) / 2
                }
            }
        }
        return (gx, gy)
    }

    /// Bilinear interpolation at (x, y), clamped just inside the map as the toolbox does.
    func interpolate(_ e: [Float], _ x: Float, _ y: Float) -> Float {
        let cx = x < 0 ? 0 : min(x, Float(width) - 1.001)
        let cy = y < 0 ? 0 : min(y, Float(height) - 1.001)
        let x0 = max(Int(cx), 0), y0 = max(Int(cy), 0)
        let x1 = min(x0 + 1, width - 1), y1 = min(y0 + 1, height - 1)
        let dx = cx - Float(x0), dy = cy - Float(y0)
        return e[y0 * width + x0] * (1 - dx) * (1 - dy) + e[y0 * width + x1] * dx * (1 - dy)
            + e[y1 * width + x0] * (1 - dx) * dy + e[y1 * width + x1] * dx * dy
    }

    /// Scales responses within `boundary` pixels of the border by distance / boundary: HED is
    /// least reliable there, and the image frame itself is not a line of the sketch.
    func fadeBorder(_ e: inout [Float]) {
        let s = min(boundary, width / 2, height / 2)
        guard s > 0 else { return }
        for x in 0 ..< s {
            let f = Float(x) / Float(s)
            for y in 0 ..< height {
                e[y * width + x] *= f
                e[y * width + width - 1 - x] *= f
            }
        }
        for y in 0 ..< s {
            let f = Float(y) / Float(s)
            for x in 0 ..< width {
                e[y * width + x] *= f
                e[(height - 1 - y) * width + x] *= f
            }
        }
    }
}
