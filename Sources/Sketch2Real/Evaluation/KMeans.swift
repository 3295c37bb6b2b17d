import Foundation
import Torch

/// k-means clustering of the rows of an N×D matrix: k-means++ seeding (Arthur and Vassilvitskii
/// 2007) drawn from SplitMix64 with a given seed, then Lloyd iterations until no assignment
/// changes or `maxIterations` is reached. A cluster that loses all its points keeps its centre.
/// Distances are squared Euclidean, computed in float64.
public struct KMeans: @unchecked Sendable {
    /// k×D centres.
    public let centroids: Tensor
    /// The cluster of each input row.
    public let assignments: [Int]
    public let iterations: Int

    public init(_ points: Tensor, clusters k: Int, seed: UInt64, maxIterations: Int = 100) throws {
        guard points.rank == 2 else { throw EvaluationError("k-means takes an N×D matrix, got shape \(points.shape)") }
        let n = points.size(0)
        guard k >= 1, n >= k else { throw EvaluationError("k-means with \(k) clusters needs at least \(k) points, got \(n)") }
        let x = points.to(.float64)
        var g = SplitMix64(seed, 0x6B6D)
        var chosen = [Int(g.unit() * Double(n))]
        var nearest = Self.squaredDistances(x, x.indexSelect(dim: 0, index: Tensor([Int64(chosen[0])]))).reshape([n]).toArray(Double.self)
        while chosen.count < k {
            let total = nearest.reduce(0, +)
            var next = 0
            if total > 0 {
                // A draw proportional to the squared distance to the nearest chosen centre.
                var threshold = g.unit() * total
                next = n - 1
                for (i, d) in nearest.enumerated() {
                    threshold -= d
                    if threshold < 0 { next = i; break }
                }
            } else {
                // All points coincide with chosen centres: any unchosen one will do.
                next = (0 ..< n).first { !chosen.contains($0) } ?? 0
            }
            chosen.append(next)
            let d = Self.squaredDistances(x, x.indexSelect(dim: 0, index: Tensor([Int64(next)]))).reshape([n]).toArray(Double.self)
            nearest = zip(nearest, d).map { Swift.min($0, $1) }
        }
        var centres = x.indexSelect(dim: 0, index: Tensor(chosen.map(Int64.init)))
        var labels = [Int](repeating: -1, count: n)
        var iteration = 0
        while iteration < maxIterations {
            iteration += 1
            let updated = Self.nearest(x, centres)
            if updated == labels { break }
            labels = updated
            var rows: [Tensor] = []
            for c in 0 ..< k {
                let members = labels.indices.filter { labels[$0] == c }.map(Int64.init)
                rows.append(members.isEmpty ? centres.select(dim: 0, index: c)
                    : x.indexSelect(dim: 0, index: Tensor(members)).mean(dims: [0]))
            }
            centres = Tensor.stack(rows, dim: 0)
        }
        centroids = centres
        assignments = labels
        iterations = iteration
    }

    /// Fixed centres (k×D), for assigning points to bins found elsewhere.
    public init(centroids: Tensor) {
        self.centroids = centroids.to(.float64)
        assignments = []
        iterations = 0
    }

    /// The index of the nearest centre for each row of `points`.
    public func assign(_ points: Tensor) -> [Int] { Self.nearest(points.to(.float64), centroids) }

    static func nearest(_ x: Tensor, _ centres: Tensor) -> [Int] {
        squaredDistances(x, centres).argmin(dim: 1).toArray(Int64.self).map(Int.init)
    }

    /// N×k squared distances ‖x‖² − 2x·c + ‖c‖².
    static func squaredDistances(_ x: Tensor, _ c: Tensor) -> Tensor {
        let xx = x.square().sum(dims: [1], keepDim: true)
        let cc = c.square().sum(dims: [1]).unsqueezed(0)
        return (xx - 2.0 * x.matmul(c.T) + cc).clamp(min: 0)
    }
}
