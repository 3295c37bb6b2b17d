extension ModelFamily {
    /// SRAGAN: encoder, residual blocks with channel + spatial attention, decoder, global shortcut.
    public static let sragan = ModelFamily("sragan", "SRAGAN", .paired, reference: "reference/sragan.py (SRAGANGenerator)",
                                           generator: .sragan) { c, _ in
        // Nearest ×2 + 3×3 convolution: transposed convolutions leave a checkerboard
        // (docs/TRAINING.md measures it); the thesis's decoder stays `upsampling: transposed`.
        c.sragan.upsampling = .resizeConv
        // Layer norm in G and D: with the thesis's instance norm the generator grows a spike at one
        // position to steer each feature map's statistics, which prints as a dark droplet from
        // about step 1,500 on photographs; layer norm has none and measured better at 1,200 and
        // 2,384 steps (docs/TRAINING.md). `norm: instance` (`--norm instance`) is the thesis's.
        (c.sragan.norm, c.discriminator.norm) = (.layer, .layer)
        c.lambdaPerceptual = 10
    }
}

extension ModelKind { public static let sragan = ModelFamily.sragan.kind }
