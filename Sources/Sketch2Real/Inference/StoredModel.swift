import Torch

/// What a model file or a run folder's latest checkpoint holds, read and decoded once: the
/// training configuration, the generator's and encoder's weights and, from a checkpoint, its
/// other networks, which `train --init-from` also takes.
struct StoredModel {
    /// The file read: the path given, or a run folder's latest checkpoint.
    let path: String
    let config: TrainingConfig
    let generator: [String: Tensor]
    let encoder: [String: Tensor]?
    /// A checkpoint's networks besides G and E (D, D2) by checkpoint name; none for an exported file.
    let otherNetworks: [String: [String: Tensor]]
}
