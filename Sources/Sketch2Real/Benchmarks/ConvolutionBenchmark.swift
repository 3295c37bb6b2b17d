import Foundation
import Torch

/// Times 2-D convolution forward + backward (input and weight gradients) through the Swift
/// API, on shapes that occur in the image networks, and reports GFLOP/s.
public struct ConvolutionBenchmark: Sendable {
    public struct Case: Sendable, Codable, Equatable {
        public var name: String
        public var batch: Int, inChannels: Int, outChannels: Int, size: Int, kernel: Int, stride: Int, padding: Int

        public var outputSize: Int { (size + 2 * padding - kernel) / stride + 1 }
        /// Multiply-adds ×2 of the forward pass; backward costs twice that (input and weight gradients).
        public var forwardBackwardFLOPs: Double {
            3 * 2 * Double(batch * outChannels * outputSize * outputSize * inChannels * kernel * kernel)
        }
    }

    public static let standardCases: [Case] = [
        Case(name: "stem 3→64 7×7 @256", batch: 1, inChannels: 3, outChannels: 64, size: 262, kernel: 7, stride: 1, padding: 0),
        Case(name: "down 64→128 3×3/2 @256", batch: 1, inChannels: 64, outChannels: 128, size: 256, kernel: 3, stride: 2, padding: 1),
        Case(name: "res 256→256 3×3 @64", batch: 1, inChannels: 256, outChannels: 256, size: 66, kernel: 3, stride: 1, padding: 0),
        Case(name: "res 256→256 3×3 @32 ×4", batch: 4, inChannels: 256, outChannels: 256, size: 34, kernel: 3, stride: 1, padding: 0),
    ]

    public struct Result: Sendable, Codable {
        public var name: String
        public var secondsPerIteration: Double
        public var gflops: Double
    }

    /// Median over `rounds` of the mean time of `iterations` forward+backward passes.
    public static func run(_ c: Case, rounds: Int = 5, iterations: Int = 3) -> Result {
        Torch.manualSeed(0)
        let x = Tensor.randn([c.batch, c.inChannels, c.size, c.size]).requiringGrad()
        let w = (Tensor.randn([c.outChannels, c.inChannels, c.kernel, c.kernel]) * 0.05).requiringGrad()
        let b = Tensor.zeros([c.outChannels]).requiringGrad()
        let upstream = Tensor.randn([c.batch, c.outChannels, c.outputSize, c.outputSize])
        func once() {
            let y = x.conv2d(weight: w, bias: b, stride: Size2(c.stride), padding: Size2(c.padding))
            y.backward(gradient: upstream)
            x.zeroGrad(); w.zeroGrad(); b.zeroGrad()
        }
        once()
        var times: [Double] = []
        for _ in 0 ..< rounds {
            let start = DispatchTime.now().uptimeNanoseconds
            for _ in 0 ..< iterations { once() }
            times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 / Double(iterations))
        }
        times.sort()
        let median = times[times.count / 2]
        return Result(name: c.name, secondsPerIteration: median, gflops: c.forwardBackwardFLOPs / median / 1e9)
    }
}
