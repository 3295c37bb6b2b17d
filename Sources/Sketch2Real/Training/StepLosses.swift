/// The losses of one training step, by what they measure; nil where the model has no such term.
/// `log.jsonl` and the progress line use the names in `named` (G_GAN, G_L1, …, D, D2).
public struct StepLosses: Sendable, Equatable {
    /// G's adversarial loss against D (the encoded path's D for multimodal models).
    public var gan: Double?
    /// G's adversarial loss against D2 (the random path's).
    public var gan2: Double?
    public var l1: Double?
    public var perceptual: Double?
    public var featureMatching: Double?
    /// KL(q(z|y) ‖ N(0, I)) of the encoder.
    public var kl: Double?
    /// |μ(E(G(x, z))) − z|₁ on the random path.
    public var latentRegression: Double?
    /// The mode-seeking term and the ratio it is made from.
    public var modeSeeking: Double?
    public var modeSeekingRatio: Double?
    /// Everything the generator (and encoder) minimised, weighted.
    public var generatorTotal: Double?
    public var discriminator: Double?
    public var discriminator2: Double?
    /// G's hinge loss against the projected discriminator, and that discriminator's own loss.
    public var projected: Double?
    public var projectedDiscriminator: Double?

    public init() {}

    /// Each term with its name in logs, in a fixed order.
    nonisolated(unsafe) public static let names: [(name: String, field: WritableKeyPath<StepLosses, Double?>)] = [
        ("G_GAN", \.gan), ("G_GAN2", \.gan2), ("G_L1", \.l1), ("G_perceptual", \.perceptual), ("G_FM", \.featureMatching),
        ("KL", \.kl), ("z_L1", \.latentRegression), ("MS", \.modeSeeking), ("MS_ratio", \.modeSeekingRatio),
        ("G_total", \.generatorTotal), ("D", \.discriminator), ("D2", \.discriminator2),
        ("G_proj", \.projected), ("D_proj", \.projectedDiscriminator),
    ]

    /// The terms present, by log name.
    public var named: [String: Double] {
        Dictionary(uniqueKeysWithValues: Self.names.compactMap { n in self[keyPath: n.field].map { (n.name, $0) } })
    }

    public var allFinite: Bool { named.values.allSatisfy(\.isFinite) }
}
