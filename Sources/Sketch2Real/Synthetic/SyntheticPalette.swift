/// The colours of one rendering of a synthetic scene: the hidden mode of the synthetic data
/// set. A scene's geometry is the same in every palette; only these colours (and whether the
/// disc in the sky is a sun or a moon, and whether stars show) change.
public struct SyntheticPalette: Sendable, Equatable {
    public let name: String
    var skyTop: RGB, skyHorizon: RGB
    /// Exponent of the sky gradient: below 1 the horizon colour climbs higher.
    var skyCurve: Float
    var glow: RGB, glowStrength: Float
    var disc: RGB, isMoon: Bool
    /// Star brightness; 0 hides them.
    var stars: Float
    var cloudLight: RGB, cloudShadow: RGB, cloudOpacity: Float
    var rockFar: RGB, rockNear: RGB, snow: RGB
    /// Fraction of a mountain layer's relief above which snow lies: 0 covers most of it, above 1 none.
    var snowLine: Float
    var haze: RGB, hazeAmount: Float
    /// Mist pooling at the foot of each layer.
    var mist: Float
    var grassFar: RGB, grassNear: RGB, grassPatch: RGB
    var conifer: RGB, crowns: [RGB], trunk: RGB
    /// Snow on tree tiers and crowns.
    var treeSnow: Float
    var water: RGB, reflectivity: Float
    /// Contrast between sunlit and shaded faces.
    var light: Float

    /// The palettes in mode order. Any prefix is a set of clearly different looks, so a data set
    /// with K modes uses the first K.
    public static let catalogue: [SyntheticPalette] = [summerDay, autumn, sunset, winterNight,
                                                       springMorning, winterDay, aridSummer, mistyDawn]

    public static var names: [String] { catalogue.map(\.name) }

    /// The first `count` palettes of the catalogue.
    public static func first(_ count: Int) -> [SyntheticPalette] {
        precondition((1 ... catalogue.count).contains(count), "palette count must be 1...\(catalogue.count)")
        return Array(catalogue.prefix(count))
    }

    static let summerDay = SyntheticPalette(
        name: "summer day",
        skyTop: RGB(0.16, 0.40, 0.80), skyHorizon: RGB(0.68, 0.83, 0.96), skyCurve: 0.9,
        glow: RGB(1.0, 0.97, 0.88), glowStrength: 0.25, disc: RGB(1.0, 0.98, 0.88), isMoon: false, stars: 0,
        cloudLight: RGB(1.0, 1.0, 1.0), cloudShadow: RGB(0.70, 0.75, 0.84), cloudOpacity: 0.95,
        rockFar: RGB(0.46, 0.53, 0.64), rockNear: RGB(0.40, 0.38, 0.36), snow: RGB(0.95, 0.96, 0.98), snowLine: 0.82,
        haze: RGB(0.70, 0.81, 0.94), hazeAmount: 0.55, mist: 0.15,
        grassFar: RGB(0.38, 0.60, 0.26), grassNear: RGB(0.22, 0.47, 0.14), grassPatch: RGB(0.50, 0.64, 0.22),
        conifer: RGB(0.09, 0.27, 0.13), crowns: [RGB(0.18, 0.44, 0.13), RGB(0.27, 0.52, 0.17), RGB(0.14, 0.36, 0.11)],
        trunk: RGB(0.30, 0.20, 0.12), treeSnow: 0,
        water: RGB(0.12, 0.32, 0.50), reflectivity: 0.6, light: 0.25)

    static let autumn = SyntheticPalette(
        name: "autumn",
        skyTop: RGB(0.36, 0.52, 0.74), skyHorizon: RGB(0.88, 0.82, 0.72), skyCurve: 0.8,
        glow: RGB(1.0, 0.88, 0.66), glowStrength: 0.2, disc: RGB(1.0, 0.92, 0.72), isMoon: false, stars: 0,
        cloudLight: RGB(0.97, 0.95, 0.91), cloudShadow: RGB(0.64, 0.64, 0.68), cloudOpacity: 0.95,
        rockFar: RGB(0.54, 0.52, 0.56), rockNear: RGB(0.44, 0.37, 0.30), snow: RGB(0.93, 0.93, 0.95), snowLine: 0.72,
        haze: RGB(0.82, 0.80, 0.76), hazeAmount: 0.5, mist: 0.2,
        grassFar: RGB(0.62, 0.44, 0.19), grassNear: RGB(0.48, 0.27, 0.09), grassPatch: RGB(0.66, 0.30, 0.08),
        conifer: RGB(0.13, 0.25, 0.13), crowns: [RGB(0.86, 0.34, 0.07), RGB(0.92, 0.63, 0.12), RGB(0.68, 0.15, 0.07)],
        trunk: RGB(0.28, 0.18, 0.10), treeSnow: 0,
        water: RGB(0.20, 0.30, 0.36), reflectivity: 0.55, light: 0.22)

