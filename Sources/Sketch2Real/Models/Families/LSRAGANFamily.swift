extension ModelFamily {
    /// One sketch → many images: SRAGAN with a latent code, trained BicycleGAN-style with mode seeking.
    public static let lsragan = ModelFamily(
        "lsragan", "LSRAGAN", .multimodal, encoder: true,
        reference: "reference/sragan.py (SRAGANGenerator), reference/multimodal.py (LatentEncoder)",
        generator: .sragan, sraganTakesCode: true
    ) { c, size in
        c.sragan.upsampling = .resizeConv
        c.applyMultimodalDefaults(size: size)
        // The recipe docs/MULTIMODAL.md found on synthetic data with known modes: the thesis's
        // instance norm, with z modulating every normalisation after the encoder (a tiled code
        // is a per-channel constant that instance norm subtracts) and also tiled at the input,
        // where the first convolution still sees it; a light mode-seeking term and a KL weight
        // that keeps encoded codes where the sampler draws them.
        (c.sragan.norm, c.sragan.latentModulation, c.sragan.latentAtInput) = (.instance, true, true)
        (c.multimodal.lambdaMS, c.multimodal.lambdaKL) = (0.1, 0.3)
        // The joint perceptual loss: VGG distance and D feature matching on the encoded path.
        (c.lambdaPerceptual, c.lambdaFeatureMatching) = (1, 1)
        // On photographs about one step in a hundred had a gradient of 10⁹ (G) and 10⁶ (E); an
        // unclipped run's KL went from 2 to over 1,000 in the same stretch and stayed there.
        // Each network's gradient is capped at norm 10 (docs/TRAINING.md, "Gradient clipping
        // against the KL blow-up").
        c.gradientClipNorm = 10
    }
}

extension ModelKind { public static let lsragan = ModelFamily.lsragan.kind }
