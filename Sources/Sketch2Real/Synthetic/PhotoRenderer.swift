import Foundation
import Torch

extension SyntheticScene {
    /// The scene as a photo in palette `palette` of the first `paletteCount` catalogue palettes:
    /// PaletteColor, `size`×`size`. The palette count only checks that the index is a mode of a data set
    /// with that many modes; palette i looks the same whatever the count.
    public func render(palette: Int, of paletteCount: Int, size: Int) -> Image {
        precondition((1 ... SyntheticPalette.catalogue.count).contains(paletteCount),
                     "palette count must be 1...\(SyntheticPalette.catalogue.count)")
        precondition((0 ..< paletteCount).contains(palette), "palette \(palette) is not one of 0..<\(paletteCount)")
        return render(SyntheticPalette.catalogue[palette], size: size)
    }

    public func render(_ palette: SyntheticPalette, size: Int) -> Image {
        precondition(size >= 8, "render size must be at least 8 pixels")
        let pixels = SceneRaster(scene: self, size: size).photo(palette)
        return Image(pixels: Tensor(pixels, shape: [size, size, 3]))
    }
}

@inline(__always)
private func smoothstep(_ a: Float, _ b: Float, _ x: Float) -> Float {
    let t = min(max((x - a) / (b - a), 0), 1)
    return t * t * (3 - 2 * t)
}

@inline(__always)
private func clamp01(_ x: Float) -> Float { min(max(x, 0), 1) }

/// Where light, screen-blended: brightens without passing white.
@inline(__always)
private func screen(_ base: PaletteColor, _ light: PaletteColor, _ amount: Float) -> PaletteColor {
    PaletteColor(1 - (1 - base.r) * (1 - light.r * amount), 1 - (1 - base.g) * (1 - light.g * amount),
        1 - (1 - base.b) * (1 - light.b * amount))
}

extension SceneRaster {
    /// PaletteColor pixels, HWC, in [0, 1].
    func photo(_ palette: SyntheticPalette) -> [Float] {
        var canvas = [Float](repeating: 0, count: size * size * 3)
        canvas.withUnsafeMutableBufferPointer { buffer in
            let c = buffer.baseAddress!
            for index in layers.indices {
                switch layers[index] {
                case .sky: paintSky(c, index, palette)
                case .disc: paintDisc(c, index, palette)
                case .cloud(let k): paintCloud(c, index, k, palette)
                case .ridge(let r): paintRidge(c, index, r, palette)
                case .tree(let r, let t): paintTree(c, index, r, t, palette)
                case .lake: paintLake(c, index, palette)
                }
            }
            let tint = scene.tint
            for i in stride(from: 0, to: buffer.count, by: 3) {
                c[i] = clamp01(c[i] * tint.r)
                c[i + 1] = clamp01(c[i + 1] * tint.g)
                c[i + 2] = clamp01(c[i + 2] * tint.b)
            }
        }
        return canvas
    }

    /// +1 when the light comes from the right of the picture, −1 from the left.
    var lightSide: Float { disc.x >= Float(size) / 2 ? 1 : -1 }

    @inline(__always)
    func pixel(_ c: UnsafeMutablePointer<Float>, _ x: Int, _ y: Int) -> PaletteColor {
        let i = (y * size + x) * 3
        return PaletteColor(c[i], c[i + 1], c[i + 2])
    }

    @inline(__always)
    func blend(_ c: UnsafeMutablePointer<Float>, _ x: Int, _ y: Int, _ colour: PaletteColor, _ alpha: Float) {
        let i = (y * size + x) * 3
        c[i] += (colour.r - c[i]) * alpha
        c[i + 1] += (colour.g - c[i + 1]) * alpha
        c[i + 2] += (colour.b - c[i + 2]) * alpha
    }

    func paintSky(_ c: UnsafeMutablePointer<Float>, _ index: Int, _ p: SyntheticPalette) {
        let s = Float(size)
        let rows = (0 ..< size).map { y -> PaletteColor in
            let t = clamp01((Float(y) + 0.5) / horizonY)
            return PaletteColor.mix(p.skyTop, p.skyHorizon, pow(t, p.skyCurve))
        }
        let wide = 2 * 0.22 * 0.22 * s * s, tight = 2 * (2.5 * disc.radius) * (2.5 * disc.radius)
        forEachPixel(layer: index) { x, y, _ in
            let dx = Float(x) + 0.5 - disc.x, dy = Float(y) + 0.5 - disc.y
            let d2 = dx * dx + dy * dy
            let glow = p.glowStrength * (0.6 * exp(-d2 / wide) + 0.4 * exp(-d2 / tight))
            blend(c, x, y, screen(rows[y], p.glow, glow), 1)
        }
        guard p.stars > 0 else { return }
        let sigma = 0.35 + 0.25 * s / 256
        for star in scene.stars {
            let sx = Float(star.x) * s, sy = Float(star.y) * s
            let x0 = Int(sx), y0 = Int(sy)
            for y in max(0, y0 - 1) ... min(size - 1, y0 + 1) {
                for x in max(0, x0 - 1) ... min(size - 1, x0 + 1) {
                    let dx = Float(x) + 0.5 - sx, dy = Float(y) + 0.5 - sy
                    let w = exp(-(dx * dx + dy * dy) / (2 * sigma * sigma)) * p.stars * Float(star.brightness)
                    blend(c, x, y, screen(pixel(c, x, y), PaletteColor(1, 1, 0.95), w), 1)
                }
            }
        }
    }

