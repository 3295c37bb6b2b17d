import Torch

extension SyntheticScene {
    /// The line sketch of the scene: grey, `size`×`size`, dark lines on white along every visible
    /// edge (ridges, horizon and shores, trees, clouds, the sun or moon). It depends on the
    /// geometry only, so it is the same for every palette.
    public func sketch(size: Int) -> Image {
        precondition(size >= 8, "sketch size must be at least 8 pixels")
        let pixels = SceneRaster(scene: self, size: size).sketch()
        return Image(pixels: Tensor(pixels, shape: [size, size, 1]))
    }
}

extension SceneRaster {
    /// Grey pixels, HW, white 1 and ink 0. Painted like the photo, back to front, with every
    /// shape filled white and outlined, so nearer shapes hide the lines behind them.
    func sketch() -> [Float] {
        var ink = [Float](repeating: 0, count: size * size)
        let half = lineWidth / 2
        ink.withUnsafeMutableBufferPointer { buffer in
            let k = buffer.baseAddress!
            for index in layers.indices {
                if case .sky = layers[index] { continue }
                forEachPixel(layer: index) { x, y, d in
                    let i = y * size + x
                    let fill = min(max(0.5 - d, 0), 1)
                    let line = min(max(half + 0.5 - abs(d), 0), 1)
                    k[i] = max(k[i] * (1 - fill), line)
                }
            }
            for i in 0 ..< buffer.count { k[i] = 1 - k[i] }
        }
        return ink
    }
}
