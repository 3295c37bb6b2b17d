import Foundation
import Torch

/// Weight initialisation schemes (drawn from the global generator).
public enum Init {
    /// Uniform in [-bound, bound] (PyTorch's default for convolutions and linear layers).
    public static func uniform(_ shape: [Int], bound: Double) -> Tensor {
        let t = Tensor.empty(shape)
        t.uniformInPlace(-bound, bound)
        return t
    }

    /// (fan-in, fan-out) of a weight shaped (out, in, k...) as PyTorch computes them.
    public static func fans(_ shape: [Int]) -> (fanIn: Int, fanOut: Int) {
        precondition(shape.count >= 2, "fan-in and fan-out need at least two dimensions")
        let receptive = shape.dropFirst(2).reduce(1, *)
        return (shape[1] * receptive, shape[0] * receptive)
    }

    public static func normal(_ t: Tensor, mean: Double = 0, std: Double) {
        withNoGrad { t.normalInPlace(mean: mean, std: std) }
    }

    /// Glorot normal: std = gain · √(2 / (fan-in + fan-out)).
    public static func xavierNormal(_ t: Tensor, gain: Double = 1) {
        let (fi, fo) = fans(t.shape)
        normal(t, std: gain * (2 / Double(fi + fo)).squareRoot())
    }

    /// He normal for leaky-ReLU slope `a`, using fan-in (`fanOut: false`) or fan-out.
    public static func kaimingNormal(_ t: Tensor, a: Double = 0, fanOut: Bool = false) {
        let (fi, fo) = fans(t.shape)
        let gain = (2 / (1 + a * a)).squareRoot()
        normal(t, std: gain / Double(fanOut ? fo : fi).squareRoot())
    }

    public static func constant(_ t: Tensor, _ value: Double) {
        withNoGrad { t.fillInPlace(value) }
    }
}

/// How `initializeWeights` sets convolution and linear weights (pix2pix's `init_type`).
public enum InitScheme: String, Sendable, Codable, CaseIterable {
    case normal, xavier, kaiming
}

extension Module {
    /// pix2pix's `init_weights`: convolution and linear weights from `scheme` with `gain`
    /// (the standard deviation for `normal`), biases zero; batch-norm scale ~ N(1, gain), shift zero.
    public func initializeWeights(_ scheme: InitScheme = .normal, gain: Double = 0.02) {
        for (_, module) in namedModules() {
            let weight: Tensor?, bias: Tensor?
            switch module {
            case let m as Conv2d: (weight, bias) = (m.weight, m.bias)
            case let m as ConvTranspose2d: (weight, bias) = (m.weight, m.bias)
            case let m as Linear: (weight, bias) = (m.weight, m.bias)
            case let m as BatchNorm2d:
                if let w = m.weight { Init.normal(w, mean: 1, std: gain) }
                if let b = m.bias { Init.constant(b, 0) }
                continue
            default: continue
            }
            if let weight {
                switch scheme {
                case .normal: Init.normal(weight, std: gain)
                case .xavier: Init.xavierNormal(weight, gain: gain)
                case .kaiming: Init.kaimingNormal(weight)
                }
            }
            if let bias { Init.constant(bias, 0) }
        }
    }
}
