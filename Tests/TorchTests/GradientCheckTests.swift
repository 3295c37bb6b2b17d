import XCTest
@testable import Torch

/// Autograd's gradients against central finite differences in float64. The fixture tests
/// compare with PyTorch, which shares libtorch's derivative formulas; these checks compare
/// with the definition of a derivative instead, so a wrongly wired argument (a swapped
/// stride, a weight passed as bias) that happens to agree with itself is still caught.
final class GradientCheckTests: XCTestCase {
    private func randn(_ shape: [Int], _ seed: UInt64, scale: Double = 1) -> Tensor {
        seededRandn(shape, seed: seed, scale: scale)
    }
    /// Values in [0.5, 2.5): away from the poles of log, sqrt and 1/x.
    private func positive(_ shape: [Int], _ seed: UInt64) -> Tensor { seededRand(shape, seed: seed, low: 0.5, high: 2.5) }

    func testHelperRejectsWrongGradients() {
        let x = randn([3, 4], 1)
        // Detaching one factor halves the true derivative of x², which the helper must notice.
        let wrong = gradientMismatches(inputs: [x]) { $0[0] * $0[0].detached() }
        XCTAssertEqual(wrong.count, 1)
        XCTAssertTrue(wrong.first?.contains("12 of 12 elements differ") ?? false, "\(wrong)")
        XCTAssertEqual(gradientMismatches(inputs: [x]) { $0[0] * $0[0] }, [])
        XCTAssertEqual(gradientMismatches(inputs: [x]) { $0[0].to(.float32) }, ["function returned float32, not float64"])
        XCTAssertEqual(gradientMismatches(inputs: [x]) { $0[0].detached() },
                       ["function output does not depend on any input"])
    }

    func testElementwiseGradients() {
        let a = randn([2, 3, 4], 1), b = randn([3, 1], 2), c = randn([3, 4], 3), p = positive([4], 4)
        assertGradientsMatch(inputs: [a, b], "add") { $0[0] + $0[1] }
        assertGradientsMatch(inputs: [a, b], "sub") { $0[0] - $0[1] }
        assertGradientsMatch(inputs: [a, b], "mul") { $0[0] * $0[1] }
        assertGradientsMatch(inputs: [c, p], "div") { $0[0] / $0[1] }
        assertGradientsMatch(inputs: [a, c], "adding alpha") { $0[0].adding($0[1], alpha: -2.5) }
        assertGradientsMatch(inputs: [positive([3, 4], 5), randn([4], 6)], "pow tensor") { $0[0].pow($0[1]) }
        assertGradientsMatch(inputs: [c, randn([1, 4], 7)], "maximum") { $0[0].maximum($0[1]) }
        assertGradientsMatch(inputs: [c, randn([3, 1], 8)], "minimum") { $0[0].minimum($0[1]) }
        assertGradientsMatch(inputs: [c, randn([3, 4], 9)], "lerp") { $0[0].lerp($0[1], weight: 0.3) }
        let condition = randn([3, 4], 10).gt(0)
        assertGradientsMatch(inputs: [c, randn([4], 11)], "where") { Tensor.where(condition, $0[0], $0[1]) }

        let x = randn([2, 5], 12), q = positive([2, 5], 13)
        assertGradientsMatch(inputs: [x], "x + s") { $0[0] + 2.5 }
        assertGradientsMatch(inputs: [x], "s + x") { -1.25 + $0[0] }
        assertGradientsMatch(inputs: [x], "x - s") { $0[0] - 0.75 }
        assertGradientsMatch(inputs: [x], "s - x") { 3 - $0[0] }
        assertGradientsMatch(inputs: [x], "x * s") { $0[0] * -4 }
        assertGradientsMatch(inputs: [x], "s * x") { 0.5 * $0[0] }
        assertGradientsMatch(inputs: [x], "x / s") { $0[0] / -3 }
        assertGradientsMatch(inputs: [q], "s / x") { 2 / $0[0] }
        assertGradientsMatch(inputs: [x], "x ^ 3") { $0[0].pow(3) }
        assertGradientsMatch(inputs: [q], "x ^ 0.5") { $0[0].pow(0.5) }
        assertGradientsMatch(inputs: [q], "x ^ -1.5") { $0[0].pow(-1.5) }
        assertGradientsMatch(inputs: [x], "neg") { -$0[0] }
        assertGradientsMatch(inputs: [x], "abs") { $0[0].abs() }
        assertGradientsMatch(inputs: [x], "exp") { $0[0].exp() }
        assertGradientsMatch(inputs: [q], "log") { $0[0].log() }
        assertGradientsMatch(inputs: [q - 1.2], "log1p") { $0[0].log1p() }
        assertGradientsMatch(inputs: [q], "sqrt") { $0[0].sqrt() }
        assertGradientsMatch(inputs: [q], "rsqrt") { $0[0].rsqrt() }
        assertGradientsMatch(inputs: [x], "square") { $0[0].square() }
        assertGradientsMatch(inputs: [x * 3], "sin") { $0[0].sin() }
        assertGradientsMatch(inputs: [x * 3], "cos") { $0[0].cos() }
        // Piecewise-constant functions have zero derivative away from their jumps.
        assertGradientsMatch(inputs: [x * 3], "sign") { $0[0].sign() * $0[0] }
        assertGradientsMatch(inputs: [x * 3], "floor") { $0[0].floor() + $0[0].ceil() + $0[0].rounded() }
        assertGradientsMatch(inputs: [x], "clamp both") { $0[0].clamp(min: -0.5, max: 0.7) }
        assertGradientsMatch(inputs: [x], "clamp min") { $0[0].clamp(min: 0.1) }
        assertGradientsMatch(inputs: [x], "clamp max") { $0[0].clamp(max: -0.2) }
    }