    static let sunset = SyntheticPalette(
        name: "sunset",
        skyTop: RGB(0.20, 0.16, 0.42), skyHorizon: RGB(1.0, 0.56, 0.24), skyCurve: 0.75,
        glow: RGB(1.0, 0.45, 0.14), glowStrength: 0.6, disc: RGB(1.0, 0.76, 0.38), isMoon: false, stars: 0,
        cloudLight: RGB(1.0, 0.62, 0.44), cloudShadow: RGB(0.44, 0.24, 0.40), cloudOpacity: 0.9,
        rockFar: RGB(0.56, 0.32, 0.46), rockNear: RGB(0.30, 0.17, 0.28), snow: RGB(1.0, 0.74, 0.64), snowLine: 0.85,
        haze: RGB(0.94, 0.50, 0.40), hazeAmount: 0.6, mist: 0.25,
        grassFar: RGB(0.30, 0.19, 0.24), grassNear: RGB(0.15, 0.09, 0.13), grassPatch: RGB(0.26, 0.15, 0.15),
        conifer: RGB(0.08, 0.05, 0.08), crowns: [RGB(0.12, 0.07, 0.10), RGB(0.16, 0.09, 0.10), RGB(0.10, 0.06, 0.09)],
        trunk: RGB(0.08, 0.05, 0.06), treeSnow: 0,
        water: RGB(0.30, 0.15, 0.25), reflectivity: 0.8, light: 0.3)

    static let winterNight = SyntheticPalette(
        name: "winter night",
        skyTop: RGB(0.015, 0.025, 0.09), skyHorizon: RGB(0.10, 0.16, 0.30), skyCurve: 1.2,
        glow: RGB(0.50, 0.60, 0.80), glowStrength: 0.12, disc: RGB(0.93, 0.93, 0.86), isMoon: true, stars: 1,
        cloudLight: RGB(0.34, 0.37, 0.48), cloudShadow: RGB(0.10, 0.12, 0.20), cloudOpacity: 0.7,
        rockFar: RGB(0.22, 0.27, 0.40), rockNear: RGB(0.15, 0.17, 0.27), snow: RGB(0.60, 0.68, 0.84), snowLine: 0.0,
        haze: RGB(0.12, 0.18, 0.32), hazeAmount: 0.45, mist: 0.2,
        grassFar: RGB(0.48, 0.56, 0.72), grassNear: RGB(0.56, 0.63, 0.78), grassPatch: RGB(0.42, 0.49, 0.65),
        conifer: RGB(0.04, 0.08, 0.10), crowns: [RGB(0.10, 0.09, 0.12), RGB(0.12, 0.10, 0.12), RGB(0.08, 0.08, 0.10)],
        trunk: RGB(0.06, 0.05, 0.06), treeSnow: 0.6,
        water: RGB(0.04, 0.06, 0.14), reflectivity: 0.7, light: 0.15)

    static let springMorning = SyntheticPalette(
        name: "spring morning",
        skyTop: RGB(0.46, 0.66, 0.90), skyHorizon: RGB(0.96, 0.88, 0.85), skyCurve: 0.8,
        glow: RGB(1.0, 0.92, 0.80), glowStrength: 0.35, disc: RGB(1.0, 0.97, 0.86), isMoon: false, stars: 0,
        cloudLight: RGB(1.0, 0.98, 0.97), cloudShadow: RGB(0.80, 0.77, 0.86), cloudOpacity: 0.9,
        rockFar: RGB(0.60, 0.62, 0.74), rockNear: RGB(0.50, 0.50, 0.57), snow: RGB(0.97, 0.97, 1.0), snowLine: 0.6,
        haze: RGB(0.92, 0.88, 0.90), hazeAmount: 0.55, mist: 0.2,
        grassFar: RGB(0.50, 0.80, 0.30), grassNear: RGB(0.36, 0.70, 0.18), grassPatch: RGB(0.70, 0.84, 0.30),
        conifer: RGB(0.17, 0.40, 0.22), crowns: [RGB(0.96, 0.70, 0.80), RGB(0.99, 0.87, 0.91), RGB(0.62, 0.82, 0.36)],
        trunk: RGB(0.36, 0.25, 0.18), treeSnow: 0,
        water: RGB(0.36, 0.56, 0.72), reflectivity: 0.55, light: 0.2)

