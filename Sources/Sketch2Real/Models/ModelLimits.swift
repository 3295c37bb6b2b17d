/// Upper bounds on the sizes a model configuration may ask for, checked when a configuration is
/// validated — before any layer is built — so a typo or a damaged model file gives an error
/// instead of tens of gigabytes of weights. Each is far beyond what these networks use (widths of
/// 64, 9 residual blocks, 8-number codes).
public enum ModelLimits {
    /// Filters in a network's first layer (ngf, ndf, nef).
    public static let width = 1024
    /// Residual blocks of a generator or an encoder.
    public static let blocks = 64
    /// Numbers in a latent code.
    public static let latentChannels = 1024
    /// Convolution layers and scales of a PatchGAN discriminator.
    public static let discriminatorLayers = 10, discriminatorScales = 6

    static func check(_ name: String, _ value: Int, atMost limit: Int) throws {
        guard value <= limit else { throw ModelError("\(name) must be at most \(limit), got \(value)") }
    }
}
