import Foundation
import Torch

/// Mean and covariance of a set of feature vectors, in float64.
public struct FeatureStatistics: @unchecked Sendable {
    public let mean: Tensor
    public let covariance: Tensor
    public let count: Int

    /// Statistics of the rows of an N×D matrix; the covariance is unbiased (divides by N − 1),
    /// as `numpy.cov(rowvar=False)` and every FID implementation compute it.
    public init(features: Tensor) throws {
        guard features.rank == 2, features.size(0) >= 2 else {
            throw EvaluationError("feature statistics need at least two N×D feature vectors, got shape \(features.shape)")
        }
        let x = features.to(.float64)
        count = x.size(0)
        mean = x.mean(dims: [0])
        let centred = x - mean.unsqueezed(0)
        covariance = centred.T.matmul(centred) / Double(count - 1)
    }
}

/// Fréchet distance between two Gaussians fitted to feature sets (Heusel et al. 2017):
/// ‖μ₁ − μ₂‖² + tr Σ₁ + tr Σ₂ − 2 tr (Σ₁Σ₂)^½.
///
/// tr (Σ₁Σ₂)^½ is computed without a general matrix square root: with S = Σ₁^½ (from the
/// eigendecomposition of the symmetric Σ₁), Σ₁Σ₂ = S⁻¹(SΣ₂S)S is similar to the symmetric
/// positive semi-definite SΣ₂S, so both have the same eigenvalues and the trace of the square
/// root is Σ √λᵢ(SΣ₂S). This stays real and stable when the covariances are singular (fewer
/// images than feature dimensions), where scipy's `sqrtm` needs the ε·I offset of pytorch-fid.
/// Eigenvalues below zero (rounding) are taken as zero. All arithmetic is float64.
public enum FrechetDistance {
    public static func compute(_ a: FeatureStatistics, _ b: FeatureStatistics) throws -> Double {
        guard a.mean.shape == b.mean.shape else {
            throw EvaluationError("Fréchet distance between features of different sizes: \(a.mean.shape) and \(b.mean.shape)")
        }
        return withNoGrad {
            let meanTerm = (a.mean - b.mean).square().sum().item()
            let traceA = a.covariance.diagonalSum(), traceB = b.covariance.diagonalSum()
            return meanTerm + traceA + traceB - 2 * traceOfProductSquareRoot(a.covariance, b.covariance)
        }
    }

    /// tr (AB)^½ for symmetric positive semi-definite A and B.
    public static func traceOfProductSquareRoot(_ a: Tensor, _ b: Tensor) -> Double {
        let (values, vectors) = symmetrised(a).symmetricEigen()
        let s = (vectors * values.clamp(min: 0).sqrt().unsqueezed(0)).matmul(vectors.T)
        let inner = symmetrised(s.matmul(b).matmul(s))
        return inner.symmetricEigen().values.clamp(min: 0).sqrt().sum().item()
    }

    static func symmetrised(_ m: Tensor) -> Tensor { (m + m.T) * 0.5 }
}

extension Tensor {
    /// The trace of a square matrix.
    func diagonalSum() -> Double {
        let n = size(0)
        return reshape([n * n]).slice(dim: 0, start: 0, end: n * n, step: n + 1).sum().item()
    }
}
