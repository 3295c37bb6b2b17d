import Torch

/// The generator's reconstruction terms, as both trainers add them to its adversarial loss:
/// λ_L1·|G(x) − y|₁ + λ_perc·perceptual(G(x), y) + λ_FM·feature matching, each left out when
/// its weight is 0 (or there is no perceptual network).
struct ReconstructionLoss {
    let lambdaL1: Double
    let lambdaPerceptual: Double
    let lambdaFeatureMatching: Double
    let perceptual: PerceptualLoss?

    init(_ config: TrainingConfig, perceptual: PerceptualLoss?) {
        lambdaL1 = config.lambdaL1
        lambdaPerceptual = config.lambdaPerceptual
        lambdaFeatureMatching = config.lambdaFeatureMatching
        self.perceptual = perceptual
    }

    /// Feature matching needs D's activations on the generated and the real pair.
    var needsFeatures: Bool { lambdaFeatureMatching > 0 }

    /// Adds the terms to `total`, in this order, and records each in `losses`. `realFeatures` is called only when feature matching is on.
    func add(to total: inout Tensor, output: Tensor, target: Tensor, fakeFeatures: [[Tensor]],
             realFeatures: () -> [[Tensor]], losses: inout StepLosses) {
        if lambdaL1 > 0 {
            let l1 = output.l1Loss(target)
            total = total + l1 * lambdaL1
            losses.l1 = l1.item()
        }
        if let perceptual {
            let p = perceptual(output, target)
            total = total + p * lambdaPerceptual
            losses.perceptual = p.item()
        }
        if needsFeatures {
            let fm = FeatureMatchingLoss.loss(fake: fakeFeatures, real: withNoGrad { realFeatures() })
            total = total + fm * lambdaFeatureMatching
            losses.featureMatching = fm.item()
        }
    }
}