    func testActivationGradients() {
        let x = randn([3, 5], 20, scale: 2)
        assertGradientsMatch(inputs: [x], "relu") { $0[0].relu() }
        assertGradientsMatch(inputs: [x], "leaky relu") { $0[0].leakyRelu(0.2) }
        assertGradientsMatch(inputs: [x], "sigmoid") { $0[0].sigmoid() }
        assertGradientsMatch(inputs: [x], "tanh") { $0[0].tanh() }
        assertGradientsMatch(inputs: [x * 2], "softplus") { $0[0].softplus() }
        // Beta 2 with threshold 1 switches to the identity above x = 0.5, so both branches run.
        assertGradientsMatch(inputs: [x], "softplus beta threshold") { $0[0].softplus(beta: 2, threshold: 1) }
        let y = randn([2, 4, 3], 21)
        assertGradientsMatch(inputs: [y], "softmax") { $0[0].softmax(dim: 1) }
        assertGradientsMatch(inputs: [y], "log softmax") { $0[0].logSoftmax(dim: -1) }
    }

    func testReductionGradients() {
        let x = randn([3, 4, 5], 30)
        assertGradientsMatch(inputs: [x], "sum all") { $0[0].sum() }
        assertGradientsMatch(inputs: [x], "sum dims") { $0[0].sum(dims: [0, 2]) }
        assertGradientsMatch(inputs: [x], "sum keepdim") { $0[0].sum(dims: [1], keepDim: true) }
        assertGradientsMatch(inputs: [x], "mean all") { $0[0].mean() }
        assertGradientsMatch(inputs: [x], "mean dims") { $0[0].mean(dims: [-1]) }
        assertGradientsMatch(inputs: [x], "max all") { $0[0].max() }
        assertGradientsMatch(inputs: [x], "max dims") { $0[0].max(dims: [0, 2], keepDim: true) }
        assertGradientsMatch(inputs: [x], "min dims") { $0[0].min(dims: [1]) }
        assertGradientsMatch(inputs: [x], "variance all") { $0[0].variance() }
        assertGradientsMatch(inputs: [x], "variance biased") { $0[0].variance(dims: [1], correction: 0, keepDim: true) }
        assertGradientsMatch(inputs: [x], "std") { $0[0].std(dims: [0, 2]) }
        assertGradientsMatch(inputs: [x], "std biased") { $0[0].std(dims: [2], correction: 0) }
        assertGradientsMatch(inputs: [x], "norm 2") { $0[0].norm() }
        assertGradientsMatch(inputs: [x], "norm 1") { $0[0].norm(p: 1, dims: [1]) }
        assertGradientsMatch(inputs: [x], "norm 3") { $0[0].norm(p: 3, dims: [0, 2], keepDim: true) }
        assertGradientsMatch(inputs: [x], "logsumexp") { $0[0].logSumExp(dims: [1]) }
    }