    func paintDisc(_ c: UnsafeMutablePointer<Float>, _ index: Int, _ p: SyntheticPalette) {
        let seed = scene.seed &+ 17
        forEachPixel(layer: index) { x, y, d in
            let alpha = clamp01(0.5 - d)
            guard alpha > 0 else { return }
            let nx = (Float(x) + 0.5 - disc.x) / disc.radius, ny = (Float(y) + 0.5 - disc.y) / disc.radius
            var colour: PaletteColor
            if p.isMoon {
                let maria = Float(ValueNoise.fractal(seed, Double(nx * 1.6), Double(ny * 1.6), octaves: 2))
                colour = p.disc * (0.84 + 0.12 * maria - 0.06 * (nx * nx + ny * ny))
            } else {
                colour = p.disc * (1 - 0.1 * (nx * nx + ny * ny))
            }
            blend(c, x, y, colour, alpha)
        }
    }

    func paintCloud(_ c: UnsafeMutablePointer<Float>, _ index: Int, _ k: Int, _ p: SyntheticPalette) {
        let cloud = clouds[k]
        let soft = max(1, 1.8 * Float(size) / 256), side = lightSide
        forEachPixel(layer: index) { x, y, _ in
            let px = Float(x) + 0.5, py = Float(y) + 0.5
            let (d, puff) = cloudDistance(k, px, py)
            let alpha = p.cloudOpacity * clamp01(0.5 - d / soft)
            guard alpha > 0 else { return }
            let q = cloud.puffs[puff]
            let nx = (px - q.x) / q.radius, ny = (py - q.y) / q.radius
            let lit = clamp01(0.55 - 0.45 * ny + 0.2 * nx * side)
            let height = clamp01((cloud.base - py) / max(cloud.base - cloud.top, 1))
            blend(c, x, y, PaletteColor.mix(p.cloudShadow, p.cloudLight, 0.65 * lit + 0.35 * height), alpha)
        }
    }

    func paintRidge(_ c: UnsafeMutablePointer<Float>, _ index: Int, _ r: Int, _ p: SyntheticPalette) {
        let ridge = scene.ridges[r], columns = ridges[r]
        let s = Float(size), side = lightSide
        let depth = Float(ridge.depth), amplitude = Float(ridge.amplitude), base = Float(ridge.base)
        let haze = p.hazeAmount * pow(1 - depth, 1.3)
        let footDepth = 0.5 * amplitude + 0.02
        let mountain = ridge.kind == .mountain
        let rock = PaletteColor.mix(p.rockFar, p.rockNear, depth), grass = PaletteColor.mix(p.grassFar, p.grassNear, depth)
        let seed = ridge.noiseSeed &+ 1000
        forEachPixel(layer: index) { x, y, d in
            let alpha = clamp01(0.5 - d)
            guard alpha > 0 else { return }
            let u = (Float(x) + 0.5) / s, v = (Float(y) + 0.5) / s
            let below = max(0, v - columns.y[x] / s)
            let face = max(-1, min(1, columns.slope[x] * side))
            var colour: PaletteColor
            if mountain {
                // Light on a flank: the broad slope of the ridge above sets which way the
                // flank faces, fading with the distance below the crest, and a rough relief
                // (the horizontal gradient of 2-D noise) breaks it into spurs and gullies.
                let du = Double(u), dv = Double(v)
                let n = Float(ValueNoise.fractal(seed, du * 14, dv * 9, octaves: 3))
                let relief = Float(ValueNoise.fractal(seed, du * 14 + 0.12, dv * 9, octaves: 3)) - n
                let flank = max(-1, min(1, 1.5 * columns.broadSlope[x] * side)) * exp(-below / (0.8 * amplitude))
                let crest = face * exp(-below * s / (3 * s / 256 + 1))
                let lit = max(-1, min(1, 0.8 * flank + 0.4 * crest + 4 * relief * side))
                let shade = 1 + p.light * 1.3 * lit + 0.08 * n
                let altitude = (base - v) / amplitude
                let snow = smoothstep(p.snowLine - 0.12, p.snowLine + 0.12, altitude + 0.35 * n)
                colour = PaletteColor.mix(rock * shade, p.snow * (1 + p.light * 0.6 * lit), snow)
            } else {
                let patches = Float(ValueNoise.fractal(seed, Double(u * 5), Double(v * 12), octaves: 2))
                let fine = Float(ValueNoise.noise(seed &+ 7, Double(u * 90), Double(v * 140)))
                let lit = face * exp(-below / 0.04)
                let shade = 1 + p.light * 0.8 * lit + 0.06 * fine - 0.12 * clamp01(below / 0.25)
                colour = PaletteColor.mix(grass, p.grassPatch, 0.7 * smoothstep(0, 0.6, patches)) * shade
            }
            let foot = clamp01(below / footDepth)
            colour = PaletteColor.mix(colour, p.haze, clamp01(haze + p.mist * foot * (1 - 0.7 * depth)))
            blend(c, x, y, colour, alpha)
        }
    }

