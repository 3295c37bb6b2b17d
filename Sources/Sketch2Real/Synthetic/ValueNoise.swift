/// Smooth value noise: random values on an integer lattice (hashed from a seed, so no tables),
/// blended with a quintic fade so that the first and second derivatives are continuous. Ridges
/// built from it have no kinks except where they are made on purpose.
enum ValueNoise {
    /// Lattice value in [-1, 1].
    @inline(__always)
    static func lattice(_ seed: UInt64, _ i: Int) -> Double {
        let h = SplitMix64.mix(seed ^ SplitMix64.mix(UInt64(bitPattern: Int64(i))))
        return Double(h >> 11) * 0x1.0p-52 - 1
    }

    /// The seed of lattice row j: 2-D lattice values are 1-D lattice values of per-row seeds.
    @inline(__always)
    static func rowSeed(_ seed: UInt64, _ j: Int) -> UInt64 {
        seed ^ SplitMix64.mix(UInt64(bitPattern: Int64(j)) &+ 0x632B_E59B_D9B4_E019)
    }

    @inline(__always)
    static func fade(_ t: Double) -> Double { t * t * t * (t * (t * 6 - 15) + 10) }

    /// ⌊x⌋ without a libm call: this sits in the innermost pixel loops.
    @inline(__always)
    static func floor(_ x: Double) -> Int {
        let i = Int(x)
        return Double(i) > x ? i - 1 : i
    }

    /// One octave in 1-D, in [-1, 1].
    static func noise(_ seed: UInt64, _ x: Double) -> Double {
        let i = floor(x), t = fade(x - Double(i))
        let a = lattice(seed, i), b = lattice(seed, i + 1)
        return a + (b - a) * t
    }

    /// One octave in 2-D, in [-1, 1].
    static func noise(_ seed: UInt64, _ x: Double, _ y: Double) -> Double {
        let i = floor(x), j = floor(y)
        let tx = fade(x - Double(i)), ty = fade(y - Double(j))
        let row = rowSeed(seed, j), next = rowSeed(seed, j + 1)
        let a = lattice(row, i), b = lattice(row, i + 1)
        let c = lattice(next, i), d = lattice(next, i + 1)
        let top = a + (b - a) * tx, bottom = c + (d - c) * tx
        return top + (bottom - top) * ty
    }

    /// Fractal sum of `octaves` octaves, each twice the frequency and half the amplitude of the
    /// one before, normalised to [-1, 1].
    static func fractal(_ seed: UInt64, _ x: Double, octaves: Int) -> Double {
        var sum = 0.0, amplitude = 1.0, total = 0.0, frequency = 1.0
        for o in 0 ..< octaves {
            sum += amplitude * noise(seed &+ UInt64(o), x * frequency)
            total += amplitude
            amplitude *= 0.5
            frequency *= 2
        }
        return sum / total
    }

    static func fractal(_ seed: UInt64, _ x: Double, _ y: Double, octaves: Int) -> Double {
        var sum = 0.0, amplitude = 1.0, total = 0.0, frequency = 1.0
        for o in 0 ..< octaves {
            sum += amplitude * noise(seed &+ UInt64(o), x * frequency, y * frequency)
            total += amplitude
            amplitude *= 0.5
            frequency *= 2
        }
        return sum / total
    }

    /// Ridged fractal in [0, 1]: each octave folded (1 − |n|) so that peaks are sharp and
    /// valleys round, the profile of eroded mountains rather than of rolling hills.
    static func ridged(_ seed: UInt64, _ x: Double, octaves: Int) -> Double {
        var sum = 0.0, amplitude = 1.0, total = 0.0, frequency = 1.0
        for o in 0 ..< octaves {
            let n = 1 - abs(noise(seed &+ UInt64(o), x * frequency))
            sum += amplitude * n * n
            total += amplitude
            amplitude *= 0.45
            frequency *= 2.1
        }
        return sum / total
    }
}
