extension ModelKind {
    /// MSGAN (Mao et al. 2019): pix2pix's U-Net with the code at the input and the mode-seeking
    /// regulariser.
    public static let msgan = ModelKind(registering: "msgan")
}

extension ModelFamily {
    public static let msgan = ModelFamily(
        kind: .msgan, displayName: "MSGAN", training: .multimodal, usesEncoder: false, reference: "reference/multimodal.py (LatentUNetGenerator)",
        applyDefaults: { c, size in
            c.applyMultimodalDefaults(size: size)
            c.latentUNet.latentAtEveryLevel = false
            c.discriminator.scales = 2
            c.multimodal.lambdaKL = 0
            c.multimodal.lambdaZ = 0
            c.multimodal.lambdaGAN2 = 0
        },
        generatorSettings: { try ModelRegistry.json($0.latentUNet) },
        stride: { $0.latentUNet.stride },
        architecture: { "msgan U-Net (\($0.latentUNet.levels) levels)" },
        validateGenerator: { try $0.latentUNet.validate() },
        makeGenerator: { try LatentUNetGenerator($0.latentUNet) },
        syncLatent: { $0.sragan.latentChannels = 0 })
}
