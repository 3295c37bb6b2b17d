/// The geometry of one procedural landscape: a pure function of its seed. Coordinates are in
/// units of the (square) image side, x to the right and y downwards from the top-left corner,
/// so one scene renders at any size. Colours are not part of a scene: the same scene renders in
/// every `SyntheticPalette`, and its line sketch is the same for all of them.
public struct SyntheticScene: Sendable {
    public let seed: UInt64
    /// Where sky meets land or water.
    let horizon: Double
    let disc: Disc
    let clouds: [Cloud]
    /// Back to front. With a lake, the first `layersBehindLake` lie behind the water and are
    /// mirrored in it; the rest stand in front of it.
    let ridges: [Ridge]
    let lake: Bool
    let layersBehindLake: Int
    let stars: [Star]
    /// A slight per-scene colour cast so that renderings of one palette are not all identical in
    /// tone; small enough that palettes stay far apart.
    let tint: PaletteColor

    public var hasLake: Bool { lake }
    public var treeCount: Int { ridges.reduce(0) { $0 + $1.trees.count } }

    struct Disc: Sendable { let x, y, radius: Double }

    struct Star: Sendable { let x, y, brightness: Double }

    /// Cumulus: a row of overlapping circles (puffs) cut by a flat base.
    struct Cloud: Sendable {
        struct Puff: Sendable { let x, y, radius: Double }
        let puffs: [Puff]
        let base: Double
    }

    struct Tree: Sendable {
        enum Kind: Sendable { case conifer, deciduous }
        let kind: Kind
        let x: Double
        /// Where the trunk meets the ground.
        let baseY: Double
        let height: Double
        let width: Double
        /// Conifer tiers, 2 to 4.
        let tiers: Int
        /// 0 ..< 1, picks among a palette's crown colours and varies their shade.
        let variant: Double
    }

    /// A heightfield layer: land from `y(at:)` down to the bottom of the image.
    struct Ridge: Sendable {
        enum Kind: Sendable { case mountain, hill }
        enum Bank: Sendable { case none, left(extent: Double, height: Double), right(extent: Double, height: Double) }
        let kind: Kind
        /// The lowest the ridge line gets (before any bank); it rises up to `amplitude` above.
        let base: Double
        let amplitude: Double
        let frequency: Double
        let phase: Double
        let noiseSeed: UInt64
        /// 0 for the farthest layer, 1 for the nearest: drives haze and colour.
        let depth: Double
        let bank: Bank
        var trees: [Tree] = []
        /// The raw profile's range across the picture, so that `amplitude` is the true relief.
        private var lowest = 0.0, range = 1.0

        init(kind: Kind, base: Double, amplitude: Double, frequency: Double, phase: Double, noiseSeed: UInt64,
             depth: Double, bank: Bank) {
            self.kind = kind
            self.base = base
            self.amplitude = amplitude
            self.frequency = frequency
            self.phase = phase
            self.noiseSeed = noiseSeed
            self.depth = depth
            self.bank = bank
            let samples = (0 ... 200).map { profile(Double($0) / 200) }
            lowest = samples.min()!
            range = max(samples.max()! - lowest, 1e-6)
        }

        func profile(_ x: Double) -> Double {
            let u = x * frequency + phase
            switch kind {
            case .mountain:
                // A slow envelope makes one or two dominant massifs instead of even teeth.
                let envelope = 0.45 + 0.55 * ValueNoise.noise(noiseSeed &+ 101, u * 0.35)
                return ValueNoise.ridged(noiseSeed, u, octaves: 6) * envelope
            case .hill:
                return ValueNoise.fractal(noiseSeed, u, octaves: 4)
            }
        }

        func y(at x: Double) -> Double {
            let lift = (profile(x) - lowest) / range
            var y = base - amplitude * lift
            switch bank {
            case .none: break
            case .left(let extent, let height): y -= height * Self.headland(1 - x / extent)
            case .right(let extent, let height): y -= height * Self.headland(1 - (1 - x) / extent)
            }
            return y
        }

        /// 0 at and below 0, 1 at and beyond 1: steep where it leaves the water and rounded on
        /// top, the profile of a headland seen from the side.
        static func headland(_ t: Double) -> Double {
            let s = min(max(t, 0), 1)
            let r = 1 - s
            return 1 - r * r * r
        }
    }

