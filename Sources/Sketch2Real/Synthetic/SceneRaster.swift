import Foundation

/// A scene's geometry at one pixel size: every shape as a signed distance in pixels (negative
/// inside), in painter's order. The photo and the sketch are both drawn from it, so the lines
/// of the sketch lie exactly on the edges of the photo, and anti-aliasing comes from the
/// distances (coverage = ½ − d) instead of from supersampling.
struct SceneRaster {
    enum Layer {
        case sky, disc, cloud(Int), ridge(Int), tree(ridge: Int, tree: Int), lake
    }

    struct RidgeColumns {
        /// Ridge line height per column, in pixels from the top.
        var y: [Float]
        /// dy/dx of the ridge line per column.
        var slope: [Float]
        /// 1/√(1 + slope²): turns a vertical offset into a distance from the line.
        var inverseNorm: [Float]
        /// Slope across a few percent of the width: which way the flank below faces, without
        /// the jitter of the ridge's fine detail.
        var broadSlope: [Float]
    }

    struct TreeShape {
        let kind: SyntheticScene.Tree.Kind
        let x, baseY, height, width: Float
        let variant: Float
        let trunkTop, trunkHalfWidth: Float
        /// Conifer tiers as (top, bottom, half-width at the bottom), bottom tier first.
        let tierBoxes: [(top: Float, bottom: Float, halfWidth: Float)]
        /// Deciduous crown lobes as (x, y, radius).
        let lobes: [(x: Float, y: Float, radius: Float)]
    }

    struct CloudShape {
        let puffs: [(x: Float, y: Float, radius: Float)]
        let base: Float
        let top: Float
    }

    let scene: SyntheticScene
    let size: Int
    /// Line width of the sketch in pixels: 1.5 px at 256² and never thinner than 1 px.
    let lineWidth: Float
    let horizonY: Float
    let disc: (x: Float, y: Float, radius: Float)
    let clouds: [CloudShape]
    let ridges: [RidgeColumns]
    let trees: [[TreeShape]]
    let layers: [Layer]
    /// Per layer and column, the rows `start ..< end` worth visiting: outside them the layer
    /// is empty or hidden for good behind nearer opaque land or water.
    private(set) var spans: [(start: [Int32], end: [Int32])] = []

    init(scene: SyntheticScene, size: Int) {
        self.scene = scene
        self.size = size
        let s = Float(size)
        lineWidth = max(1, 1.5 * s / 256)
        horizonY = Float(scene.horizon) * s
        disc = (Float(scene.disc.x) * s, Float(scene.disc.y) * s, Float(scene.disc.radius) * s)
        clouds = scene.clouds.map { c in
            let puffs = c.puffs.map { (Float($0.x) * s, Float($0.y) * s, Float($0.radius) * s) }
            return CloudShape(puffs: puffs, base: Float(c.base) * s, top: puffs.map { $0.1 - $0.2 }.min()!)
        }
        ridges = scene.ridges.map { ridge in
            // One sample per column centre plus one on either side for the slope.
            let samples = (-1 ... size).map { Float(ridge.y(at: (Double($0) + 0.5) / Double(size))) * s }
            var y = [Float](repeating: 0, count: size), slope = y, inverse = y, broad = y
            let reach = 0.03
            for x in 0 ..< size {
                y[x] = samples[x + 1]
                slope[x] = (samples[x + 2] - samples[x]) / 2
                inverse[x] = 1 / (1 + slope[x] * slope[x]).squareRoot()
                let u = (Double(x) + 0.5) / Double(size)
                broad[x] = Float((ridge.y(at: u + reach) - ridge.y(at: u - reach)) / (2 * reach))
            }
            return RidgeColumns(y: y, slope: slope, inverseNorm: inverse, broadSlope: broad)
        }
        trees = scene.ridges.map { $0.trees.map { Self.treeShape($0, scale: s) } }

        var layers: [Layer] = [.sky, .disc]
        layers += scene.clouds.indices.map { .cloud($0) }
        for (i, ridge) in scene.ridges.enumerated() {
            if scene.lake && i == scene.layersBehindLake { layers.append(.lake) }
            layers.append(.ridge(i))
            layers += ridge.trees.indices.map { .tree(ridge: i, tree: $0) }
        }
        if scene.lake && scene.layersBehindLake == scene.ridges.count { layers.append(.lake) }
        self.layers = layers
        spans = computeSpans()
    }

