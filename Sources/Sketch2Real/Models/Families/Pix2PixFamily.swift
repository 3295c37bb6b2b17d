extension ModelKind {
    /// pix2pix (Isola et al. 2017): U-Net or ResNet generator, PatchGAN discriminator.
    public static let pix2pix = ModelKind(registering: "pix2pix")
}

extension ModelFamily {
    public static let pix2pix = ModelFamily(
        kind: .pix2pix, displayName: "pix2pix", training: .paired, usesEncoder: false, reference: "reference/pix2pix.py (Pix2PixGenerator)",
        applyDefaults: { c, size in
            c.pix2pix.architecture = size >= 256 ? .unet256 : .unet128
            c.discriminator.norm = .batch
            c.lambdaPerceptual = 0
        },
        generatorSettings: { try ModelRegistry.json($0.pix2pix) },
        stride: { $0.pix2pix.stride },
        architecture: { $0.pix2pix.architecture.rawValue },
        validateGenerator: { try $0.pix2pix.validate() },
        makeGenerator: { try Pix2PixGenerator($0.pix2pix) },
        syncLatent: { _ in })
}
