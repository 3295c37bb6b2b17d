extension ModelKind {
    /// One sketch → many images: SRAGAN with a latent code, trained BicycleGAN-style with mode seeking.
    public static let lsragan = ModelKind(registering: "lsragan")
}

extension ModelFamily {
    public static let lsragan = ModelFamily(
        kind: .lsragan, displayName: "LSRAGAN", training: .multimodal, usesEncoder: true, reference: "reference/sragan.py (SRAGANGenerator), reference/multimodal.py (LatentEncoder)",
        applyDefaults: { c, size in
            c.sragan.upsampling = .resizeConv
            c.applyMultimodalDefaults(size: size)
            // The recipe docs/MULTIMODAL.md found on synthetic data with known modes: the thesis's
            // instance norm, with z modulating every normalisation after the encoder (a tiled code
            // is a per-channel constant that instance norm subtracts) and also tiled at the input,
            // where the first convolution still sees it; a light mode-seeking term and a KL weight
            // that keeps encoded codes where the sampler draws them.
            c.sragan.norm = .instance
            c.sragan.latentModulation = true
            c.sragan.latentAtInput = true
            c.multimodal.lambdaMS = 0.1
            c.multimodal.lambdaKL = 0.3
            // The joint perceptual loss: VGG distance and D feature matching on the encoded path.
            c.lambdaPerceptual = 1
            c.lambdaFeatureMatching = 1
        },
        generatorSettings: { try ModelRegistry.json($0.sragan) },
        stride: { $0.sragan.stride },
        architecture: { _ in "lsragan" },
        validateGenerator: { try $0.sragan.validate() },
        makeGenerator: { try SRAGANGenerator($0.sragan) },
        syncLatent: { $0.sragan.latentChannels = $0.multimodal.nz })
}
