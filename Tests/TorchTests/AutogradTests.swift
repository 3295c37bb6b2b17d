import XCTest
@testable import Torch

final class AutogradTests: XCTestCase {
    func testRequiresGradFlag() {
        let x = Tensor([1, 2, 3] as [Float])
        XCTAssertFalse(x.requiresGrad, "new tensors are constants")
        XCTAssertFalse((x * 2).requiresGrad)
        XCTAssertTrue(x.requiringGrad() === x, "requiringGrad returns the same tensor for chaining")
        XCTAssertTrue(x.requiresGrad)
        XCTAssertTrue((x * 2).requiresGrad, "results of recorded ops require grad")
        x.requiresGrad = false
        XCTAssertFalse(x.requiresGrad)
        XCTAssertNil(x.grad, "no gradient before any backward pass")
    }

    func testScalarBackward() {
        let x = Tensor([1, 2, 3] as [Float]).requiringGrad()
        let w = Tensor([0.5, -1, 2] as [Float]).requiringGrad()
        (x * x * w).sum().backward()
        XCTAssertEqual(x.grad?.toArray(Float.self), [1, -4, 12], "d/dx = 2xw")
        XCTAssertEqual(w.grad?.toArray(Float.self), [1, 4, 9], "d/dw = x²")
    }

    func testBackwardWithExplicitGradient() {
        let x = Tensor([1, 2, 3] as [Float]).requiringGrad()
        let y = x * x
        y.backward(gradient: Tensor([1, 0.5, -2] as [Float]))
        XCTAssertEqual(x.grad?.toArray(Float.self), [2, 2, -12])
    }

    func testNonScalarBackwardNeedsGradient() {
        let x = Tensor([1, 2] as [Float]).requiringGrad()
        XCTAssertThrowsError(try withTorchErrors { (x * 2).backward() }) { error in
            XCTAssertEqual((error as? TorchError)?.message, "grad can be implicitly created only for scalar outputs")
        }
    }

    func testGradientsAccumulateOverBackwardCalls() {
        let x = Tensor([1, -2] as [Float]).requiringGrad()
        (x * 3).sum().backward()
        (x * x).sum().backward()
        XCTAssertEqual(x.grad?.toArray(Float.self), [3 + 2, 3 - 4])

        // The same graph twice, kept alive with retainGraph.
        let z = Tensor([2] as [Float]).requiringGrad()
        let y = (z * z * z).sum()
        y.backward(retainGraph: true)
        y.backward()
        XCTAssertEqual(z.grad?.toArray(Float.self), [24])
    }

    func testSecondBackwardWithoutRetainGraphFails() {
        let x = Tensor([1, 2] as [Float]).requiringGrad()
        let y = (x * x).sum()
        y.backward()
        XCTAssertThrowsError(try withTorchErrors { y.backward() }) { error in
            let message = (error as? TorchError)?.message ?? ""
            XCTAssertTrue(message.hasPrefix("Trying to backward through the graph a second time"), message)
        }
    }

    func testZeroGradAndAssigningGrad() {
        let x = Tensor([1, 2] as [Float]).requiringGrad()
        (x * x).sum().backward()
        XCTAssertNotNil(x.grad)
        x.zeroGrad()
        XCTAssertNil(x.grad, "zeroGrad drops the gradient rather than filling zeros")
        (x * 5).sum().backward()
        XCTAssertEqual(x.grad?.toArray(Float.self), [5, 5], "accumulation restarts from nothing")

        x.grad = Tensor([7, 8] as [Float])
        XCTAssertEqual(x.grad?.toArray(Float.self), [7, 8])
        (x * 1).sum().backward()
        XCTAssertEqual(x.grad?.toArray(Float.self), [8, 9], "backward adds to an assigned gradient")
        x.grad = nil
        XCTAssertNil(x.grad)
    }

    func testDetachedSharesDataButNotHistory() {
        let x = Tensor([1, 2, 3] as [Float]).requiringGrad()
        let d = (x * 2).detached()
        XCTAssertFalse(d.requiresGrad)
        XCTAssertEqual(d.toArray(Float.self), [2, 4, 6])

        let y = (x * x.detached()).sum()
        y.backward()
        XCTAssertEqual(x.grad?.toArray(Float.self), [1, 2, 3], "no gradient flows through the detached factor")

        let base = Tensor([1, 2] as [Float])
        let view = base.detached()
        view.fillInPlace(9)
        XCTAssertEqual(base.toArray(Float.self), [9, 9], "detached() is a view of the same storage")
    }

