import Foundation
import NN
import Torch

/// A frozen VGG feature extractor for perceptual losses and feature-space metrics.
public protocol FeatureNetwork: AnyObject {
    /// A name shown next to every number computed in its feature space.
    var name: String { get }
    /// Feature maps of images in [-1, 1] RGB (N×3×H×W), shallow to deep.
    func features(_ images: Tensor) -> [Tensor]
}

/// VGG16's convolutions from the HED edge detector (stages 1–4 or 1–5): relu1_2, relu2_2,
/// relu3_3, relu4_3 (, relu5_3). Input convention: BGR 0–255 minus the Caffe means.
public final class HEDVGG16Features: FeatureNetwork {
    public let network: HEDNetwork
    public let stages: Int
    /// The precision of its forward pass; nil: `Torch.precision` (perceptual losses). Metrics
    /// set `.fp32`, so that a number means the same whatever precision the models ran in.
    public var precision: Precision?
    public var name: String { "HED-VGG16" }

    public init(weightsPath: String? = nil, stages: Int = 4) throws {
        precondition((1 ... 5).contains(stages), "VGG16 has five stages")
        network = try HEDWeights.network(path: weightsPath)
        self.stages = stages
    }

    /// The frozen network's weights in bfloat16 (or float16), made on first use in that
    /// precision: autocast caches the casts of trainable weights only, so without this copy every
    /// call would convert the 7.6 million weights again.
    private var lowPrecisionNetwork: HEDNetwork?

    /// Computed in `Torch.precision` (see `Torch.mixedPrecision`), returned in float32.
    public func features(_ images: Tensor) -> [Tensor] {
        let chosen = precision ?? Torch.precision
        var net = network
        if chosen != .fp32 {
            if lowPrecisionNetwork == nil || lowPrecisionNetwork!.parameters().first?.dtype != chosen.dtype {
                let copy = HEDNetwork()
                do {
                    try copy.loadStateDict(Dictionary(uniqueKeysWithValues: network.stateDict()))
                } catch {
                    preconditionFailure("a HEDNetwork takes another HEDNetwork's state dict: \(error)")
                }
                copy.to(chosen.dtype)
                copy.eval()
                copy.freeze()
                lowPrecisionNetwork = copy
            }
            net = lowPrecisionNetwork!
        }
        return Torch.mixedPrecision(chosen) { stageOutputs(images, network: net) }
    }

    func stageOutputs(_ images: Tensor, network: HEDNetwork) -> [Tensor] {
        let rgb = images.size(1) == 1 ? images.expand([images.size(0), 3, images.size(2), images.size(3)]) : images
        let mean = Tensor(HEDNetwork.meanBGR.map { $0 }, shape: [1, 3, 1, 1])
        var h = (rgb.flipped([1]) + 1.0) * 127.5 - mean
        var out: [Tensor] = []
        for stage in [network.block1, network.block2, network.block3, network.block4, network.block5].prefix(stages) {
            h = stage(h)
            out.append(h)
        }
        return out
    }
}

/// torchvision's VGG19 `features` (names `features.<i>.weight`) from a user-supplied
/// safetensors file: relu1_1, relu2_1, relu3_1, relu4_1, relu5_1 with ImageNet normalisation.
public final class VGG19Features: Module, FeatureNetwork {
    public let features: Sequential
    public var name: String { "VGG19 (ImageNet)" }
    static let taps = [1, 6, 11, 20, 29]

    public init(weightsPath: String) throws {
        let widths = [64, 64, -1, 128, 128, -1, 256, 256, 256, 256, -1, 512, 512, 512, 512, -1, 512, 512, 512, 512]
        var layers: [any UnaryLayer] = []
        var channels = 3
        for w in widths {
            if w < 0 {
                layers.append(MaxPool2d())
            } else {
                layers += [Conv2d(channels, w, kernelSize: 3, padding: 1), ReLU()]
                channels = w
            }
        }
        features = Sequential(layers)
        super.init()
        do {
            let file = try SafeTensors.load(path: weightsPath)
            let wanted = Set(stateDict().map(\.0))
            let values = file.dictionary.filter { wanted.contains($0.key) }
            try loadStateDict(values)
        } catch {
            // Name the option and the file; SafeTensors' own errors already start with the path.
            let text = "\(error)"
            throw ModelError("--vgg19-weights " + (text.hasPrefix(weightsPath) ? text : "\(weightsPath): \(text)")
                + (text.contains("missing") ? " (expected torchvision's VGG19 `features.N.weight`/`.bias` tensors in a .safetensors file)" : ""))
        }
        eval()
        freeze()
    }

    /// Computed in `Torch.precision` (see `Torch.mixedPrecision`), returned in float32.
    public func features(_ images: Tensor) -> [Tensor] { Torch.mixedPrecision { taps(images) } }

    func taps(_ images: Tensor) -> [Tensor] {
        let rgb = images.size(1) == 1 ? images.expand([images.size(0), 3, images.size(2), images.size(3)]) : images
        let mean = Tensor([0.485, 0.456, 0.406] as [Float], shape: [1, 3, 1, 1])
        let std = Tensor([0.229, 0.224, 0.225] as [Float], shape: [1, 3, 1, 1])
        var h = ((rgb + 1.0) / 2.0 - mean) / std
        var out: [Tensor] = []
        for (i, layer) in features.layers.prefix(Self.taps.last! + 1).enumerated() {
            h = layer(h)
            if Self.taps.contains(i) { out.append(h) }
        }
        return out
    }
}

/// 2×2 max-pooling, stride 2 (VGG's).
public final class MaxPool2d: Module, UnaryLayer {
    public override init() { super.init() }
    public func callAsFunction(_ x: Tensor) -> Tensor { x.maxPool2d(kernel: 2, stride: 2) }
}