    func testLinearAlgebraGradients() {
        assertGradientsMatch(inputs: [randn([3, 4], 40), randn([4, 5], 41)], "matmul") { $0[0].matmul($0[1]) }
        assertGradientsMatch(inputs: [randn([2, 1, 3, 4], 42), randn([3, 4, 2], 43)], "batched matmul") {
            $0[0].matmul($0[1])
        }
        assertGradientsMatch(inputs: [randn([4], 44), randn([4, 3], 45)], "vector matmul") { $0[0].matmul($0[1]) }
        assertGradientsMatch(inputs: [randn([3, 4], 46), randn([4], 47)], "mv") { $0[0].mv($0[1]) }
        assertGradientsMatch(inputs: [randn([6], 48), randn([6], 49)], "dot") { $0[0].dot($0[1]) }
        assertGradientsMatch(inputs: [randn([2, 3, 5], 50), randn([4, 5], 51), randn([4], 52)], "linear") {
            $0[0].linear(weight: $0[1], bias: $0[2])
        }
        assertGradientsMatch(inputs: [randn([3, 5], 53), randn([4, 5], 54)], "linear without bias") {
            $0[0].linear(weight: $0[1])
        }
    }

    func testShapeGradients() {
        let x = randn([2, 3, 4], 60)
        assertGradientsMatch(inputs: [x], "reshape") { $0[0].reshape([4, -1]) }
        assertGradientsMatch(inputs: [x], "flatten") { $0[0].flatten(startDim: 1) }
        assertGradientsMatch(inputs: [x], "permute") { $0[0].permute(2, 0, 1) }
        assertGradientsMatch(inputs: [x], "transposed") { $0[0].transposed(0, 2) }
        assertGradientsMatch(inputs: [x], "T") { $0[0].T }
        assertGradientsMatch(inputs: [randn([3, 1], 61)], "expand") { $0[0].expand([2, 3, 4]) }
        assertGradientsMatch(inputs: [randn([2, 3], 62)], "repeated") { $0[0].repeated([2, 1, 3]) }
        assertGradientsMatch(inputs: [x], "flipped") { $0[0].flipped([0, 2]) }
        assertGradientsMatch(inputs: [randn([3, 1, 2], 63)], "squeezed") { $0[0].squeezed(1) }
        assertGradientsMatch(inputs: [x], "unsqueezed") { $0[0].unsqueezed(-1) }
        assertGradientsMatch(inputs: [randn([3, 8, 2], 64)], "slice with step") { $0[0].slice(dim: 1, start: 1, end: 7, step: 2) }
        assertGradientsMatch(inputs: [x], "narrow") { $0[0].narrow(dim: 2, start: 1, length: 2) }
        assertGradientsMatch(inputs: [x], "select") { $0[0].select(dim: 1, index: -1) }
        let index = Tensor([2, 0, 2, 3] as [Int64])
        assertGradientsMatch(inputs: [randn([4, 3], 65)], "index select") { $0[0].indexSelect(dim: 0, index: index) }
        // Weighting the pieces differently makes a piece returned in the wrong place visible.
        assertGradientsMatch(inputs: [randn([2, 7], 66)], "chunked") { t in
            Tensor.cat(t[0].chunked(3, dim: 1).enumerated().map { $0.element * Double($0.offset + 1) }, dim: 1)
        }
        assertGradientsMatch(inputs: [randn([6, 2], 67)], "split") { t in
            Tensor.cat(t[0].split(sizes: [1, 3, 2]).enumerated().map { $0.element * Double($0.offset - 1) })
        }
        assertGradientsMatch(inputs: [randn([2, 1, 3], 68), randn([2, 4, 3], 69)], "cat") { Tensor.cat($0, dim: 1) }
        assertGradientsMatch(inputs: [randn([2, 3], 70), randn([2, 3], 71)], "stack") { Tensor.stack($0, dim: 2) }
        let image = randn([1, 2, 4, 5], 72)
        assertGradientsMatch(inputs: [image], "constant pad") { $0[0].padded([1, 2, 0, 3], value: 0.5) }
        assertGradientsMatch(inputs: [image], "reflect pad") { $0[0].padded([2, 1, 1, 3], mode: .reflect) }
        assertGradientsMatch(inputs: [image], "replicate pad") { $0[0].padded([0, 2, 3, 1], mode: .replicate) }
        assertGradientsMatch(inputs: [randn([2, 3, 6], 73)], "reflect pad 1-D") { $0[0].padded([2, 3], mode: .reflect) }
        assertGradientsMatch(inputs: [x], "contiguous") { $0[0].permute(2, 0, 1).contiguous() }
        assertGradientsMatch(inputs: [x], "clone") { $0[0].clone() * 2 }
    }

