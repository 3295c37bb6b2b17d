import Foundation
import NN
import Torch

/// Inception-v3 (Szegedy et al. 2016) as torchvision's `inception_v3` builds it, up to the
/// 2048-d global-average-pooled activations before the classifier ("pool3", the features of
/// FID and KID). State-dict names are torchvision's (`Conv2d_1a_3x3.conv.weight`,
/// `Mixed_5b.branch1x1.bn.running_mean`, …), so a torchvision or pytorch-fid state dict saved
/// as safetensors loads unchanged; the auxiliary classifier and `fc` are not needed and ignored.
///
/// Input: RGB in [-1, 1]. torchvision's `transform_input` maps ImageNet-normalised input to
/// exactly that range ((x·σ + μ − 0.5) / 0.5), because the weights were ported from Google's
/// model, which expects [-1, 1]; images already in [-1, 1] therefore go in unchanged, which is
/// what `transform_input=True` computes for the same pictures, and what pytorch-fid feeds.
///
/// `Variant.pytorchFID` is pytorch-fid's port of the TensorFlow FID graph (1008-class `fc`):
/// average pooling in the blocks excludes padding, and the last block pools by max.
public final class InceptionV3: Module {
    public enum Variant: String, Sendable, Codable {
        case torchvision
        case pytorchFID
    }

    public let variant: Variant
    let stem: [(String, InceptionConv)]
    let mixed: [(String, Module)]

    public init(variant: Variant = .torchvision) {
        self.variant = variant
        let excludePad = variant == .pytorchFID
        stem = [
            ("Conv2d_1a_3x3", InceptionConv(3, 32, kernel: 3, stride: 2)),
            ("Conv2d_2a_3x3", InceptionConv(32, 32, kernel: 3)),
            ("Conv2d_2b_3x3", InceptionConv(32, 64, kernel: 3, padding: 1)),
            ("Conv2d_3b_1x1", InceptionConv(64, 80, kernel: 1)),
            ("Conv2d_4a_3x3", InceptionConv(80, 192, kernel: 3)),
        ]
        mixed = [
            ("Mixed_5b", InceptionA(192, poolFeatures: 32, excludePad: excludePad)),
            ("Mixed_5c", InceptionA(256, poolFeatures: 64, excludePad: excludePad)),
            ("Mixed_5d", InceptionA(288, poolFeatures: 64, excludePad: excludePad)),
            ("Mixed_6a", InceptionB(288)),
            ("Mixed_6b", InceptionC(768, channels7x7: 128, excludePad: excludePad)),
            ("Mixed_6c", InceptionC(768, channels7x7: 160, excludePad: excludePad)),
            ("Mixed_6d", InceptionC(768, channels7x7: 160, excludePad: excludePad)),
            ("Mixed_6e", InceptionC(768, channels7x7: 192, excludePad: excludePad)),
            ("Mixed_7a", InceptionD(768)),
            ("Mixed_7b", InceptionE(1280, pool: excludePad ? .averageExcludingPad : .average)),
            ("Mixed_7c", InceptionE(2048, pool: excludePad ? .max : .average)),
        ]
        super.init()
    }

    public override func namedChildren() -> [(String, Module)] {
        stem.map { ($0.0, $0.1 as Module) } + mixed
    }

    /// N×2048 pooled features of N×3×H×W input in [-1, 1] (H, W ≥ 75; 299 is the trained size).
    public func poolFeatures(_ x: Tensor) -> Tensor {
        var h = x
        for (i, (_, conv)) in stem.enumerated() {
            h = conv(h)
            // Max-pooling after Conv2d_2b_3x3 and after Conv2d_4a_3x3.
            if i == 2 || i == 4 { h = h.maxPool2d(kernel: 3, stride: 2) }
        }
        for (_, block) in mixed { h = (block as! any UnaryLayer)(h) }
        return h.mean(dims: [2, 3])
    }

    /// Reads weights saved from torchvision's `inception_v3` or pytorch-fid's `FIDInceptionA…E`
    /// model as safetensors; the variant follows from `fc.weight` (1000 classes: torchvision,
    /// 1008: pytorch-fid), or is `.torchvision` when there is no `fc`.
    public static func load(path: String) throws -> InceptionV3 {
        guard FileManager.default.fileExists(atPath: path) else {
            throw EvaluationError("\(path): no such Inception-v3 weights file")
        }
        let file: SafeTensors
        do {
            file = try SafeTensors.load(path: path)
        } catch let error as TorchError {
            throw EvaluationError("cannot read Inception-v3 weights: \(error.message)")
        }
        var variant = Variant.torchvision
        if let fc = file["fc.weight"] {
            switch fc.size(0) {
            case 1000: variant = .torchvision
            case 1008: variant = .pytorchFID
            default: throw EvaluationError("\(path): fc.weight has \(fc.size(0)) classes; expected torchvision's 1000 or pytorch-fid's 1008")
            }
        }
        let network = InceptionV3(variant: variant)
        var values = file.dictionary
        // Files saved by old PyTorch versions have no batch counters; they do not affect inference.
        for (name, tensor) in network.stateDict() where name.hasSuffix("num_batches_tracked") && values[name] == nil {
            values[name] = tensor
        }
        let wanted = Set(network.stateDict().map(\.0))
        do {
            try network.loadStateDict(values.filter { wanted.contains($0.key) })
        } catch let error as TorchError {
            throw EvaluationError("\(path) does not hold torchvision-named Inception-v3 weights: \(error.message)")
        }
        network.eval()
        network.freeze()
        return network
    }
}

