/// The pictures of a report: for the first sketches of the split, the sketch, its target and
/// each model's output (or first samples, for a multimodal model).
public struct EvaluationPictures {
    public struct Row {
        /// The pair's file, for captions.
        public let caption: String
        public let input: Image
        public let target: Image
        /// Per model, in the order of the report's models: its output, or its first samples.
        public var outputs: [[Image]]
    }

    public var models: [String]
    public var rows: [Row]

    public init(models: [String] = [], rows: [Row] = []) {
        self.models = models
        self.rows = rows
    }

    /// All rows as one picture: sketch | target | outputs of every model.
    public func grid() -> Image? {
        guard !rows.isEmpty else { return nil }
        return ImageGrid.make(rows.map { [$0.input, $0.target] + $0.outputs.flatMap { $0 } })
    }
}
