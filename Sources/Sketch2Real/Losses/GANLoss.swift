import Torch

/// The adversarial objective.
public enum GANMode: String, Sendable, Codable, CaseIterable {
    /// Binary cross-entropy on logits (pix2pix's default).
    case vanilla
    /// Least squares against 1 (real) and 0 (fake).
    case lsgan
    /// Hinge: D minimises relu(1 − real) + relu(1 + fake); G maximises the fake score.
    case hinge

    /// Discriminator loss for one output map.
    public func discriminatorLoss(real: Tensor, fake: Tensor) -> Tensor {
        switch self {
        case .vanilla:
            return (real.bceWithLogits(Tensor.ones(real.shape)) + fake.bceWithLogits(Tensor.zeros(fake.shape))) * 0.5
        case .lsgan:
            return (real.mseLoss(Tensor.ones(real.shape)) + fake.mseLoss(Tensor.zeros(fake.shape))) * 0.5
        case .hinge:
            return ((1.0 - real).relu().mean() + (1.0 + fake).relu().mean()) * 0.5
        }
    }

    /// Generator loss for one output map of a generated image.
    public func generatorLoss(fake: Tensor) -> Tensor {
        switch self {
        case .vanilla: fake.bceWithLogits(Tensor.ones(fake.shape))
        case .lsgan: fake.mseLoss(Tensor.ones(fake.shape))
        case .hinge: -fake.mean()
        }
    }

    /// Averages over the scales of a multi-scale discriminator. The discriminator loss is
    /// halved, as pix2pix does, so D learns at half the rate of G.
    public func discriminatorLoss(real: [Tensor], fake: [Tensor]) -> Tensor {
        zip(real, fake).map { discriminatorLoss(real: $0, fake: $1) }.reduce(Tensor(scalar: 0), +) / Double(real.count)
    }

    public func generatorLoss(fake: [Tensor]) -> Tensor {
        fake.map { generatorLoss(fake: $0) }.reduce(Tensor(scalar: 0), +) / Double(fake.count)
    }
}
