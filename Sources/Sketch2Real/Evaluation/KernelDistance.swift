import Foundation
import Torch

/// Kernel distance (KID, Bińkowski et al. 2018): the unbiased estimate of the squared maximum
/// mean discrepancy between two feature sets under the polynomial kernel k(x, y) = (xᵀy / d + 1)³,
/// averaged over random subsets, as the usual implementations (the authors', torch-fidelity,
/// clean-fid) do: `subsets` draws of m = min(`subsetSize`, N₁, N₂) rows from each set without
/// replacement, for each draw
///   (Σ_{i≠j} k(xᵢ, xⱼ) + Σ_{i≠j} k(yᵢ, yⱼ)) / (m(m − 1)) − 2 Σ_{i,j} k(xᵢ, yⱼ) / m²,
/// and the mean and standard deviation over draws reported. Draws come from SplitMix64 with
/// the given seed, so a number is reproducible; they are not numpy's draws.
public enum KernelDistance {
    public struct Result: Codable, Sendable, Equatable {
        public let mean: Double
        public let std: Double
        public let subsets: Int
        public let subsetSize: Int
    }

    public static func compute(_ x: Tensor, _ y: Tensor, subsets: Int = 100, subsetSize: Int = 1000, seed: UInt64 = 0) throws -> Result {
        guard x.rank == 2, y.rank == 2, x.size(1) == y.size(1) else {
            throw EvaluationError("kernel distance compares two N×D feature sets, got \(x.shape) and \(y.shape)")
        }
        let m = Swift.min(subsetSize, x.size(0), y.size(0))
        guard m >= 2, subsets >= 1 else {
            throw EvaluationError("kernel distance needs at least two feature vectors per set and one subset")
        }
        let a = x.to(.float64), b = y.to(.float64)
        var generator = SplitMix64(seed, 0x4B1D)
        var values: [Double] = []
        withNoGrad {
            for _ in 0 ..< subsets {
                let sx = a.indexSelect(dim: 0, index: Tensor(subset(of: a.size(0), count: m, using: &generator)))
                let sy = b.indexSelect(dim: 0, index: Tensor(subset(of: b.size(0), count: m, using: &generator)))
                values.append(unbiasedMMD(sx, sy))
            }
        }
        let mean = values.reduce(0, +) / Double(values.count)
        let variance = values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(values.count)
        return Result(mean: mean, std: variance.squareRoot(), subsets: subsets, subsetSize: m)
    }

    /// The unbiased MMD² of two equally sized sets under the cubic polynomial kernel.
    public static func unbiasedMMD(_ x: Tensor, _ y: Tensor) -> Double {
        let m = Double(x.size(0)), d = Double(x.size(1))
        func kernel(_ p: Tensor, _ q: Tensor) -> Tensor { (p.matmul(q.T) / d + 1.0).pow(3) }
        let kxx = kernel(x, x), kyy = kernel(y, y), kxy = kernel(x, y)
        let offDiagonal = kxx.sum().item() - kxx.diagonalSum() + kyy.sum().item() - kyy.diagonalSum()
        return offDiagonal / (m * (m - 1)) - 2 * kxy.sum().item() / (m * m)
    }

    /// `count` distinct indices of 0..<n (a partial Fisher–Yates shuffle).
    static func subset(of n: Int, count: Int, using g: inout SplitMix64) -> [Int64] {
        var indices = Array(0 ..< Int64(n))
        for i in 0 ..< count {
            let j = i + Int(g.unit() * Double(n - i))
            indices.swapAt(i, j)
        }
        return Array(indices.prefix(count))
    }
}