    func paintTree(_ c: UnsafeMutablePointer<Float>, _ index: Int, _ r: Int, _ t: Int, _ p: SyntheticPalette) {
        let tree = trees[r][t]
        let depth = Float(scene.ridges[r].depth), side = lightSide
        let haze = p.hazeAmount * pow(1 - depth, 1.3)
        let tone = 0.88 + 0.24 * (tree.variant * 5.3 - (tree.variant * 5.3).rounded(.down))
        let crown = p.crowns[min(p.crowns.count - 1, Int(tree.variant * Float(p.crowns.count)))]
        let seed = scene.seed &+ UInt64(r * 1000 + t + 31)
        forEachPixel(layer: index) { x, y, d in
            let alpha = clamp01(0.5 - d)
            guard alpha > 0 else { return }
            let px = Float(x) + 0.5, py = Float(y) + 0.5
            let shape = Self.treeDistance(tree, px, py)
            let sunward: Float = (px - tree.x) * side > 0 ? 1 : -1
            var colour: PaletteColor
            if shape.trunk {
                colour = p.trunk * (1 + p.light * 0.5 * sunward)
            } else if tree.kind == .conifer {
                let tier = tree.tierBoxes[shape.part]
                let rel = clamp01((py - tier.top) / (tier.bottom - tier.top))
                let soft = tanhf((px - tree.x) * side / max(0.15 * tree.width, 0.5))
                colour = p.conifer * (tone * (1 + p.light * 0.9 * soft) * (1.1 - 0.35 * rel))
                colour = PaletteColor.mix(colour, p.snow * (1 + 0.3 * p.light * soft), p.treeSnow * smoothstep(0.55, 0.1, rel))
            } else {
                let lobe = tree.lobes[shape.part]
                let nx = (px - lobe.x) / lobe.radius, ny = (py - lobe.y) / lobe.radius
                let lit = 0.6 * nx * side - 0.6 * ny
                let leaves = Float(ValueNoise.noise(seed, Double((px - tree.x) / tree.width * 7),
                                                    Double((py - tree.baseY) / tree.width * 7)))
                colour = crown * (tone * (1 + p.light * 1.2 * lit) * (0.92 + 0.16 * leaves))
                colour = PaletteColor.mix(colour, p.snow, p.treeSnow * smoothstep(0.2, 0.7, -ny + 0.3 * leaves))
            }
            blend(c, x, y, PaletteColor.mix(colour, p.haze, haze), alpha)
        }
    }

    func paintLake(_ c: UnsafeMutablePointer<Float>, _ index: Int, _ p: SyntheticPalette) {
        let s = Float(size), n = size
        // The mirror reads what lies above the waterline, so it reads a copy: the lake's own
        // anti-aliased top rows must not feed back into the reflection.
        let above = Array(UnsafeBufferPointer(start: c, count: n * n * 3))
        let seed = scene.seed &+ 59
        let scale = s / 256
        let glintWidth = 0.08 * s
        forEachPixel(layer: index) { x, y, d in
            let alpha = clamp01(0.5 - d)
            guard alpha > 0 else { return }
            let px = Float(x) + 0.5, py = Float(y) + 0.5
            let t = clamp01((py - horizonY) / (s - horizonY))
            let u = Double(px / s), v = Double(py)
            let ripple = Float(ValueNoise.fractal(seed, u * 3, v * 1.2, octaves: 2)) * (0.4 + 5 * t) * scale
            // Bilinear sample of the mirrored point.
            let sx = min(max(px + ripple - 0.5, 0), s - 1.001), sy = min(max(2 * horizonY - py - 0.5, 0), s - 1.001)
            let x0 = Int(sx), y0 = Int(sy), fx = sx - Float(x0), fy = sy - Float(y0)
            var reflected = PaletteColor(0, 0, 0)
            for (yy, wy) in [(y0, 1 - fy), (y0 + 1, fy)] {
                for (xx, wx) in [(x0, 1 - fx), (x0 + 1, fx)] {
                    let i = (yy * n + xx) * 3
                    reflected = reflected + PaletteColor(above[i], above[i + 1], above[i + 2]) * (wx * wy)
                }
            }
            let strength = p.reflectivity * (1 - 0.4 * t)
            var colour = PaletteColor.mix(p.water * (0.9 + 0.2 * (1 - t)), reflected * 0.9, strength)
            let streak = Float(ValueNoise.noise(seed &+ 3, u * 5, v * 0.7))
            let gx = (px - disc.x) / glintWidth
            let glint = p.glowStrength * 0.8 * exp(-gx * gx) * smoothstep(0.2, 0.8, streak)
            colour = screen(colour * (1 + 0.05 * streak), p.glow, glint)
            blend(c, x, y, colour, alpha)
        }
    }
}