    func testWithNoGrad() throws {
        let x = Tensor([1, 2] as [Float]).requiringGrad()
        XCTAssertTrue(isGradEnabled)
        let y = withNoGrad { () -> Tensor in
            XCTAssertFalse(isGradEnabled)
            let inner = withGrad { () -> Tensor in
                XCTAssertTrue(isGradEnabled)
                return x * 2
            }
            XCTAssertTrue(inner.requiresGrad, "withGrad re-enables recording inside withNoGrad")
            XCTAssertFalse(isGradEnabled)
            return x * 3
        }
        XCTAssertFalse(y.requiresGrad)
        XCTAssertEqual(y.toArray(Float.self), [3, 6])
        XCTAssertTrue(isGradEnabled, "the previous mode is restored")

        struct Expected: Error {}
        XCTAssertThrowsError(try withNoGrad { throw Expected() })
        XCTAssertTrue(isGradEnabled, "the mode is restored when the body throws")

        // Parameter updates under withNoGrad do not enter the graph.
        let w = Tensor([1, 1] as [Float]).requiringGrad()
        (w * 4).sum().backward()
        withNoGrad { w.addInPlace(w.grad!, alpha: -0.25) }
        XCTAssertEqual(w.toArray(Float.self), [0, 0])
        XCTAssertTrue(w.requiresGrad)
    }

    func testGradientsFunction() throws {
        let x = Tensor([1, 2] as [Float]).requiringGrad()
        let unused = Tensor([5] as [Float]).requiringGrad()
        let y = (x * x * x).sum()
        let grads = gradients(of: [y], withRespectTo: [x, unused])
        XCTAssertEqual(grads.count, 2)
        XCTAssertEqual(grads[0]?.toArray(Float.self), [3, 12])
        XCTAssertNil(grads[1], "an input that does not influence the output gets nil")
        XCTAssertNil(x.grad, "gradients(of:) leaves .grad alone")

        // Explicit upstream gradients for a non-scalar output.
        let v = x * 2
        let weighted = gradients(of: [v], withRespectTo: [x], gradOutputs: [Tensor([1, -3] as [Float])])
        XCTAssertEqual(weighted[0]?.toArray(Float.self), [2, -6])

        // Several outputs contribute together.
        let both = gradients(of: [(x * 2).sum(), (x * x).sum()], withRespectTo: [x])
        XCTAssertEqual(both[0]?.toArray(Float.self), [4, 6])

        // createGraph gives a differentiable gradient: d²(x³)/dx² = 6x.
        let z = Tensor([1.5, -2] as [Double]).requiringGrad()
        let first = gradients(of: [(z * z * z).sum()], withRespectTo: [z], createGraph: true)[0]!
        XCTAssertTrue(first.requiresGrad)
        let second = gradients(of: [first.sum()], withRespectTo: [z])[0]!
        XCTAssertEqual(second.toArray(Double.self), [9, -12])

        // retainGraph allows asking again.
        let w = Tensor([3] as [Float]).requiringGrad()
        let q = (w * w).sum()
        _ = gradients(of: [q], withRespectTo: [w], retainGraph: true)
        XCTAssertEqual(gradients(of: [q], withRespectTo: [w])[0]?.toArray(Float.self), [6])
    }

    /// The R1 / WGAN-GP pattern: a penalty on an input gradient, trained through the weights.
    func testGradientPenaltyBackpropagates() {
        let w = Tensor([0.5, -2] as [Double]).requiringGrad()
        let x = Tensor([1, 3] as [Double]).requiringGrad()
        let d = (x * x * w).sum()
        let dx = gradients(of: [d], withRespectTo: [x], createGraph: true)[0]!  // 2xw
        XCTAssertEqual(dx.toArray(Double.self), [1, -12])
        dx.square().sum().backward()  // Σ 4x²w², so d/dw = 8x²w and d/dx = 8xw²
        XCTAssertEqual(w.grad?.toArray(Double.self), [4, -144])
        XCTAssertEqual(x.grad?.toArray(Double.self), [2, 96])

        let z = Tensor([2, -1] as [Double]).requiringGrad()
        (z * z * z).sum().backward(createGraph: true)
        let dz = z.grad!
        XCTAssertTrue(dz.requiresGrad)
        XCTAssertEqual(dz.toArray(Double.self), [12, 3])
        XCTAssertEqual(gradients(of: [dz.sum()], withRespectTo: [z])[0]?.toArray(Double.self), [12, -6])
    }

    func testGradientsOfAConstantFail() {
        let x = Tensor([1] as [Float])
        XCTAssertThrowsError(try withTorchErrors { _ = gradients(of: [x * 2], withRespectTo: [x]) }) { error in
            let message = (error as? TorchError)?.message ?? ""
            XCTAssertTrue(message.contains("does not require grad"), message)
        }
    }
}