    public init(seed: UInt64) {
        self.seed = seed
        var rng = SplitMix64(seed: seed)
        let lake = rng.chance(0.55)
        let horizon = rng.uniform(0.56, 0.68)
        self.horizon = horizon
        self.lake = lake
        disc = Disc(x: rng.uniform(0.12, 0.88), y: rng.uniform(0.10, 0.30), radius: rng.uniform(0.032, 0.055))

        var clouds: [Cloud] = []
        for _ in 0 ..< rng.int(in: 1 ... 4) {
            let width = rng.uniform(0.14, 0.36)
            let left = rng.uniform(-0.12, 1.12 - width)
            let base = rng.uniform(0.12, 0.36)
            let n = rng.int(in: 5 ... 9)
            var puffs: [Cloud.Puff] = []
            // A row of overlapping puffs along the base, then a few higher ones on the middle
            // ones: the heaped outline of cumulus.
            for i in 0 ..< n {
                let t = Double(i) / Double(n - 1)
                let bulge = 1 - 0.5 * abs(2 * t - 1)
                let r = width * rng.uniform(0.13, 0.2) * bulge + 0.006
                puffs.append(Cloud.Puff(x: left + width * t + rng.uniform(-0.015, 0.015),
                                        y: base - r * rng.uniform(0.2, 0.6), radius: r))
            }
            for _ in 0 ..< rng.int(in: 1 ... 3) {
                let t = rng.uniform(0.25, 0.75)
                let r = width * rng.uniform(0.14, 0.22)
                puffs.append(Cloud.Puff(x: left + width * t, y: base - r * rng.uniform(1.0, 1.5), radius: r))
            }
            clouds.append(Cloud(puffs: puffs, base: base))
        }
        self.clouds = clouds

        var ridges: [Ridge] = []
        let mountains = rng.int(in: 1 ... 3)
        for i in 0 ..< mountains {
            let fromBack = Double(mountains - 1 - i)
            ridges.append(Ridge(kind: .mountain,
                                base: horizon - 0.015 - 0.05 * fromBack,
                                amplitude: rng.uniform(0.1, 0.3) - 0.03 * Double(i),
                                frequency: rng.uniform(1.2, 2.6), phase: rng.uniform(0, 100),
                                noiseSeed: rng.next(), depth: 0.12 + 0.28 * Double(i) / Double(max(mountains - 1, 1)),
                                bank: .none))
        }
        let coniferShare = rng.unit()
        if lake {
            if rng.chance(0.7) {
                var shore = Ridge(kind: .hill, base: horizon + 0.003, amplitude: rng.uniform(0.008, 0.025),
                                  frequency: rng.uniform(2, 5), phase: rng.uniform(0, 100), noiseSeed: rng.next(),
                                  depth: 0.5, bank: .none)
                shore.trees = Self.forest(on: shore, count: rng.int(in: 6 ... 26), clusters: rng.int(in: 1 ... 3),
                                          height: 0.018 ... 0.045, coniferShare: max(coniferShare, 0.6), rng: &rng)
                ridges.append(shore)
            }
            layersBehindLake = ridges.count
            let sides = rng.int(in: 0 ... 2)  // 0 left, 1 right, 2 both
            for side in 0 ..< 2 where sides == 2 || sides == side {
                let extent = rng.uniform(0.3, 0.7)
                let top = horizon + rng.uniform(-0.1, 0.1)
                let base = 1.06
                let amplitude = rng.uniform(0.02, 0.05)
                var bank = Ridge(kind: .hill, base: base, amplitude: amplitude,
                                 frequency: rng.uniform(1.5, 3.5), phase: rng.uniform(0, 100), noiseSeed: rng.next(),
                                 depth: 0.8 + 0.1 * Double(side),
                                 bank: side == 0 ? .left(extent: extent, height: base - amplitude * 0.5 - top)
                                                 : .right(extent: extent, height: base - amplitude * 0.5 - top))
                let xs = side == 0 ? 0.0 ... extent * 0.75 : 1 - extent * 0.75 ... 1.0
                bank.trees = Self.scattered(on: bank, count: rng.int(in: 1 ... 6), xs: xs,
                                            height: 0.07 ... 0.2, coniferShare: coniferShare, rng: &rng)
                ridges.append(bank)
            }
            if rng.chance(0.6) {
                ridges.append(Ridge(kind: .hill, base: rng.uniform(0.93, 1.0), amplitude: rng.uniform(0.03, 0.08),
                                    frequency: rng.uniform(1, 3), phase: rng.uniform(0, 100), noiseSeed: rng.next(),
                                    depth: 1, bank: .none))
            }
        } else {
            layersBehindLake = 0
            let hills = rng.int(in: 2 ... 3)
            for j in 0 ..< hills {
                let t = Double(j) / Double(hills - 1)
                var hill = Ridge(kind: .hill, base: horizon + 0.03 + (0.9 - horizon - 0.03) * t * 0.85,
                                 amplitude: rng.uniform(0.03, 0.09), frequency: rng.uniform(1, 2.5),
                                 phase: rng.uniform(0, 100), noiseSeed: rng.next(), depth: 0.5 + 0.5 * t, bank: .none)
                let lo = 0.025 + 0.1 * t * t, hi = 0.05 + 0.16 * t * t
                let count = j == hills - 1 ? rng.int(in: 0 ... 5) : rng.int(in: 3 ... 16)
                hill.trees = j == 0
                    ? Self.forest(on: hill, count: count, clusters: rng.int(in: 1 ... 3), height: lo ... hi,
                                  coniferShare: coniferShare, rng: &rng)
                    : Self.scattered(on: hill, count: count, xs: -0.05 ... 1.05, height: lo ... hi,
                                     coniferShare: coniferShare, rng: &rng)
                ridges.append(hill)
            }
        }
        self.ridges = ridges

        var stars: [Star] = []
        for _ in 0 ..< 90 {
            stars.append(Star(x: rng.unit(), y: rng.uniform(0, horizon), brightness: rng.uniform(0.25, 1)))
        }
        self.stars = stars
        tint = PaletteColor(Float(rng.uniform(0.96, 1.04)), Float(rng.uniform(0.97, 1.03)), Float(rng.uniform(0.96, 1.04)))
    }

