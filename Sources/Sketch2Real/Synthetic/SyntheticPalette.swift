/// The colours of one rendering of a synthetic scene: the hidden mode of the synthetic data
/// set. A scene's geometry is the same in every palette; only these colours (and whether the
/// disc in the sky is a sun or a moon, and whether stars show) change.
public struct SyntheticPalette: Sendable, Equatable {
    public let name: String
    var skyTop: PaletteColor, skyHorizon: PaletteColor
    /// Exponent of the sky gradient: below 1 the horizon colour climbs higher.
    var skyCurve: Float
    var glow: PaletteColor, glowStrength: Float
    var disc: PaletteColor, isMoon: Bool
    /// Star brightness; 0 hides them.
    var stars: Float
    var cloudLight: PaletteColor, cloudShadow: PaletteColor, cloudOpacity: Float
    var rockFar: PaletteColor, rockNear: PaletteColor, snow: PaletteColor
    /// Fraction of a mountain layer's relief above which snow lies: 0 covers most of it, above 1 none.
    var snowLine: Float
    var haze: PaletteColor, hazeAmount: Float
    /// Mist pooling at the foot of each layer.
    var mist: Float
    var grassFar: PaletteColor, grassNear: PaletteColor, grassPatch: PaletteColor
    var conifer: PaletteColor, crowns: [PaletteColor], trunk: PaletteColor
    /// Snow on tree tiers and crowns.
    var treeSnow: Float
    var water: PaletteColor, reflectivity: Float
    /// Contrast between sunlit and shaded faces.
    var light: Float

