extension ModelFamily {
    /// pix2pix (Isola et al. 2017): U-Net or ResNet generator, PatchGAN discriminator.
    public static let pix2pix = ModelFamily("pix2pix", "pix2pix", .paired, reference: "reference/pix2pix.py (Pix2PixGenerator)",
                                            generator: .pix2pix, architecture: { $0.pix2pix.architecture.rawValue }) { c, size in
        c.pix2pix.architecture = size >= 256 ? .unet256 : .unet128
        c.discriminator.norm = .batch
        c.lambdaPerceptual = 0
    }
}

extension ModelKind { public static let pix2pix = ModelFamily.pix2pix.kind }
