import Foundation
import Torch

/// NDB and JSD (Richardson and Weiss 2018, "On GANs and GMMs"): real samples are clustered into
/// k bins by k-means; generated samples are assigned to the nearest bin centre; a bin is
/// statistically different when a two-proportion z-test rejects equal proportions of real and
/// generated samples in it at the given significance (two-sided; pooled standard error, as the
/// authors' code). NDB counts those bins (lower is better, NDB/k is reported beside it) and JSD
/// is the Jensen–Shannon divergence, natural log, between the two bin histograms.
public struct StatisticallyDifferentBins: @unchecked Sendable {
    public struct Result: Codable, Sendable, Equatable {
        public let bins: Int
        public let differentBins: Int
        public var ndbOverK: Double { Double(differentBins) / Double(bins) }
        public let jsd: Double
        public let realCount: Int
        public let generatedCount: Int
        public let realProportions: [Double]
        public let generatedProportions: [Double]
        public let significance: Double
    }

    public let kmeans: KMeans
    public let realProportions: [Double]
    public let realCount: Int
    public let significance: Double

    /// Bins from the rows of `real` (N×D).
    public init(real: Tensor, bins: Int, seed: UInt64, significance: Double = 0.05) throws {
        let kmeans = try KMeans(real, clusters: bins, seed: seed)
        self.init(kmeans: kmeans, realAssignments: kmeans.assignments, significance: significance)
    }

    public init(kmeans: KMeans, realAssignments: [Int], significance: Double = 0.05) {
        self.kmeans = kmeans
        realCount = realAssignments.count
        realProportions = Self.proportions(realAssignments, bins: kmeans.centroids.size(0))
        self.significance = significance
    }

    public func evaluate(_ generated: Tensor) -> Result {
        let labels = kmeans.assign(generated)
        let p2 = Self.proportions(labels, bins: realProportions.count)
        let n1 = Double(realCount), n2 = Double(labels.count)
        var different = 0
        for (a, b) in zip(realProportions, p2) {
            if Self.differs(a, n1, b, n2, significance: significance) { different += 1 }
        }
        return Result(bins: realProportions.count, differentBins: different, jsd: Self.jensenShannon(realProportions, p2),
                      realCount: realCount, generatedCount: labels.count, realProportions: realProportions,
                      generatedProportions: p2, significance: significance)
    }

    static func proportions(_ labels: [Int], bins: Int) -> [Double] {
        var counts = [Double](repeating: 0, count: bins)
        for l in labels { counts[l] += 1 }
        return counts.map { $0 / Double(Swift.max(labels.count, 1)) }
    }

    /// Two-sided two-proportion z-test with the pooled proportion; a bin empty in both sets
    /// (zero standard error) is not different.
    public static func differs(_ p1: Double, _ n1: Double, _ p2: Double, _ n2: Double, significance: Double) -> Bool {
        let p = (p1 * n1 + p2 * n2) / (n1 + n2)
        let se = (p * (1 - p) * (1 / n1 + 1 / n2)).squareRoot()
        guard se > 0 else { return false }
        let z = (p1 - p2) / se
        let pValue = erfc(abs(z) / 2.0.squareRoot())
        return pValue < significance
    }

    /// ½ KL(p ‖ m) + ½ KL(q ‖ m), m = (p + q) / 2, natural log.
    public static func jensenShannon(_ p: [Double], _ q: [Double]) -> Double {
        let m = zip(p, q).map { ($0 + $1) / 2 }
        return 0.5 * kullbackLeibler(p, m) + 0.5 * kullbackLeibler(q, m)
    }

    /// Σ pᵢ log(pᵢ / qᵢ) over pᵢ > 0.
    public static func kullbackLeibler(_ p: [Double], _ q: [Double]) -> Double {
        zip(p, q).reduce(0) { $0 + ($1.0 > 0 ? $1.0 * log($1.0 / $1.1) : 0) }
    }
}