    func testConvolutionGradients() {
        let x = randn([2, 2, 5, 5], 80), w = randn([3, 2, 3, 3], 81), b = randn([3], 82)
        assertGradientsMatch(inputs: [x, w, b], "conv2d") { $0[0].conv2d(weight: $0[1], bias: $0[2]) }
        assertGradientsMatch(inputs: [x, w, b], "conv2d stride 2") {
            $0[0].conv2d(weight: $0[1], bias: $0[2], stride: 2, padding: 1)
        }
        assertGradientsMatch(inputs: [randn([1, 2, 7, 5], 83), randn([3, 2, 3, 2], 84)], "conv2d asymmetric") {
            $0[0].conv2d(weight: $0[1], stride: Size2(2, 1), padding: Size2(0, 2), dilation: Size2(1, 2))
        }
        assertGradientsMatch(inputs: [x, randn([3, 2, 3, 3], 85)], "conv2d dilation") {
            $0[0].conv2d(weight: $0[1], padding: 2, dilation: 2)
        }
        assertGradientsMatch(inputs: [randn([2, 4, 5, 5], 86), randn([6, 2, 3, 3], 87), randn([6], 88)], "conv2d groups") {
            $0[0].conv2d(weight: $0[1], bias: $0[2], padding: 1, groups: 2)
        }

        let wt = randn([2, 3, 3, 3], 89), bt = randn([3], 90)
        assertGradientsMatch(inputs: [x, wt, bt], "conv transpose stride 2") {
            $0[0].convTranspose2d(weight: $0[1], bias: $0[2], stride: 2, padding: 1, outputPadding: 1)
        }
        assertGradientsMatch(inputs: [randn([1, 2, 3, 4], 91), randn([2, 3, 4, 3], 92)], "conv transpose asymmetric") {
            $0[0].convTranspose2d(weight: $0[1], stride: Size2(2, 1), padding: Size2(1, 0), outputPadding: Size2(1, 0))
        }
        assertGradientsMatch(inputs: [randn([1, 4, 3, 3], 93), randn([4, 2, 3, 3], 94), randn([4], 95)], "conv transpose groups") {
            $0[0].convTranspose2d(weight: $0[1], bias: $0[2], padding: 1, groups: 2)
        }
        assertGradientsMatch(inputs: [x, wt], "conv transpose dilation") {
            $0[0].convTranspose2d(weight: $0[1], padding: 1, dilation: 2)
        }
    }

    func testNormalisationGradients() {
        let x = randn([2, 2, 5, 5], 100, scale: 2), w = randn([2], 101), b = randn([2], 102)
        assertGradientsMatch(inputs: [x, w, b], "batch norm training") {
            $0[0].batchNorm(weight: $0[1], bias: $0[2], runningMean: nil, runningVar: nil, training: true)
        }
        let mean = randn([2], 103), variance = positive([2], 104)
        assertGradientsMatch(inputs: [x, w, b], "batch norm inference") {
            $0[0].batchNorm(weight: $0[1], bias: $0[2], runningMean: mean, runningVar: variance, training: false)
        }
        assertGradientsMatch(inputs: [randn([6, 3], 105)], "batch norm 2-D without affine") {
            $0[0].batchNorm(weight: nil, bias: nil, runningMean: nil, runningVar: nil, training: true, eps: 1e-3)
        }
        assertGradientsMatch(inputs: [x], "instance norm") { $0[0].instanceNorm() }
        assertGradientsMatch(inputs: [x, w, b], "instance norm affine") {
            $0[0].instanceNorm(weight: $0[1], bias: $0[2], eps: 1e-3)
        }
        assertGradientsMatch(inputs: [x, w, b], "instance norm with running statistics") {
            $0[0].instanceNorm(weight: $0[1], bias: $0[2], runningMean: mean, runningVar: variance, useInputStats: false)
        }
    }

