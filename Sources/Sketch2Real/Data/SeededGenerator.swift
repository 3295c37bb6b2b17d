extension SplitMix64 {
    /// A generator for a tuple of identifiers, e.g. (seed, epoch, sample): data order and
    /// augmentation are then pure functions of the identifiers, and survive a resume.
    public init(_ parts: UInt64...) {
        var s: UInt64 = 0x9E37_79B9_7F4A_7C15
        for p in parts { s = Self.mix(s ^ Self.mix(p)) }
        self.init(seed: s)
    }
}
