import Foundation
import NN
import Torch

/// Per-pixel noise input (StyleGAN, Karras et al. 2019): one N(0, 1) map per image, shared by
/// every channel and scaled by a learned per-channel strength `weight` that starts at zero,
/// added to a feature map: `x + weight ⊙ noise`. It gives the generator a source of stochastic
/// detail (grass, foliage, grain) that it would otherwise have to derive from the sketch.
///
/// Where the noise comes from:
/// - given (`noise`, N×1×H×W or 1×1×H×W): used as it is (parity with PyTorch, tests);
/// - in training mode: drawn from libtorch's global generator, which the trainer seeds and whose
///   state every checkpoint saves, so a resumed run draws what an uninterrupted one would;
/// - in evaluation mode: a fixed map whose value at (row, column) depends only on the layer and
///   that position (`constant`), as StyleGAN2-ADA's `noise_mode='const'` — translating is then
///   repeatable, the same in a batch as alone, and does not consume the global generator (which
///   draws LSRAGAN's codes).
public final class NoiseInjection: Module {
    /// The per-channel strength, zero at initialisation (the layer is then the identity).
    @Parameter public var weight: Tensor
    /// Which layer this is: the constant map of layer k differs from layer j's.
    public let layer: Int
    /// The last evaluation map, already in the dtype and on the device it was used with: a
    /// translator calls the layer again and again at one size, and the map costs H×W hashes.
    private var cached: (height: Int, width: Int, dtype: DType, device: Device, map: Tensor)?
    private let cacheLock = NSLock()

    public init(channels: Int, layer: Int) {
        self.layer = layer
        _weight = Parameter(wrappedValue: Tensor.zeros([channels]))
        super.init()
    }

    public func callAsFunction(_ x: Tensor, noise: Tensor? = nil) -> Tensor {
        let (n, h, w) = (x.size(0), x.size(2), x.size(3))
        let map: Tensor
        if let noise {
            map = noise.to(x.dtype)
        } else if isTraining {
            map = Tensor.randn([n, 1, h, w], dtype: x.dtype, device: x.device)
        } else {
            map = evaluationMap(height: h, width: w, dtype: x.dtype, device: x.device)
        }
        return x + weight.to(x.dtype).reshape([1, weight.size(0), 1, 1]) * map
    }

    /// `constant(layer:height:width:)` in `dtype` on `device`, computed once per size.
    func evaluationMap(height: Int, width: Int, dtype: DType, device: Device) -> Tensor {
        cacheLock.withLock {
            if let c = cached, c.height == height, c.width == width, c.dtype == dtype, c.device == device { return c.map }
            let map = Self.constant(layer: layer, height: height, width: width).to(dtype).to(device)
            cached = (height, width, dtype, device, map)
            return map
        }
    }

    /// The evaluation-mode noise of layer `layer`: 1×1×H×W standard normal values, each a pure
    /// function of (layer, row, column) by SplitMix64's hash and the Box–Muller transform, so a
    /// padded or larger image sees the same values where it overlaps a smaller one.
    public static func constant(layer: Int, height: Int, width: Int) -> Tensor {
        var values = [Float](repeating: 0, count: height * width)
        let key = SplitMix64.mix(0x6E6F_6973_6500 ^ UInt64(layer))
        for r in 0 ..< height {
            let row = SplitMix64.mix(key ^ UInt64(r))
            for c in 0 ..< width {
                let bits = SplitMix64.mix(row ^ SplitMix64.mix(UInt64(c)))
                // Two 32-bit uniforms in (0, 1) and [0, 1) from one 64-bit hash.
                let u1 = (Double(bits >> 32) + 0.5) * 0x1.0p-32
                let u2 = Double(bits & 0xFFFF_FFFF) * 0x1.0p-32
                values[r * width + c] = Float((-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2))
            }
        }
        return Tensor(values, shape: [1, 1, height, width])
    }
}
