import Torch

/// Pixel-space diversity of samples of one sketch: the mean L1 distance (images in [-1, 1])
/// between every two of them. An LPIPS-free stand-in for the BicycleGAN diversity protocol.
public enum PixelDiversity {
    /// `samples`: K×C×H×W outputs for the same input, K ≥ 2.
    public static func meanPairwiseL1(_ samples: Tensor) -> Double {
        let k = samples.size(0)
        guard k >= 2 else { return 0 }
        var total = 0.0
        for i in 0 ..< k {
            for j in (i + 1) ..< k {
                total += (samples.select(dim: 0, index: i) - samples.select(dim: 0, index: j)).abs().mean().item()
            }
        }
        return total / Double(k * (k - 1) / 2)
    }
}