    static func treeShape(_ t: SyntheticScene.Tree, scale s: Float) -> TreeShape {
        let x = Float(t.x) * s, base = Float(t.baseY) * s, h = Float(t.height) * s, w = Float(t.width) * s
        switch t.kind {
        case .conifer:
            let crownBottom = base - 0.15 * h, crownHeight = 0.85 * h
            let tierHeight = crownHeight * 0.5
            let step = (crownHeight - tierHeight) / Float(max(t.tiers - 1, 1))
            let tiers = (0 ..< t.tiers).map { k -> (Float, Float, Float) in
                let bottom = crownBottom - Float(k) * step
                let narrowing = 1 - 0.5 * Float(k) / Float(max(t.tiers - 1, 1))
                return (bottom - tierHeight, bottom, w / 2 * narrowing)
            }
            return TreeShape(kind: .conifer, x: x, baseY: base, height: h, width: w,
                             variant: Float(t.variant), trunkTop: base - 0.22 * h, trunkHalfWidth: max(0.07 * w, 0.3),
                             tierBoxes: tiers, lobes: [])
        case .deciduous:
            let lean = (Float(t.variant) - 0.5) * 0.12 * w
            let lobes: [(Float, Float, Float)] = [
                (x, base - 0.6 * h, 0.4 * w),
                (x - 0.26 * w, base - 0.5 * h, 0.28 * w),
                (x + 0.26 * w, base - 0.52 * h, 0.27 * w),
                (x + lean, base - h + 0.32 * w, 0.32 * w),
            ]
            return TreeShape(kind: .deciduous, x: x, baseY: base, height: h, width: w,
                             variant: Float(t.variant), trunkTop: base - 0.5 * h, trunkHalfWidth: max(0.06 * w, 0.3),
                             tierBoxes: [], lobes: lobes)
        }
    }

    // MARK: Signed distances (pixels, negative inside; evaluated at pixel centres)

    @inline(__always)
    func discDistance(_ px: Float, _ py: Float) -> Float {
        let dx = px - disc.x, dy = py - disc.y
        return (dx * dx + dy * dy).squareRoot() - disc.radius
    }

    /// Distance to the cloud and the puff nearest to the point (for shading).
    @inline(__always)
    func cloudDistance(_ c: Int, _ px: Float, _ py: Float) -> (distance: Float, puff: Int) {
        let cloud = clouds[c]
        var best = Float.infinity, index = 0
        for (i, p) in cloud.puffs.enumerated() {
            let dx = px - p.x, dy = py - p.y
            let d = (dx * dx + dy * dy).squareRoot() - p.radius
            if d < best { best = d; index = i }
        }
        return (max(best, py - cloud.base), index)
    }

    /// Distance to the tree's silhouette (trunk ∪ crown), whether the trunk is the nearer part,
    /// and the crown part nearest (tier or lobe index).
    @inline(__always)
    static func treeDistance(_ t: TreeShape, _ px: Float, _ py: Float) -> (distance: Float, trunk: Bool, part: Int) {
        let ax = abs(px - t.x)
        // Box from trunkTop to baseY, half-width trunkHalfWidth.
        let qx = ax - t.trunkHalfWidth, qy = max(t.trunkTop - py, py - t.baseY)
        let outside = (max(qx, 0) * max(qx, 0) + max(qy, 0) * max(qy, 0)).squareRoot()
        let trunk = outside + min(max(qx, qy), 0)
        var crown = Float.infinity, part = 0
        if t.kind == .conifer {
            for (k, tier) in t.tierBoxes.enumerated() {
                let h = tier.bottom - tier.top, hw = tier.halfWidth
                let side = (ax * h - (py - tier.top) * hw) / (h * h + hw * hw).squareRoot()
                let d = max(side, py - tier.bottom)
                if d < crown { crown = d; part = k }
            }
        } else {
            for (k, lobe) in t.lobes.enumerated() {
                let dx = px - lobe.x, dy = py - lobe.y
                let d = (dx * dx + dy * dy).squareRoot() - lobe.radius
                if d < crown { crown = d; part = k }
            }
        }
        return (min(trunk, crown), trunk < crown, part)
    }

    // MARK: Traversal

