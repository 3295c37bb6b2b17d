extension ModelFamily {
    /// MSGAN (Mao et al. 2019): pix2pix's U-Net with the code at the input and the
    /// mode-seeking regulariser; no encoder, so no KL, latent regression or second D.
    public static let msgan = ModelFamily("msgan", "MSGAN", .multimodal, reference: "reference/multimodal.py (LatentUNetGenerator)",
                                          generator: .latentUNet, architecture: { "msgan U-Net (\($0.latentUNet.levels) levels)" }) { c, size in
        c.applyMultimodalDefaults(size: size)
        c.latentUNet.latentAtEveryLevel = false
        c.discriminator.scales = 2
        (c.multimodal.lambdaKL, c.multimodal.lambdaZ, c.multimodal.lambdaGAN2) = (0, 0, 0)
    }
}

extension ModelKind { public static let msgan = ModelFamily.msgan.kind }