    func testPoolingGradients() {
        let x = randn([2, 2, 5, 5], 110), odd = randn([1, 2, 7, 6], 111)
        assertGradientsMatch(inputs: [x], "avg pool") { $0[0].avgPool2d(kernel: 2) }
        assertGradientsMatch(inputs: [odd], "avg pool padded") { $0[0].avgPool2d(kernel: 3, stride: 2, padding: 1) }
        assertGradientsMatch(inputs: [odd], "avg pool excluding padding") {
            $0[0].avgPool2d(kernel: 3, stride: 2, padding: 1, countIncludePad: false)
        }
        assertGradientsMatch(inputs: [odd], "avg pool ceil") {
            $0[0].avgPool2d(kernel: Size2(3, 2), stride: Size2(2, 3), ceilMode: true)
        }
        assertGradientsMatch(inputs: [x], "max pool") { $0[0].maxPool2d(kernel: 2) }
        assertGradientsMatch(inputs: [odd], "max pool padded") { $0[0].maxPool2d(kernel: 3, stride: 2, padding: 1) }
        assertGradientsMatch(inputs: [odd], "max pool dilated") { $0[0].maxPool2d(kernel: 2, stride: Size2(1, 2), dilation: 2) }
        assertGradientsMatch(inputs: [odd], "max pool ceil") { $0[0].maxPool2d(kernel: Size2(2, 3), stride: 2, ceilMode: true) }
        assertGradientsMatch(inputs: [odd], "adaptive avg pool") { $0[0].adaptiveAvgPool2d(Size2(3, 2)) }
        assertGradientsMatch(inputs: [odd], "adaptive max pool") { $0[0].adaptiveMaxPool2d(Size2(3, 4)) }
    }

    func testResamplingGradients() {
        let x = randn([1, 2, 4, 5], 120)
        assertGradientsMatch(inputs: [x], "nearest size") { $0[0].upsampleNearest(size: Size2(7, 9)) }
        assertGradientsMatch(inputs: [x], "nearest down") { $0[0].upsampleNearest(size: Size2(3, 2)) }
        assertGradientsMatch(inputs: [x], "nearest scale") { $0[0].upsampleNearest(scale: 1.5) }
        assertGradientsMatch(inputs: [x], "bilinear") { $0[0].upsampleBilinear(size: Size2(7, 9)) }
        assertGradientsMatch(inputs: [x], "bilinear aligned") { $0[0].upsampleBilinear(size: Size2(7, 9), alignCorners: true) }
        assertGradientsMatch(inputs: [x], "bilinear scale") { $0[0].upsampleBilinear(scale: 2) }
        assertGradientsMatch(inputs: [x], "bilinear down") { $0[0].upsampleBilinear(size: Size2(3, 2)) }
    }

    func testLossGradients() {
        let x = randn([2, 3, 4], 130), y = randn([2, 3, 4], 131)
        for reduction in [Reduction.none, .mean, .sum] {
            assertGradientsMatch(inputs: [x, y], "l1 \(reduction)") { $0[0].l1Loss($0[1], reduction: reduction) }
            assertGradientsMatch(inputs: [x, y], "mse \(reduction)") { $0[0].mseLoss($0[1], reduction: reduction) }
        }
        let logits = randn([2, 4, 3], 132, scale: 3), target = seededRand([2, 4, 3], seed: 133)
        let weight = positive([4, 1], 134), posWeight = positive([3], 135)
        for reduction in [Reduction.none, .mean, .sum] {
            assertGradientsMatch(inputs: [logits, target], "bce \(reduction)") {
                $0[0].bceWithLogits($0[1], reduction: reduction)
            }
            assertGradientsMatch(inputs: [logits, target], "weighted bce \(reduction)") {
                $0[0].bceWithLogits($0[1], weight: weight, posWeight: posWeight, reduction: reduction)
            }
        }
    }

    func testDropoutGradientsWhenDeterministic() {
        let x = randn([3, 4], 140)
        assertGradientsMatch(inputs: [x], "dropout p=0") { $0[0].dropout(p: 0, training: true) }
        assertGradientsMatch(inputs: [x], "dropout eval") { $0[0].dropout(p: 0.5, training: false) }
    }

    /// The shape of a generator block: every op's backward feeds the next one's.
    func testCompositeGradients() {
        let x = randn([2, 2, 5, 5], 150)
        let w1 = randn([3, 2, 3, 3], 151, scale: 0.5), b1 = randn([3], 152)
        let gamma = positive([3], 153), beta = randn([3], 154)
        let w2 = randn([3, 2, 3, 3], 155, scale: 0.5), b2 = randn([2], 156)
        let target = seededRand([2, 2, 5, 5], seed: 157, low: -1, high: 1)
        assertGradientsMatch(inputs: [x, w1, b1, gamma, beta, w2, b2], "conv → norm → leaky relu → conv transpose → tanh → l1") { t in
            var h = t[0].conv2d(weight: t[1], bias: t[2], stride: 2, padding: 1)
            h = h.instanceNorm(weight: t[3], bias: t[4]).leakyRelu(0.2)
            h = h.convTranspose2d(weight: t[5], bias: t[6], stride: 2, padding: 1)
            XCTAssertEqual(h.shape, [2, 2, 5, 5])
            return h.tanh().l1Loss(target)
        }
    }
}
