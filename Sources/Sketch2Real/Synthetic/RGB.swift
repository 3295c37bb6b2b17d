/// A linear blend-friendly sRGB colour with components in [0, 1]. Palettes and the renderer
/// mix colours in sRGB directly: the scenes are stylised, and this keeps every palette's
/// colours exactly as written in its table.
public struct RGB: Sendable, Equatable {
    public var r: Float, g: Float, b: Float

    public init(_ r: Float, _ g: Float, _ b: Float) {
        self.r = r
        self.g = g
        self.b = b
    }

    @inline(__always)
    static func + (a: RGB, b: RGB) -> RGB { RGB(a.r + b.r, a.g + b.g, a.b + b.b) }
    @inline(__always)
    static func * (a: RGB, s: Float) -> RGB { RGB(a.r * s, a.g * s, a.b * s) }
    @inline(__always)
    static func * (a: RGB, b: RGB) -> RGB { RGB(a.r * b.r, a.g * b.g, a.b * b.b) }

    /// `a` at t = 0, `b` at t = 1.
    @inline(__always)
    static func mix(_ a: RGB, _ b: RGB, _ t: Float) -> RGB {
        RGB(a.r + (b.r - a.r) * t, a.g + (b.g - a.g) * t, a.b + (b.b - a.b) * t)
    }
}
