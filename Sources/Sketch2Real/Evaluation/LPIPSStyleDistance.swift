import Foundation
import Torch

/// A learned perceptual distance built as LPIPS v0.1 is, on a different backbone: the VGG16
/// convolutions of the HED edge detector instead of torchvision's ImageNet VGG16 (which cannot
/// be downloaded here). Each of relu1_2, relu2_2, relu3_3, relu4_3 and relu5_3 is unit-normalised
/// over channels (x / (‖x‖₂ + 1e-10)), the squared difference is weighted per channel by
/// LPIPS's calibrated head, averaged over positions, and the five layers are summed.
///
/// The heads were calibrated on ImageNet-VGG16 activations, so the numbers are comparable
/// between runs here but not with published LPIPS values: the name says so everywhere.
///
/// Input scaling: LPIPS feeds its backbone `(x − shift) / scale` (shift −0.030, −0.088, −0.188;
/// scale 0.458, 0.448, 0.450), which turns [-1, 1] RGB into roughly ImageNet-normalised input.
/// That layer belongs to torchvision's VGG; HED's VGG16 was trained on Caffe's convention, BGR
/// 0–255 minus (104.007, 116.669, 122.679), so images go through `HEDVGG16Features`'s
/// conversion to that instead, and the scaling layer is left out.
public final class LPIPSStyleDistance {
    public static let name = "LPIPS-style (HED-VGG16)"
    public let backbone: HEDVGG16Features
    public let heads: LPIPSHeads

    public init(backbone: HEDVGG16Features, heads: LPIPSHeads) {
        precondition(backbone.stages == 5, "the LPIPS-style distance uses all five VGG16 stages")
        // A metric: float32 whatever precision the models under test run in.
        backbone.precision = .fp32
        self.backbone = backbone
        self.heads = heads
    }

    public convenience init(hedWeightsPath: String? = nil, headsPath: String? = nil) throws {
        let heads = try LPIPSHeads.load(path: headsPath)
        self.init(backbone: try HEDVGG16Features(weightsPath: hedWeightsPath, stages: 5), heads: heads)
    }

    /// The five feature maps of N×3×H×W images in [-1, 1].
    public func features(_ images: Tensor) -> [Tensor] {
        withNoGrad { backbone.features(images) }
    }

    /// Distances of corresponding images from their feature maps (as `features` returns them).
    public func distance(_ a: [Tensor], _ b: [Tensor]) -> [Double] {
        withNoGrad {
            var total: Tensor?
            for (i, (fa, fb)) in zip(a, b).enumerated() {
                let d = (Self.unitNormalised(fa) - Self.unitNormalised(fb)).square()
                let weighted = d.conv2d(weight: heads.weights[i]).mean(dims: [1, 2, 3])
                total = total.map { $0 + weighted } ?? weighted
            }
            return total!.toArray(Double.self)
        }
    }

    /// Distances of corresponding images in two N×3×H×W batches in [-1, 1].
    public func callAsFunction(_ a: Tensor, _ b: Tensor) -> [Double] {
        distance(features(a), features(b))
    }

    static func unitNormalised(_ x: Tensor) -> Tensor {
        x / (x.square().sum(dims: [1], keepDim: true).sqrt() + 1e-10)
    }
}
