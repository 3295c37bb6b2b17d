import Foundation

/// The numeric series of a run's log.jsonl: losses, learning rate and validation L1 by step.
public struct TrainingLog: Sendable {
    /// Values by key, in step order.
    public let series: [String: [(step: Double, value: Double)]]

    /// Keys that describe the run's progress rather than its losses.
    static let bookkeeping: Set<String> = ["step", "epoch", "seconds", "steps_per_second", "allreduce_seconds"]
    /// Plot order of the keys training writes; others follow alphabetically.
    static let preferredOrder = ["G_total", "G_GAN", "G_L1", "G_perceptual", "G_FM", "D", "val_L1", "lr"]

    public init(series: [String: [(step: Double, value: Double)]]) { self.series = series }

    /// Reads log.jsonl; lines that are not JSON objects with a numeric "step" are skipped.
    public static func read(path: String) throws -> TrainingLog {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        var series: [String: [(step: Double, value: Double)]] = [:]
        for line in text.split(separator: "\n") {
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                  let step = (object["step"] as? NSNumber)?.doubleValue else { continue }
            for (key, value) in object where !bookkeeping.contains(key) {
                guard let number = value as? NSNumber else { continue }
                let v = number.doubleValue
                if v.isFinite { series[key, default: []].append((step, v)) }
            }
        }
        return TrainingLog(series: series.mapValues { $0.sorted { $0.step < $1.step } })
    }

    /// The last step the log records a value for; nil for an empty log.
    public var lastStep: Int? { series.values.compactMap { $0.last.map { Int($0.step) } }.max() }

    /// Keys in plot order.
    public var keys: [String] {
        Self.preferredOrder.filter { series[$0] != nil } + series.keys.filter { !Self.preferredOrder.contains($0) }.sorted()
    }
}
