import Torch

/// MSGAN's mode-seeking regulariser: two codes for the same sketches should give images that
/// differ in proportion to how much the codes differ. The ratio
/// mean|G(x, z1) − G(x, z2)| / mean|z1 − z2| is maximised by minimising its inverse,
/// 1 / (ratio + ε), which stays bounded when the images coincide.
public enum ModeSeekingLoss {
    public static let epsilon = 1e-5

    /// The ratio mean|images1 − images2| / mean|codes1 − codes2| over the whole batch.
    public static func ratio(images1: Tensor, images2: Tensor, codes1: Tensor, codes2: Tensor) -> Tensor {
        (images1 - images2).abs().mean() / (codes1 - codes2).abs().mean()
    }

    /// 1 / (min(ratio, clamp) + ε); `clamp` 0 leaves the ratio uncapped. A cap stops the term
    /// from pushing samples apart once they differ that much per unit of code distance (past it
    /// the gradient is zero), which keeps a strong weight from trading realism for distance.
    public static func loss(ratio: Tensor, epsilon: Double = epsilon, clamp: Double = 0) -> Tensor {
        let capped = clamp > 0 ? ratio.clamp(max: clamp) : ratio
        return 1.0 / (capped + epsilon)
    }

    public static func loss(images1: Tensor, images2: Tensor, codes1: Tensor, codes2: Tensor,
                            epsilon: Double = epsilon, clamp: Double = 0) -> Tensor {
        loss(ratio: ratio(images1: images1, images2: images2, codes1: codes1, codes2: codes2), epsilon: epsilon, clamp: clamp)
    }
}
