import Foundation

/// Which way a metric improves.
public enum MetricDirection: String, Codable, Sendable {
    case lower, higher
    /// A ratio to the photos' own value: closest to 1 is best.
    case nearOne
    public var arrow: String {
        switch self {
        case .lower: "↓"
        case .higher: "↑"
        case .nearOne: "→1"
        }
    }
    public var explanation: String {
        switch self {
        case .lower: "lower is better"
        case .higher: "higher is better"
        case .nearOne: "closest to 1 is best"
        }
    }
}

/// One number of a results table, with its name, direction and, where it cannot be computed,
/// the reason in place of a value.
public struct Metric: Codable, Sendable, Equatable {
    /// Stable identifier, e.g. "fd_hed_vgg16".
    public let key: String
    /// What tables show, e.g. "FD (HED-VGG16)".
    public let label: String
    public let value: Double?
    /// Spread where the metric has one (KID over subsets, diversity over pairs, per-image std).
    public let std: Double?
    /// Shown instead of a value, e.g. "n/a (one-to-one model)".
    public let text: String?
    public let better: MetricDirection
    /// How to read the value.
    public let note: String?
    /// Counts are shown without decimals.
    public let isCount: Bool

    public init(key: String, label: String, value: Double?, std: Double? = nil, text: String? = nil,
                better: MetricDirection, note: String? = nil, isCount: Bool = false) {
        self.isCount = isCount
        self.key = key
        self.label = label
        self.value = value
        self.std = std
        self.text = text
        self.better = better
        self.note = note
    }

    public static func unavailable(key: String, label: String, reason: String, better: MetricDirection) -> Metric {
        Metric(key: key, label: label, value: nil, text: reason, better: better)
    }

    /// The value as tables show it.
    public var formatted: String {
        guard let value else { return text ?? "n/a" }
        if isCount { return String(Int(value.rounded())) }
        let digits = Swift.abs(value) >= 100 ? 2 : Swift.abs(value) >= 1 ? 3 : 4
        var s = String(format: "%.\(digits)f", value)
        if let std { s += String(format: " ± %.\(digits)f", std) }
        return s
    }
}

/// Realism numbers in one feature space.
public struct RealismResult: Codable, Sendable, Equatable {
    /// The feature network, named in every label: "HED-VGG16" or "Inception-v3".
    public let network: String
    /// Which activations, e.g. "relu5_3, global average pool, 512-d".
    public let features: String
    public let frechetDistance: Double
    public let kernelDistance: KernelDistance.Result
    public let generatedCount: Int
    public let realCount: Int
}

/// Means and standard deviations over evaluated pairs.
public struct FidelityResult: Codable, Sendable, Equatable {
    public let pairs: Int
    public let l1: Double, l1Std: Double
    public let psnr: Double, psnrStd: Double
    public let ssim: Double, ssimStd: Double
    public let lpipsStyle: Double, lpipsStyleStd: Double
}

/// Everything measured for one model.
public struct ModelEvaluation: Codable, Sendable {
    public let name: String
    public let source: String
    public let multimodal: Bool
    /// The table row, in column order.
    public let metrics: [Metric]
    public let fidelity: FidelityResult
    public let realism: [RealismResult]
    public let diversity: SampleDiversity.Result?
    public let ndb: StatisticallyDifferentBins.Result?
    public let knownModes: KnownModeCoverage?
    /// The run's configuration as JSON text, when known.
    public let configuration: String?
    public let seconds: Double
}

/// What an evaluation or comparison writes to metrics.json.
public struct EvaluationReport: Codable, Sendable {
    public var format = "sketch2real-evaluation-1"
    public let tool: String
    public let date: String
    public let data: String
    public let split: String
    public let pairs: Int
    public let sketches: Int
    public let imageSize: Int
    public let settings: EvaluationSettings
    /// Feature networks and what each metric is computed on, in words.
    public let definitions: [String: String]
    /// How far the known-mode classifier can be trusted (synthetic data only).
    public let classifier: ClassifierCheck?
    public let notes: [String]
    public let models: [ModelEvaluation]

    public struct ClassifierCheck: Codable, Sendable, Equatable {
        public let modes: Int
        public let palettes: [String]
        /// On renders of held-out scenes.
        public let validationAccuracy: Double
        /// On the real targets of the evaluated split, whose palettes the manifest gives.
        public let realTargetAccuracy: Double
        public let cache: String
    }

    public func json() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return try encoder.encode(self)
    }
}
