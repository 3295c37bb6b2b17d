import Torch

/// Discriminator feature matching (pix2pixHD): L1 between D's intermediate activations on
/// generated and real pairs, averaged over scales and layers; real features detached.
public enum FeatureMatchingLoss {
    public static func loss(fake: [[Tensor]], real: [[Tensor]]) -> Tensor {
        var total = Tensor(scalar: 0)
        let scales = Double(fake.count)
        for (f, r) in zip(fake, real) {
            let layers = f.count - 1
            guard layers > 0 else { continue }
            for j in 0 ..< layers {
                total = total + f[j].l1Loss(r[j].detached()) * (1 / scales / Double(layers))
            }
        }
        return total
    }
}
