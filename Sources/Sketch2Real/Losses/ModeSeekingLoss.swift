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

    public static func loss(images1: Tensor, images2: Tensor, codes1: Tensor, codes2: Tensor) -> Tensor {
        1.0 / (ratio(images1: images1, images2: images2, codes1: codes1, codes2: codes2) + epsilon)
    }
}
