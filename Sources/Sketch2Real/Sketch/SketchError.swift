/// A sketch extractor that cannot run: missing or unusable weights, an unusable photo or setting.
public struct SketchError: Error, CustomStringConvertible, Equatable, Sendable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