    private static func rgb(_ r: Float, _ g: Float, _ b: Float) -> PaletteColor { PaletteColor(r, g, b) }

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
        skyTop: rgb(0.16, 0.40, 0.80), skyHorizon: rgb(0.68, 0.83, 0.96), skyCurve: 0.9,
        glow: rgb(1.0, 0.97, 0.88), glowStrength: 0.25, disc: rgb(1.0, 0.98, 0.88), isMoon: false, stars: 0,
        cloudLight: rgb(1.0, 1.0, 1.0), cloudShadow: rgb(0.70, 0.75, 0.84), cloudOpacity: 0.95,
        rockFar: rgb(0.46, 0.53, 0.64), rockNear: rgb(0.40, 0.38, 0.36), snow: rgb(0.95, 0.96, 0.98), snowLine: 0.82,
        haze: rgb(0.70, 0.81, 0.94), hazeAmount: 0.55, mist: 0.15,
        grassFar: rgb(0.38, 0.60, 0.26), grassNear: rgb(0.22, 0.47, 0.14), grassPatch: rgb(0.50, 0.64, 0.22),
        conifer: rgb(0.09, 0.27, 0.13), crowns: [rgb(0.18, 0.44, 0.13), rgb(0.27, 0.52, 0.17), rgb(0.14, 0.36, 0.11)],
        trunk: rgb(0.30, 0.20, 0.12), treeSnow: 0,
        water: rgb(0.12, 0.32, 0.50), reflectivity: 0.6, light: 0.25)

    static let autumn = SyntheticPalette(
        name: "autumn",
        skyTop: rgb(0.36, 0.52, 0.74), skyHorizon: rgb(0.88, 0.82, 0.72), skyCurve: 0.8,
        glow: rgb(1.0, 0.88, 0.66), glowStrength: 0.2, disc: rgb(1.0, 0.92, 0.72), isMoon: false, stars: 0,
        cloudLight: rgb(0.97, 0.95, 0.91), cloudShadow: rgb(0.64, 0.64, 0.68), cloudOpacity: 0.95,
        rockFar: rgb(0.54, 0.52, 0.56), rockNear: rgb(0.44, 0.37, 0.30), snow: rgb(0.93, 0.93, 0.95), snowLine: 0.72,
        haze: rgb(0.82, 0.80, 0.76), hazeAmount: 0.5, mist: 0.2,
        grassFar: rgb(0.62, 0.44, 0.19), grassNear: rgb(0.48, 0.27, 0.09), grassPatch: rgb(0.66, 0.30, 0.08),
        conifer: rgb(0.13, 0.25, 0.13), crowns: [rgb(0.86, 0.34, 0.07), rgb(0.92, 0.63, 0.12), rgb(0.68, 0.15, 0.07)],
        trunk: rgb(0.28, 0.18, 0.10), treeSnow: 0,
        water: rgb(0.20, 0.30, 0.36), reflectivity: 0.55, light: 0.22)

    static let sunset = SyntheticPalette(
        name: "sunset",
        skyTop: rgb(0.20, 0.16, 0.42), skyHorizon: rgb(1.0, 0.56, 0.24), skyCurve: 0.75,
        glow: rgb(1.0, 0.45, 0.14), glowStrength: 0.6, disc: rgb(1.0, 0.76, 0.38), isMoon: false, stars: 0,
        cloudLight: rgb(1.0, 0.62, 0.44), cloudShadow: rgb(0.44, 0.24, 0.40), cloudOpacity: 0.9,
        rockFar: rgb(0.56, 0.32, 0.46), rockNear: rgb(0.30, 0.17, 0.28), snow: rgb(1.0, 0.74, 0.64), snowLine: 0.85,
        haze: rgb(0.94, 0.50, 0.40), hazeAmount: 0.6, mist: 0.25,
        grassFar: rgb(0.30, 0.19, 0.24), grassNear: rgb(0.15, 0.09, 0.13), grassPatch: rgb(0.26, 0.15, 0.15),
        conifer: rgb(0.08, 0.05, 0.08), crowns: [rgb(0.12, 0.07, 0.10), rgb(0.16, 0.09, 0.10), rgb(0.10, 0.06, 0.09)],
        trunk: rgb(0.08, 0.05, 0.06), treeSnow: 0,
        water: rgb(0.30, 0.15, 0.25), reflectivity: 0.8, light: 0.3)

    static let winterNight = SyntheticPalette(
        name: "winter night",
        skyTop: rgb(0.015, 0.025, 0.09), skyHorizon: rgb(0.10, 0.16, 0.30), skyCurve: 1.2,
        glow: rgb(0.50, 0.60, 0.80), glowStrength: 0.12, disc: rgb(0.93, 0.93, 0.86), isMoon: true, stars: 1,
        cloudLight: rgb(0.34, 0.37, 0.48), cloudShadow: rgb(0.10, 0.12, 0.20), cloudOpacity: 0.7,
        rockFar: rgb(0.22, 0.27, 0.40), rockNear: rgb(0.15, 0.17, 0.27), snow: rgb(0.60, 0.68, 0.84), snowLine: 0.0,
        haze: rgb(0.12, 0.18, 0.32), hazeAmount: 0.45, mist: 0.2,
        grassFar: rgb(0.48, 0.56, 0.72), grassNear: rgb(0.56, 0.63, 0.78), grassPatch: rgb(0.42, 0.49, 0.65),
        conifer: rgb(0.04, 0.08, 0.10), crowns: [rgb(0.10, 0.09, 0.12), rgb(0.12, 0.10, 0.12), rgb(0.08, 0.08, 0.10)],
        trunk: rgb(0.06, 0.05, 0.06), treeSnow: 0.6,
        water: rgb(0.04, 0.06, 0.14), reflectivity: 0.7, light: 0.15)

    static let springMorning = SyntheticPalette(
        name: "spring morning",
        skyTop: rgb(0.46, 0.66, 0.90), skyHorizon: rgb(0.96, 0.88, 0.85), skyCurve: 0.8,
        glow: rgb(1.0, 0.92, 0.80), glowStrength: 0.35, disc: rgb(1.0, 0.97, 0.86), isMoon: false, stars: 0,
        cloudLight: rgb(1.0, 0.98, 0.97), cloudShadow: rgb(0.80, 0.77, 0.86), cloudOpacity: 0.9,
        rockFar: rgb(0.60, 0.62, 0.74), rockNear: rgb(0.50, 0.50, 0.57), snow: rgb(0.97, 0.97, 1.0), snowLine: 0.6,
        haze: rgb(0.92, 0.88, 0.90), hazeAmount: 0.55, mist: 0.2,
        grassFar: rgb(0.50, 0.80, 0.30), grassNear: rgb(0.36, 0.70, 0.18), grassPatch: rgb(0.70, 0.84, 0.30),
        conifer: rgb(0.17, 0.40, 0.22), crowns: [rgb(0.96, 0.70, 0.80), rgb(0.99, 0.87, 0.91), rgb(0.62, 0.82, 0.36)],
        trunk: rgb(0.36, 0.25, 0.18), treeSnow: 0,
        water: rgb(0.36, 0.56, 0.72), reflectivity: 0.55, light: 0.2)

    static let winterDay = SyntheticPalette(
        name: "winter day",
        skyTop: rgb(0.08, 0.33, 0.74), skyHorizon: rgb(0.78, 0.88, 0.98), skyCurve: 1.0,
        glow: rgb(1.0, 1.0, 1.0), glowStrength: 0.2, disc: rgb(1.0, 1.0, 0.96), isMoon: false, stars: 0,
        cloudLight: rgb(1.0, 1.0, 1.0), cloudShadow: rgb(0.74, 0.79, 0.90), cloudOpacity: 0.95,
        rockFar: rgb(0.60, 0.66, 0.78), rockNear: rgb(0.44, 0.47, 0.55), snow: rgb(0.97, 0.98, 1.0), snowLine: 0.05,
        haze: rgb(0.82, 0.88, 0.96), hazeAmount: 0.5, mist: 0.1,
        grassFar: rgb(0.88, 0.92, 0.98), grassNear: rgb(0.96, 0.97, 1.0), grassPatch: rgb(0.80, 0.85, 0.95),
        conifer: rgb(0.07, 0.21, 0.15), crowns: [rgb(0.36, 0.30, 0.28), rgb(0.41, 0.35, 0.32), rgb(0.30, 0.27, 0.26)],
        trunk: rgb(0.25, 0.20, 0.16), treeSnow: 0.55,
        water: rgb(0.66, 0.78, 0.90), reflectivity: 0.35, light: 0.25)

    static let aridSummer = SyntheticPalette(
        name: "arid summer",
        skyTop: rgb(0.26, 0.54, 0.88), skyHorizon: rgb(1.0, 0.93, 0.78), skyCurve: 0.85,
        glow: rgb(1.0, 0.90, 0.60), glowStrength: 0.3, disc: rgb(1.0, 0.95, 0.76), isMoon: false, stars: 0,
        cloudLight: rgb(1.0, 0.97, 0.92), cloudShadow: rgb(0.80, 0.72, 0.66), cloudOpacity: 0.9,
        rockFar: rgb(0.82, 0.50, 0.36), rockNear: rgb(0.72, 0.36, 0.22), snow: rgb(0.95, 0.90, 0.85), snowLine: 1.5,
        haze: rgb(0.93, 0.83, 0.67), hazeAmount: 0.5, mist: 0.1,
        grassFar: rgb(0.94, 0.83, 0.58), grassNear: rgb(0.90, 0.76, 0.48), grassPatch: rgb(0.84, 0.68, 0.40),
        conifer: rgb(0.29, 0.35, 0.17), crowns: [rgb(0.42, 0.46, 0.22), rgb(0.50, 0.50, 0.26), rgb(0.36, 0.40, 0.20)],
        trunk: rgb(0.40, 0.30, 0.20), treeSnow: 0,
        water: rgb(0.12, 0.55, 0.58), reflectivity: 0.45, light: 0.3)

    static let mistyDawn = SyntheticPalette(
        name: "misty dawn",
        skyTop: rgb(0.46, 0.42, 0.62), skyHorizon: rgb(0.80, 0.68, 0.80), skyCurve: 0.7,
        glow: rgb(1.0, 0.85, 0.80), glowStrength: 0.25, disc: rgb(1.0, 0.90, 0.86), isMoon: false, stars: 0,
        cloudLight: rgb(0.93, 0.88, 0.90), cloudShadow: rgb(0.70, 0.66, 0.74), cloudOpacity: 0.8,
        rockFar: rgb(0.52, 0.52, 0.64), rockNear: rgb(0.38, 0.38, 0.48), snow: rgb(0.84, 0.84, 0.90), snowLine: 0.8,
        haze: rgb(0.70, 0.66, 0.80), hazeAmount: 0.8, mist: 0.6,
        grassFar: rgb(0.32, 0.38, 0.40), grassNear: rgb(0.18, 0.24, 0.25), grassPatch: rgb(0.26, 0.31, 0.34),
        conifer: rgb(0.13, 0.19, 0.17), crowns: [rgb(0.24, 0.32, 0.26), rgb(0.28, 0.36, 0.28), rgb(0.20, 0.28, 0.24)],
        trunk: rgb(0.20, 0.18, 0.18), treeSnow: 0,
        water: rgb(0.48, 0.49, 0.58), reflectivity: 0.65, light: 0.12)
}
