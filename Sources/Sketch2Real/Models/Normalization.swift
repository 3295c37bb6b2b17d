import NN
import Torch

/// The normalisation layer a network uses after its convolutions.
public enum NormKind: String, Sendable, Codable, CaseIterable {
    /// Instance norm without affine parameters or running statistics (pix2pix's "instance").
    case instance
    /// Batch norm with affine parameters and running statistics.
    case batch
    /// One group over channels and pixels, with per-channel affine parameters (`GroupNorm(1, C)`):
    /// keeps the effect of a tiled latent code, which instance norm removes.
    case layer
    case none

    public func layer(_ channels: Int) -> any UnaryLayer {
        switch self {
        case .instance: InstanceNorm2d(channels)
        case .batch: BatchNorm2d(channels)
        case .layer: LayerNorm2d(channels)
        case .none: Identity()
        }
    }

    /// Convolutions followed by batch norm need no bias (pix2pix's `use_bias`).
    public var convolutionsNeedBias: Bool { self != .batch }
}
