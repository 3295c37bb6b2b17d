extension ModelFamily {
    /// SRAGAN: encoder, residual blocks with channel + spatial attention, decoder, global shortcut.
    public static let sragan = ModelFamily("sragan", "SRAGAN", .paired, reference: "reference/sragan.py (SRAGANGenerator)",
                                           generator: .sragan) { c, _ in
        // Nearest ×2 + 3×3 convolution: transposed convolutions leave a checkerboard
        // (docs/TRAINING.md measures it); the thesis's decoder stays `upsampling: transposed`.
        c.sragan.upsampling = .resizeConv
        c.discriminator.norm = .instance
        c.lambdaPerceptual = 10
    }
}

extension ModelKind { public static let sragan = ModelFamily.sragan.kind }
