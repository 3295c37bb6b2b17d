extension ModelFamily {
    /// BicycleGAN (Zhu et al. 2017): U-Net with the code at every level, ResNet encoder, one
    /// discriminator per latent path.
    public static let bicyclegan = ModelFamily(
        "bicyclegan", "BicycleGAN", .multimodal, encoder: true, reference: "reference/multimodal.py (LatentUNetGenerator)",
        generator: .latentUNet, architecture: { "bicyclegan U-Net (\($0.latentUNet.levels) levels)" }
    ) { c, size in
        c.applyMultimodalDefaults(size: size)
        // Images alone for D, no mode seeking, two scales, Xavier initialisation.
        (c.multimodal.conditionalDiscriminator, c.multimodal.lambdaMS) = (false, 0)
        (c.discriminator.scales, c.initScheme) = (2, .xavier)
    }
}

extension ModelKind { public static let bicyclegan = ModelFamily.bicyclegan.kind }