/// torchvision's `BasicConv2d`: convolution without bias, batch norm (ε 0.001), ReLU.
public final class InceptionConv: Module, UnaryLayer {
    public let conv: Conv2d
    public let bn: BatchNorm2d

    init(_ inChannels: Int, _ outChannels: Int, kernel: Size2, stride: Size2 = 1, padding: Size2 = 0) {
        conv = Conv2d(inChannels, outChannels, kernelSize: kernel, stride: stride, padding: padding, bias: false)
        bn = BatchNorm2d(outChannels, eps: 0.001)
        super.init()
    }

    public func callAsFunction(_ x: Tensor) -> Tensor { bn(conv(x)).relu() }
}

/// A block of parallel branches whose convolutions are named as torchvision names them.
public class InceptionBlock: Module {
    let convs: [(String, InceptionConv)]
    private let byName: [String: InceptionConv]

    init(_ convs: [(String, InceptionConv)]) {
        self.convs = convs
        byName = Dictionary(uniqueKeysWithValues: convs)
        super.init()
    }

    public override func namedChildren() -> [(String, Module)] { convs.map { ($0.0, $0.1 as Module) } }

    func callAsFunction(_ name: String, _ x: Tensor) -> Tensor { byName[name]!(x) }

    static func averagePool(_ x: Tensor, excludePad: Bool) -> Tensor {
        x.avgPool2d(kernel: 3, stride: 1, padding: 1, countIncludePad: !excludePad)
    }
}

final class InceptionA: InceptionBlock, UnaryLayer {
    let excludePad: Bool
    init(_ c: Int, poolFeatures: Int, excludePad: Bool) {
        self.excludePad = excludePad
        super.init([
            ("branch1x1", InceptionConv(c, 64, kernel: 1)),
            ("branch5x5_1", InceptionConv(c, 48, kernel: 1)),
            ("branch5x5_2", InceptionConv(48, 64, kernel: 5, padding: 2)),
            ("branch3x3dbl_1", InceptionConv(c, 64, kernel: 1)),
            ("branch3x3dbl_2", InceptionConv(64, 96, kernel: 3, padding: 1)),
            ("branch3x3dbl_3", InceptionConv(96, 96, kernel: 3, padding: 1)),
            ("branch_pool", InceptionConv(c, poolFeatures, kernel: 1)),
        ])
    }

    func callAsFunction(_ x: Tensor) -> Tensor {
        let b1 = self("branch1x1", x)
        let b5 = self("branch5x5_2", self("branch5x5_1", x))
        let b3 = self("branch3x3dbl_3", self("branch3x3dbl_2", self("branch3x3dbl_1", x)))
        let bp = self("branch_pool", Self.averagePool(x, excludePad: excludePad))
        return Tensor.cat([b1, b5, b3, bp], dim: 1)
    }
}

final class InceptionB: InceptionBlock, UnaryLayer {
    init(_ c: Int) {
        super.init([
            ("branch3x3", InceptionConv(c, 384, kernel: 3, stride: 2)),
            ("branch3x3dbl_1", InceptionConv(c, 64, kernel: 1)),
            ("branch3x3dbl_2", InceptionConv(64, 96, kernel: 3, padding: 1)),
            ("branch3x3dbl_3", InceptionConv(96, 96, kernel: 3, stride: 2)),
        ])
    }

    func callAsFunction(_ x: Tensor) -> Tensor {
        let b3 = self("branch3x3", x)
        let bd = self("branch3x3dbl_3", self("branch3x3dbl_2", self("branch3x3dbl_1", x)))
        return Tensor.cat([b3, bd, x.maxPool2d(kernel: 3, stride: 2)], dim: 1)
    }
}

