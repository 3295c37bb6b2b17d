import Torch

public final class ReLU: Module, UnaryLayer {
    public override init() { super.init() }
    public func callAsFunction(_ x: Tensor) -> Tensor { x.relu() }
}

public final class LeakyReLU: Module, UnaryLayer {
    public let negativeSlope: Double
    public init(_ negativeSlope: Double = 0.01) {
        self.negativeSlope = negativeSlope
        super.init()
    }
    public func callAsFunction(_ x: Tensor) -> Tensor { x.leakyRelu(negativeSlope) }
}

public final class Tanh: Module, UnaryLayer {
    public override init() { super.init() }
    public func callAsFunction(_ x: Tensor) -> Tensor { x.tanh() }
}

public final class Sigmoid: Module, UnaryLayer {
    public override init() { super.init() }
    public func callAsFunction(_ x: Tensor) -> Tensor { x.sigmoid() }
}

public final class Identity: Module, UnaryLayer {
    public override init() { super.init() }
    public func callAsFunction(_ x: Tensor) -> Tensor { x }
}

/// Zeroes elements with probability `p` in training mode; the identity in evaluation mode.
public final class Dropout: Module, UnaryLayer {
    public let p: Double
    public init(_ p: Double = 0.5) {
        precondition((0 ... 1).contains(p), "dropout probability must lie in [0, 1]")
        self.p = p
        super.init()
    }
    public func callAsFunction(_ x: Tensor) -> Tensor { x.dropout(p: p, training: isTraining) }
}

/// Mirror padding of the last two dimensions: (left, right, top, bottom).
public final class ReflectionPad2d: Module, UnaryLayer {
    public let padding: [Int]
    public init(_ padding: Int) {
        self.padding = [padding, padding, padding, padding]
        super.init()
    }
    public init(left: Int, right: Int, top: Int, bottom: Int) {
        padding = [left, right, top, bottom]
        super.init()
    }
    public func callAsFunction(_ x: Tensor) -> Tensor { x.padded(padding, mode: .reflect) }
}

/// Resizes NCHW input by a scale factor.
public final class Upsample: Module, UnaryLayer {
    public enum Mode: String, Sendable, Codable { case nearest, bilinear }
    public let scale: Double
    public let mode: Mode
    public let alignCorners: Bool
    public init(scale: Double, mode: Mode = .nearest, alignCorners: Bool = false) {
        self.scale = scale
        self.mode = mode
        self.alignCorners = alignCorners
        super.init()
    }
    public func callAsFunction(_ x: Tensor) -> Tensor {
        switch mode {
        case .nearest: x.upsampleNearest(scale: scale)
        case .bilinear: x.upsampleBilinear(scale: scale, alignCorners: alignCorners)
        }
    }
}

public final class AvgPool2d: Module, UnaryLayer {
    public let kernelSize: Size2, stride: Size2, padding: Size2
    public let ceilMode: Bool, countIncludePad: Bool
    public init(kernelSize: Size2, stride: Size2? = nil, padding: Size2 = 0, ceilMode: Bool = false,
                countIncludePad: Bool = true) {
        self.kernelSize = kernelSize
        self.stride = stride ?? kernelSize
        self.padding = padding
        self.ceilMode = ceilMode
        self.countIncludePad = countIncludePad
        super.init()
    }
    public func callAsFunction(_ x: Tensor) -> Tensor {
        x.avgPool2d(kernel: kernelSize, stride: stride, padding: padding, ceilMode: ceilMode, countIncludePad: countIncludePad)
    }
}

/// Unary layers applied in order; children are named "0", "1", … as in PyTorch.
public final class Sequential: Module, UnaryLayer {
    public private(set) var layers: [any UnaryLayer]

    public init(_ layers: [any UnaryLayer]) {
        self.layers = layers
        super.init()
    }
    public convenience init(_ layers: any UnaryLayer...) { self.init(layers) }

    public func append(_ layer: any UnaryLayer) { layers.append(layer) }
    public var count: Int { layers.count }
    public subscript(index: Int) -> any UnaryLayer { layers[index] }

    public override func namedChildren() -> [(String, Module)] {
        layers.enumerated().map { ("\($0.offset)", $0.element as Module) }
    }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        layers.reduce(x) { $1($0) }
    }
}
