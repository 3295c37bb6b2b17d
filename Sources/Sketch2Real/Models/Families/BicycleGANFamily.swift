extension ModelKind {
    /// BicycleGAN (Zhu et al. 2017): U-Net with the code at every level, ResNet encoder, one
    /// discriminator per latent path.
    public static let bicyclegan = ModelKind(registering: "bicyclegan")
}

extension ModelFamily {
    public static let bicyclegan = ModelFamily(
        kind: .bicyclegan, displayName: "BicycleGAN", training: .multimodal, usesEncoder: true, reference: "reference/multimodal.py (LatentUNetGenerator)",
        applyDefaults: { c, size in
            c.applyMultimodalDefaults(size: size)
            c.multimodal.conditionalDiscriminator = false
            c.multimodal.lambdaMS = 0
            c.discriminator.scales = 2
            c.initScheme = .xavier
        },
        generatorSettings: { try ModelRegistry.json($0.latentUNet) },
        stride: { $0.latentUNet.stride },
        architecture: { "bicyclegan U-Net (\($0.latentUNet.levels) levels)" },
        validateGenerator: { try $0.latentUNet.validate() },
        makeGenerator: { try LatentUNetGenerator($0.latentUNet) },
        syncLatent: { $0.sragan.latentChannels = 0 })
}
