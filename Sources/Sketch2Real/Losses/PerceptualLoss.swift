import Torch

/// Weighted L1 distance between feature maps of a frozen network (pix2pixHD's VGG loss):
/// Σ wᵢ · |φᵢ(output) − φᵢ(target)|₁, the target's features detached.
public final class PerceptualLoss {
    public let network: FeatureNetwork
    public let weights: [Double]

    /// pix2pixHD's layer weights, shallow to deep.
    public static let defaultWeights: [Double] = [1.0 / 32, 1.0 / 16, 1.0 / 8, 1.0 / 4, 1.0]

    public init(network: FeatureNetwork, weights: [Double] = PerceptualLoss.defaultWeights) {
        self.network = network
        self.weights = weights
    }

    public func callAsFunction(_ output: Tensor, _ target: Tensor) -> Tensor {
        let fo = network.features(output)
        let ft = withNoGrad { network.features(target) }
        var total = Tensor(scalar: 0)
        for (i, (a, b)) in zip(fo, ft).enumerated() where i < weights.count {
            total = total + a.l1Loss(b.detached()) * weights[i]
        }
        return total
    }
}