final class InceptionC: InceptionBlock, UnaryLayer {
    let excludePad: Bool
    init(_ c: Int, channels7x7 c7: Int, excludePad: Bool) {
        self.excludePad = excludePad
        let row = Size2(1, 7), column = Size2(7, 1), rowPad = Size2(0, 3), columnPad = Size2(3, 0)
        super.init([
            ("branch1x1", InceptionConv(c, 192, kernel: 1)),
            ("branch7x7_1", InceptionConv(c, c7, kernel: 1)),
            ("branch7x7_2", InceptionConv(c7, c7, kernel: row, padding: rowPad)),
            ("branch7x7_3", InceptionConv(c7, 192, kernel: column, padding: columnPad)),
            ("branch7x7dbl_1", InceptionConv(c, c7, kernel: 1)),
            ("branch7x7dbl_2", InceptionConv(c7, c7, kernel: column, padding: columnPad)),
            ("branch7x7dbl_3", InceptionConv(c7, c7, kernel: row, padding: rowPad)),
            ("branch7x7dbl_4", InceptionConv(c7, c7, kernel: column, padding: columnPad)),
            ("branch7x7dbl_5", InceptionConv(c7, 192, kernel: row, padding: rowPad)),
            ("branch_pool", InceptionConv(c, 192, kernel: 1)),
        ])
    }

    func callAsFunction(_ x: Tensor) -> Tensor {
        let b1 = self("branch1x1", x)
        let b7 = self("branch7x7_3", self("branch7x7_2", self("branch7x7_1", x)))
        var bd = x
        for i in 1 ... 5 { bd = self("branch7x7dbl_\(i)", bd) }
        let bp = self("branch_pool", Self.averagePool(x, excludePad: excludePad))
        return Tensor.cat([b1, b7, bd, bp], dim: 1)
    }
}

final class InceptionD: InceptionBlock, UnaryLayer {
    init(_ c: Int) {
        super.init([
            ("branch3x3_1", InceptionConv(c, 192, kernel: 1)),
            ("branch3x3_2", InceptionConv(192, 320, kernel: 3, stride: 2)),
            ("branch7x7x3_1", InceptionConv(c, 192, kernel: 1)),
            ("branch7x7x3_2", InceptionConv(192, 192, kernel: Size2(1, 7), padding: Size2(0, 3))),
            ("branch7x7x3_3", InceptionConv(192, 192, kernel: Size2(7, 1), padding: Size2(3, 0))),
            ("branch7x7x3_4", InceptionConv(192, 192, kernel: 3, stride: 2)),
        ])
    }

    func callAsFunction(_ x: Tensor) -> Tensor {
        let b3 = self("branch3x3_2", self("branch3x3_1", x))
        var b7 = x
        for i in 1 ... 4 { b7 = self("branch7x7x3_\(i)", b7) }
        return Tensor.cat([b3, b7, x.maxPool2d(kernel: 3, stride: 2)], dim: 1)
    }
}

final class InceptionE: InceptionBlock, UnaryLayer {
    enum Pool { case average, averageExcludingPad, max }
    let pool: Pool
    init(_ c: Int, pool: Pool) {
        self.pool = pool
        super.init([
            ("branch1x1", InceptionConv(c, 320, kernel: 1)),
            ("branch3x3_1", InceptionConv(c, 384, kernel: 1)),
            ("branch3x3_2a", InceptionConv(384, 384, kernel: Size2(1, 3), padding: Size2(0, 1))),
            ("branch3x3_2b", InceptionConv(384, 384, kernel: Size2(3, 1), padding: Size2(1, 0))),
            ("branch3x3dbl_1", InceptionConv(c, 448, kernel: 1)),
            ("branch3x3dbl_2", InceptionConv(448, 384, kernel: 3, padding: 1)),
            ("branch3x3dbl_3a", InceptionConv(384, 384, kernel: Size2(1, 3), padding: Size2(0, 1))),
            ("branch3x3dbl_3b", InceptionConv(384, 384, kernel: Size2(3, 1), padding: Size2(1, 0))),
            ("branch_pool", InceptionConv(c, 192, kernel: 1)),
        ])
    }

    func callAsFunction(_ x: Tensor) -> Tensor {
        let b1 = self("branch1x1", x)
        let s3 = self("branch3x3_1", x)
        let b3 = Tensor.cat([self("branch3x3_2a", s3), self("branch3x3_2b", s3)], dim: 1)
        let sd = self("branch3x3dbl_2", self("branch3x3dbl_1", x))
        let bd = Tensor.cat([self("branch3x3dbl_3a", sd), self("branch3x3dbl_3b", sd)], dim: 1)
        let pooled: Tensor
        switch pool {
        case .average: pooled = Self.averagePool(x, excludePad: false)
        case .averageExcludingPad: pooled = Self.averagePool(x, excludePad: true)
        case .max: pooled = x.maxPool2d(kernel: 3, stride: 1, padding: 1)
        }
        return Tensor.cat([b1, b3, bd, self("branch_pool", pooled)], dim: 1)
    }
}
