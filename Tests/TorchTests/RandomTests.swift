import XCTest
@testable import Torch

final class RandomTests: XCTestCase {
    func testSameSeedSameValues() {
        Torch.manualSeed(2024)
        let a = Tensor.randn([50]).toArray(Float.self), b = Tensor.rand([7]).toArray(Float.self)
        Torch.manualSeed(2024)
        XCTAssertEqual(Tensor.randn([50]).toArray(Float.self), a)
        XCTAssertEqual(Tensor.rand([7]).toArray(Float.self), b)
        Torch.manualSeed(2025)
        XCTAssertNotEqual(Tensor.randn([50]).toArray(Float.self), a)
    }

    func testStateRestoreReplaysTheSameDraws() throws {
        Torch.manualSeed(7)
        // An odd-sized normal draw leaves a cached sample in the generator; it is part of the state.
        _ = Tensor.randn([1], dtype: .float64)
        let state = Torch.rngState()
        XCTAssertEqual(state.count, 5056, "libtorch's CPU generator state")
        let first = (Tensor.randn([3], dtype: .float64).toArray(Double.self), Tensor.rand([20]).toArray(Float.self),
                     Tensor.randint(0, 1000, [5]).toArray(Int64.self))
        XCTAssertNotEqual(Torch.rngState(), state, "drawing advances the state")
        try Torch.setRNGState(state)
        XCTAssertEqual(Torch.rngState(), state)
        let second = (Tensor.randn([3], dtype: .float64).toArray(Double.self), Tensor.rand([20]).toArray(Float.self),
                      Tensor.randint(0, 1000, [5]).toArray(Int64.self))
        XCTAssertEqual(first.0, second.0)
        XCTAssertEqual(first.1, second.1)
        XCTAssertEqual(first.2, second.2)
    }

    func testRejectsForeignState() {
        Torch.manualSeed(1)
        let expected = Tensor.rand([4]).toArray(Float.self)
        Torch.manualSeed(1)
        XCTAssertThrowsError(try Torch.setRNGState([1, 2, 3])) { error in
            // libtorch's own words after our prefix; 2.x no longer mentions the legacy state.
            let message = (error as? TorchError)?.message ?? ""
            XCTAssertTrue(message.hasPrefix("cannot restore the random generator: Expected "), message)
            XCTAssertTrue(message.hasSuffix("CPUGeneratorImplState of size 5056 but found the input RNG state size to be 3"), message)
        }
        XCTAssertEqual(Tensor.rand([4]).toArray(Float.self), expected, "a rejected state leaves the generator alone")
    }

    func testDistributionsStayInRange() {
        Torch.manualSeed(3)
        let u = Tensor.rand([10_000], dtype: .float64).toArray(Double.self)
        XCTAssertTrue(u.allSatisfy { $0 >= 0 && $0 < 1 })
        XCTAssertEqual(u.reduce(0, +) / Double(u.count), 0.5, accuracy: 0.02)

        let n = Tensor.randn([20_000], dtype: .float64)
        XCTAssertEqual(n.mean().item(), 0, accuracy: 0.05)
        XCTAssertEqual(n.std().item(), 1, accuracy: 0.05)

        let normal = Tensor.empty([20_000], dtype: .float64)
        normal.normalInPlace(mean: 3, std: 0.5)
        XCTAssertEqual(normal.mean().item(), 3, accuracy: 0.03)
        XCTAssertEqual(normal.std().item(), 0.5, accuracy: 0.03)

        let uniform = Tensor.empty([10_000])
        uniform.uniformInPlace(-2, 5)
        XCTAssertTrue(uniform.toArray(Float.self).allSatisfy { $0 >= -2 && $0 < 5 })

        let ints = Tensor.randint(-3, 4, [5_000])
        XCTAssertEqual(ints.dtype, .int64)
        XCTAssertEqual(Set(ints.toArray(Int64.self)), Set(-3 ... 3), "high is exclusive; every value appears")

        let perm = Tensor.randperm(50)
        XCTAssertEqual(perm.dtype, .int64)
        XCTAssertEqual(perm.toArray(Int64.self).sorted(), Array(0 ..< 50))
    }

    func testDropoutZeroesAFractionAndRescalesTheRest() {
        Torch.manualSeed(11)
        let p = 0.3, n = 200_000
        let x = Tensor.full([n], 3).requiringGrad()
        let y = x.dropout(p: p, training: true)
        let values = y.toArray(Float.self)
        let zeros = values.filter { $0 == 0 }.count
        // The zeroed fraction is binomial: its standard deviation here is about 0.001.
        XCTAssertEqual(Double(zeros) / Double(n), p, accuracy: 0.006)
        let kept = Float(3 / (1 - p))
        XCTAssertTrue(values.allSatisfy { $0 == 0 || Swift.abs($0 - kept) <= 1e-6 * kept }, "survivors are scaled by 1/(1-p)")
        XCTAssertEqual(y.mean().item(), 3, accuracy: 0.05, "the expectation is preserved")

        y.sum().backward()
        let grad = x.grad!.toArray(Float.self)
        let scale = Float(1 / (1 - p))
        for (g, v) in zip(grad, values) where (g == 0) != (v == 0) || (g != 0 && Swift.abs(g - scale) > 1e-6) {
            XCTFail("gradient \(g) for output \(v): the gradient must use the same mask and scale")
            break
        }

        // A second call draws a new mask; the same seed reproduces a mask.
        let again = Tensor.full([n], 3).dropout(p: p, training: true).toArray(Float.self)
        XCTAssertNotEqual(again, values)
        Torch.manualSeed(11)
        XCTAssertEqual(Tensor.full([n], 3).dropout(p: p, training: true).toArray(Float.self), values)
    }

    func testDropoutExtremes() {
        let x = seededRandn([4, 5], seed: 4).to(.float32)
        XCTAssertEqual(x.dropout(p: 0, training: true).toArray(Float.self), x.toArray(Float.self))
        XCTAssertEqual(x.dropout(p: 0.9, training: false).toArray(Float.self), x.toArray(Float.self))
        XCTAssertEqual(x.dropout(p: 1, training: true).toArray(Float.self), Array(repeating: 0, count: 20))
    }
}