    static let winterDay = SyntheticPalette(
        name: "winter day",
        skyTop: RGB(0.08, 0.33, 0.74), skyHorizon: RGB(0.78, 0.88, 0.98), skyCurve: 1.0,
        glow: RGB(1.0, 1.0, 1.0), glowStrength: 0.2, disc: RGB(1.0, 1.0, 0.96), isMoon: false, stars: 0,
        cloudLight: RGB(1.0, 1.0, 1.0), cloudShadow: RGB(0.74, 0.79, 0.90), cloudOpacity: 0.95,
        rockFar: RGB(0.60, 0.66, 0.78), rockNear: RGB(0.44, 0.47, 0.55), snow: RGB(0.97, 0.98, 1.0), snowLine: 0.05,
        haze: RGB(0.82, 0.88, 0.96), hazeAmount: 0.5, mist: 0.1,
        grassFar: RGB(0.88, 0.92, 0.98), grassNear: RGB(0.96, 0.97, 1.0), grassPatch: RGB(0.80, 0.85, 0.95),
        conifer: RGB(0.07, 0.21, 0.15), crowns: [RGB(0.36, 0.30, 0.28), RGB(0.41, 0.35, 0.32), RGB(0.30, 0.27, 0.26)],
        trunk: RGB(0.25, 0.20, 0.16), treeSnow: 0.55,
        water: RGB(0.66, 0.78, 0.90), reflectivity: 0.35, light: 0.25)

    static let aridSummer = SyntheticPalette(
        name: "arid summer",
        skyTop: RGB(0.26, 0.54, 0.88), skyHorizon: RGB(1.0, 0.93, 0.78), skyCurve: 0.85,
        glow: RGB(1.0, 0.90, 0.60), glowStrength: 0.3, disc: RGB(1.0, 0.95, 0.76), isMoon: false, stars: 0,
        cloudLight: RGB(1.0, 0.97, 0.92), cloudShadow: RGB(0.80, 0.72, 0.66), cloudOpacity: 0.9,
        rockFar: RGB(0.82, 0.50, 0.36), rockNear: RGB(0.72, 0.36, 0.22), snow: RGB(0.95, 0.90, 0.85), snowLine: 1.5,
        haze: RGB(0.93, 0.83, 0.67), hazeAmount: 0.5, mist: 0.1,
        grassFar: RGB(0.94, 0.83, 0.58), grassNear: RGB(0.90, 0.76, 0.48), grassPatch: RGB(0.84, 0.68, 0.40),
        conifer: RGB(0.29, 0.35, 0.17), crowns: [RGB(0.42, 0.46, 0.22), RGB(0.50, 0.50, 0.26), RGB(0.36, 0.40, 0.20)],
        trunk: RGB(0.40, 0.30, 0.20), treeSnow: 0,
        water: RGB(0.12, 0.55, 0.58), reflectivity: 0.45, light: 0.3)

    static let mistyDawn = SyntheticPalette(
        name: "misty dawn",
        skyTop: RGB(0.46, 0.42, 0.62), skyHorizon: RGB(0.80, 0.68, 0.80), skyCurve: 0.7,
        glow: RGB(1.0, 0.85, 0.80), glowStrength: 0.25, disc: RGB(1.0, 0.90, 0.86), isMoon: false, stars: 0,
        cloudLight: RGB(0.93, 0.88, 0.90), cloudShadow: RGB(0.70, 0.66, 0.74), cloudOpacity: 0.8,
        rockFar: RGB(0.52, 0.52, 0.64), rockNear: RGB(0.38, 0.38, 0.48), snow: RGB(0.84, 0.84, 0.90), snowLine: 0.8,
        haze: RGB(0.70, 0.66, 0.80), hazeAmount: 0.8, mist: 0.6,
        grassFar: RGB(0.32, 0.38, 0.40), grassNear: RGB(0.18, 0.24, 0.25), grassPatch: RGB(0.26, 0.31, 0.34),
        conifer: RGB(0.13, 0.19, 0.17), crowns: [RGB(0.24, 0.32, 0.26), RGB(0.28, 0.36, 0.28), RGB(0.20, 0.28, 0.24)],
        trunk: RGB(0.20, 0.18, 0.18), treeSnow: 0,
        water: RGB(0.48, 0.49, 0.58), reflectivity: 0.65, light: 0.12)
}
