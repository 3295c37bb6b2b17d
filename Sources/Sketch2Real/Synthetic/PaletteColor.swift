/// An sRGB colour with components in [0, 1]. Palettes and the renderer
/// mix colours in sRGB directly: the scenes are stylised, and this keeps every palette's
/// colours exactly as written in its table.
struct PaletteColor: Sendable, Equatable {
    var r: Float, g: Float, b: Float

    init(_ r: Float, _ g: Float, _ b: Float) {
        self.r = r
        self.g = g
        self.b = b
    }

    @inline(__always)
    static func + (a: PaletteColor, b: PaletteColor) -> PaletteColor { PaletteColor(a.r + b.r, a.g + b.g, a.b + b.b) }
    @inline(__always)
    static func * (a: PaletteColor, s: Float) -> PaletteColor { PaletteColor(a.r * s, a.g * s, a.b * s) }
    @inline(__always)
    static func * (a: PaletteColor, b: PaletteColor) -> PaletteColor { PaletteColor(a.r * b.r, a.g * b.g, a.b * b.b) }

    /// `a` at t = 0, `b` at t = 1.
    @inline(__always)
    static func mix(_ a: PaletteColor, _ b: PaletteColor, _ t: Float) -> PaletteColor {
        PaletteColor(a.r + (b.r - a.r) * t, a.g + (b.g - a.g) * t, a.b + (b.b - a.b) * t)
    }
}
