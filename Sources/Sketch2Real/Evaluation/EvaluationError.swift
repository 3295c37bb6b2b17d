/// Evaluation that cannot run as asked: missing weights, too few images, inconsistent runs.
public struct EvaluationError: Error, CustomStringConvertible, Equatable, Sendable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