    /// Trees gathered around a few centres, the way woods grow.
    static func forest(on ridge: Ridge, count: Int, clusters: Int, height: ClosedRange<Double>,
                       coniferShare: Double, rng: inout SplitMix64) -> [Tree] {
        let centres = (0 ..< clusters).map { _ in rng.uniform(0.05, 0.95) }
        let spread = rng.uniform(0.05, 0.18)
        var xs: [Double] = []
        for i in 0 ..< count {
            xs.append(centres[i % clusters] + spread * (rng.unit() + rng.unit() - 1))
        }
        return plant(on: ridge, xs: xs, height: height, coniferShare: coniferShare, rng: &rng)
    }

    static func scattered(on ridge: Ridge, count: Int, xs range: ClosedRange<Double>, height: ClosedRange<Double>,
                          coniferShare: Double, rng: inout SplitMix64) -> [Tree] {
        let xs = (0 ..< count).map { _ in rng.uniform(range.lowerBound, range.upperBound) }
        return plant(on: ridge, xs: xs, height: height, coniferShare: coniferShare, rng: &rng)
    }

    /// Trees rooted slightly below the ridge line, sorted far (higher in the picture) to near so
    /// that nearer trunks overlap farther crowns.
    static func plant(on ridge: Ridge, xs: [Double], height: ClosedRange<Double>, coniferShare: Double,
                      rng: inout SplitMix64) -> [Tree] {
        var trees: [Tree] = []
        for x in xs {
            let conifer = rng.chance(coniferShare)
            let h = rng.uniform(height.lowerBound, height.upperBound)
            let w = h * (conifer ? rng.uniform(0.34, 0.5) : rng.uniform(0.55, 0.8))
            let tiers = rng.int(in: 2 ... 4)
            let variant = rng.unit()
            let baseY = ridge.y(at: x) + h * 0.06
            guard baseY < 1.0 else { continue }
            trees.append(Tree(kind: conifer ? .conifer : .deciduous, x: x, baseY: baseY, height: h, width: w,
                              tiers: tiers, variant: variant))
        }
        return trees.sorted { $0.baseY < $1.baseY }
    }
}
