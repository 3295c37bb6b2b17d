/// SplitMix64 (Steele, Lea and Flood, 2014): a tiny, fast generator whose sequence is fixed by
/// its published algorithm. Synthetic data uses it instead of libtorch's generator or Swift's
/// system generator so that a scene is a pure function of its seed, on every platform and in
/// every thread, whatever else the program has drawn.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    public private(set) var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        return Self.mix(state)
    }

    /// The generator's output function: a strong 64-bit bijective hash, also used to derive
    /// independent seeds (`mix(seed ^ mix(index))`) and lattice values for noise.
    @inline(__always)
    public static func mix(_ value: UInt64) -> UInt64 {
        var z = value
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [0, 1) from the top 53 bits. Swift's `Double.random(in:using:)` is avoided on
    /// purpose: its mapping from bits to values is not part of the language's guarantees.
    public mutating func unit() -> Double {
        Double(next() >> 11) * 0x1.0p-53
    }

    public mutating func uniform(_ low: Double, _ high: Double) -> Double {
        low + (high - low) * unit()
    }

    /// Uniform in `range` (inclusive).
    public mutating func int(in range: ClosedRange<Int>) -> Int {
        range.lowerBound + Int(unit() * Double(range.count))
    }

    public mutating func chance(_ probability: Double) -> Bool {
        unit() < probability
    }
}