    /// Pixels (x, y) of a layer that may be touched by its fill, its anti-aliased edge or its
    /// sketch line, with the pixel-centre distance. Column-major: per-column values of ridges
    /// stay in registers.
    @inline(__always)
    func forEachPixel(layer index: Int, _ body: (_ x: Int, _ y: Int, _ distance: Float) -> Void) {
        let span = spans[index]
        switch layers[index] {
        case .sky:
            for x in 0 ..< size {
                for y in Int(span.start[x]) ..< Int(span.end[x]) { body(x, y, -1) }
            }
        case .disc:
            for x in 0 ..< size {
                let px = Float(x) + 0.5
                for y in Int(span.start[x]) ..< Int(span.end[x]) { body(x, y, discDistance(px, Float(y) + 0.5)) }
            }
        case .cloud(let c):
            for x in 0 ..< size {
                let px = Float(x) + 0.5
                for y in Int(span.start[x]) ..< Int(span.end[x]) { body(x, y, cloudDistance(c, px, Float(y) + 0.5).distance) }
            }
        case .ridge(let r):
            let ridge = ridges[r]
            for x in 0 ..< size {
                let ry = ridge.y[x], inv = ridge.inverseNorm[x]
                for y in Int(span.start[x]) ..< Int(span.end[x]) { body(x, y, (ry - (Float(y) + 0.5)) * inv) }
            }
        case .tree(let r, let t):
            let tree = trees[r][t]
            for x in 0 ..< size {
                let px = Float(x) + 0.5
                for y in Int(span.start[x]) ..< Int(span.end[x]) {
                    body(x, y, Self.treeDistance(tree, px, Float(y) + 0.5).distance)
                }
            }
        case .lake:
            for x in 0 ..< size {
                for y in Int(span.start[x]) ..< Int(span.end[x]) { body(x, y, horizonY - (Float(y) + 0.5)) }
            }
        }
    }

    /// Rows at and below which a layer is fully opaque in column x (Int32.max when it never is).
    func opaqueFrom(_ layer: Layer, column x: Int) -> Int32 {
        switch layer {
        case .sky: return 0
        case .ridge(let r):
            // d ≤ −½ at the pixel centre means full coverage.
            let y = ridges[r].y[x] + 0.5 / ridges[r].inverseNorm[x] - 0.5
            return y >= Float(size) ? Int32.max : Int32(max(0, y.rounded(.up) + 1))
        case .lake:
            return Int32(max(0, horizonY.rounded(.up) + 1))
        default: return Int32.max
        }
    }

    /// Rows a layer's fill, edge or line can reach in column x, before occlusion.
    func reach(_ layer: Layer, column x: Int) -> (Int32, Int32) {
        let margin = lineWidth / 2 + 1.5
        let px = Float(x) + 0.5, n = Int32(size)
        func clampRows(_ top: Float, _ bottom: Float) -> (Int32, Int32) {
            let a = Int32(max(0, min(Float(size), top.rounded(.down))))
            let b = Int32(max(0, min(Float(size), bottom.rounded(.up))))
            return (a, max(a, b))
        }
        func band(_ cx: Float, _ halfWidth: Float, _ top: Float, _ bottom: Float) -> (Int32, Int32) {
            abs(px - cx) > halfWidth + margin ? (0, 0) : clampRows(top - margin, bottom + margin)
        }
        switch layer {
        case .sky: return (0, n)
        case .disc:
            let dx = abs(px - disc.x), r = disc.radius + margin
            if dx > r { return (0, 0) }
            let h = (r * r - dx * dx).squareRoot()
            return clampRows(disc.y - h, disc.y + h)
        case .cloud(let c):
            let cloud = clouds[c]
            let left = cloud.puffs.map { $0.x - $0.radius }.min()!, right = cloud.puffs.map { $0.x + $0.radius }.max()!
            return band((left + right) / 2, (right - left) / 2, cloud.top, cloud.base)
        case .ridge(let r):
            // Above the ridge the distance shrinks by 1/√(1 + slope²), so steep columns need more rows.
            let top = ridges[r].y[x] - margin / ridges[r].inverseNorm[x]
            return clampRows(top, Float(size))
        case .tree(let r, let t):
            let tree = trees[r][t]
            let halfWidth = tree.kind == .conifer ? tree.width / 2 : tree.width * 0.56
            return band(tree.x, halfWidth, tree.baseY - tree.height, tree.baseY)
        case .lake:
            return clampRows(horizonY - margin, Float(size))
        }
    }

    /// Walks the layers front to back, tracking per column the first row hidden for good by
    /// nearer opaque layers. At the lake the tracking restarts: everything above the waterline
    /// behind the lake is needed for the reflection even where nearer land hides it.
    func computeSpans() -> [(start: [Int32], end: [Int32])] {
        var hidden = [Int32](repeating: Int32(size), count: size)
        var result = [(start: [Int32], end: [Int32])](repeating: ([], []), count: layers.count)
        for index in layers.indices.reversed() {
            let layer = layers[index]
            var start = [Int32](repeating: 0, count: size), end = start
            for x in 0 ..< size {
                let (a, b) = reach(layer, column: x)
                start[x] = a
                end[x] = max(a, min(b, hidden[x]))
            }
            result[index] = (start, end)
            if case .lake = layer {
                for x in 0 ..< size { hidden[x] = min(Int32(size), opaqueFrom(layer, column: x)) }
            } else {
                for x in 0 ..< size { hidden[x] = min(hidden[x], opaqueFrom(layer, column: x)) }
            }
        }
        return result
    }
}
