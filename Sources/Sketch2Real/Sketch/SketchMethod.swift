/// The ways this program turns photos into sketches.
public enum SketchMethod: String, CaseIterable, Codable, Sendable, CustomStringConvertible {
    /// HED edges post-processed as for edges2shoes and edges2handbags: the closest match to those datasets.
    case hed
    /// Extended difference of Gaussians: fast, no weights, softer lines that follow texture more.
    case xdog
    /// Canny edges: fast, no weights, thin lines on every intensity step.
    case canny

    public var description: String { rawValue }

    /// An extractor with this method's default settings. `hedWeights` overrides where HED's
    /// weights are read (see `HEDWeights.resolvePath`).
    public func makeExtractor(hedWeights: String? = nil) throws -> any SketchExtractor {
        switch self {
        case .hed: try HEDSketch(weightsPath: hedWeights)
        case .xdog: XDoGSketch()
        case .canny: CannySketch()
        }
    }
}
