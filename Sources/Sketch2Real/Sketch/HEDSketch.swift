import NN
import Torch

/// Sketches as in edges2shoes/edges2handbags: HED's edge probabilities, cleaned by `HEDPostprocessing`.
///
/// The network runs at the photo's own size, so its cost grows with the pixel count: about
/// 0.35 s for 256×256 on one CPU core, and the first stage's activations alone take 512 bytes
/// per pixel. Crop or resize large photos first.
public struct HEDSketch: SketchExtractor {
    public let network: HEDNetwork
    public var postprocessing: HEDPostprocessing

    /// Loads the trained network from `weightsPath`, or from where `HEDWeights.resolvePath` points.
    public init(weightsPath: String? = nil, postprocessing: HEDPostprocessing = HEDPostprocessing()) throws {
        self.init(network: try HEDWeights.network(path: weightsPath), postprocessing: postprocessing)
    }

    /// Uses a network the caller loaded (for instance moved to a GPU with `network.to(.cuda(0))`).
    public init(network: HEDNetwork, postprocessing: HEDPostprocessing = HEDPostprocessing()) {
        self.network = network
        self.postprocessing = postprocessing
    }

    /// HED's fused edge probability for each pixel of the photo: float32 H×W in [0, 1], on the CPU.
    public func edgeProbability(_ photo: Image) throws -> Tensor {
        let device = network.fuse.weight.device
        return try withTorchErrors {
            withNoGrad {
                network(HEDNetwork.input(photo).to(device)).select(dim: 0, index: 0).select(dim: 0, index: 0).to(.cpu)
            }
        }
    }

    public func sketch(_ photo: Image) throws -> Image {
        try postprocessing.sketch(probability: try edgeProbability(photo))
    }
}
