extension ModelKind {
    /// SRAGAN: encoder, residual blocks with channel + spatial attention, decoder, global shortcut.
    public static let sragan = ModelKind(registering: "sragan")
}

extension ModelFamily {
    public static let sragan = ModelFamily(
        kind: .sragan, displayName: "SRAGAN", training: .paired, usesEncoder: false, reference: "reference/sragan.py (SRAGANGenerator)",
        applyDefaults: { c, _ in
            // Nearest ×2 + 3×3 convolution: transposed convolutions leave a checkerboard
            // (docs/TRAINING.md measures it); the thesis's decoder stays `upsampling: transposed`.
            c.sragan.upsampling = .resizeConv
            c.discriminator.norm = .instance
            c.lambdaPerceptual = 10
        },
        generatorSettings: { try ModelRegistry.json($0.sragan) },
        stride: { $0.sragan.stride },
        architecture: { _ in "sragan" },
        validateGenerator: { try $0.sragan.validate() },
        makeGenerator: { try SRAGANGenerator($0.sragan) },
        syncLatent: { $0.sragan.latentChannels = 0 })
}
