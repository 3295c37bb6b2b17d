import Torch

/// Spectral normalisation settings, as `torch.nn.utils.spectral_norm`: the layer's weight
/// is stored as `weight_orig` and divided by its largest singular value, estimated by
/// power iteration on the vectors `weight_u`, `weight_v` (updated only in training mode).
public struct SpectralNorm: Sendable, Codable, Equatable {
    public var powerIterations: Int
    public var eps: Double
    public init(powerIterations: Int = 1, eps: Double = 1e-12) {
        self.powerIterations = powerIterations
        self.eps = eps
    }
}

/// A layer whose weight can be spectrally normalised (weights whose dimension 0 is the output).
public protocol SpectrallyNormalizable: Module {
    var spectralNorm: SpectralNorm? { get set }
    var weightSlot: TensorSlot { get }
    var spectralUSlot: TensorSlot { get }
    var spectralVSlot: TensorSlot { get }
}

/// `x / max(‖x‖, eps)` for a vector, as `F.normalize(x, dim=0)`.
func normalizeVector(_ x: Tensor, eps: Double) -> Tensor {
    x / x.norm().clamp(min: eps)
}

extension SpectrallyNormalizable {
    /// Turns spectral normalisation on: renames the weight to `weight_orig` and adds the
    /// power-iteration buffers, initialised from the global generator.
    public func applySpectralNorm(_ settings: SpectralNorm = SpectralNorm()) {
        let w = weightSlot.tensor!
        let h = w.size(0)
        let width = w.count / h
        weightSlot.key = "weight_orig"
        weightSlot.reregistered = true
        withNoGrad {
            spectralUSlot.tensor = normalizeVector(Tensor.randn([h], dtype: w.dtype, device: w.device), eps: settings.eps)
            spectralVSlot.tensor = normalizeVector(Tensor.randn([width], dtype: w.dtype, device: w.device), eps: settings.eps)
        }
        spectralNorm = settings
    }

    /// The weight the layer multiplies by: the stored weight, or its spectrally normalised form.
    public func effectiveWeight() -> Tensor {
        let w = weightSlot.tensor!
        guard let settings = spectralNorm, let u = spectralUSlot.tensor, let v = spectralVSlot.tensor else { return w }
        let matrix = w.reshape([w.size(0), -1])
        if isTraining {
            withNoGrad {
                for _ in 0 ..< settings.powerIterations {
                    v.copyFrom(normalizeVector(matrix.T.mv(u), eps: settings.eps))
                    u.copyFrom(normalizeVector(matrix.mv(v), eps: settings.eps))
                }
            }
        }
        // Copies, so that later in-place power iterations do not disturb this step's graph.
        let sigma = u.clone().dot(matrix.mv(v.clone()))
        return w / sigma
    }
}
