import Foundation

/// Known-mode coverage on the synthetic landscapes, where every sketch has `modes` true
/// colourings: the palette classifier labels each generated sample, and
/// - modes reached per sketch: distinct labels among a sketch's samples ÷ `modes`, averaged
///   over sketches (1 = every colouring appears; a one-to-one model reaches at most 1/modes);
/// - the histogram of labels over all samples, and its KL divergence from and Jensen–Shannon
///   divergence with the uniform distribution (natural log; 0 = every palette equally often).
public struct KnownModeCoverage: Codable, Sendable, Equatable {
    public let modes: Int
    public let sketches: Int
    public let samplesPerSketch: Int
    public let modesReachedPerSketch: Double
    public let histogram: [Double]
    public let klFromUniform: Double
    public let jsFromUniform: Double

    /// `labels[s]` are the palette labels of sketch s's samples.
    public init(labels: [[Int]], modes: Int) throws {
        guard !labels.isEmpty, labels.allSatisfy({ !$0.isEmpty }) else {
            throw EvaluationError("known-mode coverage needs at least one sample per sketch")
        }
        guard labels.joined().allSatisfy({ (0 ..< modes).contains($0) }) else {
            throw EvaluationError("palette labels must lie in 0..<\(modes)")
        }
        self.modes = modes
        sketches = labels.count
        samplesPerSketch = labels.map(\.count).max()!
        modesReachedPerSketch = labels.map { Double(Set($0).count) / Double(modes) }.reduce(0, +) / Double(labels.count)
        var counts = [Double](repeating: 0, count: modes)
        for l in labels.joined() { counts[l] += 1 }
        let total = counts.reduce(0, +)
        histogram = counts.map { $0 / total }
        let uniform = [Double](repeating: 1 / Double(modes), count: modes)
        klFromUniform = StatisticallyDifferentBins.kullbackLeibler(histogram, uniform)
        jsFromUniform = StatisticallyDifferentBins.jensenShannon(histogram, uniform)
    }
}
