import Foundation
import NN
import Torch
import XCTest

/// Adam and SGD step for step against torch.optim on loss = mse(x Wᵀ + b, y) (optim.safetensors).
final class OptimizerTests: XCTestCase {
    struct Problem {
        let w0: Tensor, b0: Tensor, x: Tensor, y: Tensor
        init(_ fixture: Fixture) throws {
            w0 = try fixture.tensor("W0")
            b0 = try fixture.tensor("b0")
            x = try fixture.tensor("x")
            y = try fixture.tensor("y")
        }

        func parameters() -> [Tensor] { [w0.clone().requiringGrad(), b0.clone().requiringGrad()] }

        func step(_ optimizer: any Optimizer) {
            let (w, b) = (optimizer.parameters[0], optimizer.parameters[1])
            optimizer.zeroGrad()
            (x.matmul(w.T) + b).mseLoss(y).backward()
            optimizer.step()
        }
    }

    static func makeOptimizer(_ spec: JSON, _ parameters: [Tensor]) -> any Optimizer {
        if spec["optimizer"].string == "Adam" {
            let betas = spec["betas"].array.map(\.double)
            return Adam(parameters, learningRate: spec["lr"].double, betas: (betas[0], betas[1]),
                        weightDecay: spec["weight_decay"].double)
        }
        return SGD(parameters, learningRate: spec["lr"].double, momentum: spec["momentum"].double,
                   dampening: spec["dampening"].double, weightDecay: spec["weight_decay"].double,
                   nesterov: spec["nesterov"].bool)
    }

    func testStepForStepAgainstPyTorch() throws {
        let fixture = try Fixture("optim")
        let problem = try Problem(fixture)
        XCTAssertEqual(fixture.cases, ["adam_defaults", "adam_lr1e-2", "adam_lr1e-2_wd", "adam_lr2e-4", "adam_lr2e-4_wd",
                                       "sgd_dampening_wd", "sgd_momentum", "sgd_nesterov", "sgd_plain"])
        for name in fixture.cases {
            let spec = try fixture.json(name)
            let params = problem.parameters()
            let optimizer = Self.makeOptimizer(spec, params)
            let expectedW = try fixture.tensor("\(name).W"), expectedB = try fixture.tensor("\(name).b")
            for step in 0 ..< 10 {
                problem.step(optimizer)
                for (label, p, expected, start) in [("W", params[0], expectedW, problem.w0), ("b", params[1], expectedB, problem.b0)] {
                    let e = expected.select(dim: 0, index: step)
                    // Each step: a forward product over x's features, a gradient summed over the
                    // batch and about ten element-wise ops of the update; errors add up over steps.
                    let k = (step + 1) * (problem.x.size(1) + problem.x.size(0) * problem.y.size(1) + 10)
                    assertWithinRounding(p, e, reductionLength: k, "\(name) \(label) after step \(step + 1)")
                    // With lr 2e-4 the parameters barely move, so also compare the distance
                    // travelled, to 0.1% of its size.
                    let travelled = e - start
                    let scale = travelled.abs().max().item()
                    XCTAssertGreaterThan(scale, 0, "\(name) \(label) moved")
                    assertClose(p.detached() - start, travelled, rtol: 1e-3, atol: 1e-3 * scale,
                                "\(name) \(label) displacement after step \(step + 1)")
                }
            }
            // The optimiser state after the last step, under PyTorch's names.
            let expectedState = fixture.tensors(prefix: "\(name).").filter { $0.key.hasPrefix("state.") }
            let state = optimizer.state()
            XCTAssertEqual(state.tensors.map(\.name).sorted(), expectedState.keys.sorted(), "\(name) state names")
            for (field, t) in state.tensors {
                guard let e = expectedState[field] else { continue }
                // The moments after ten steps, built from the same gradients as the weights above.
                assertWithinRounding(t, e, reductionLength: 10 * (problem.x.size(1) + problem.x.size(0) * problem.y.size(1) + 10),
                                     "\(name) \(field)")
            }
            XCTAssertEqual(state.hyperparameters["lr"], spec["lr"].double)
            XCTAssertEqual(state.hyperparameters["weight_decay"], spec["weight_decay"].double)
        }
    }

    /// Five steps, state through a file image, a new optimiser on new tensors, five more:
    /// bit-identical to ten steps without interruption.
    func testStateSaveAndLoadContinuesBitIdentically() throws {
        let fixture = try Fixture("optim")
        let problem = try Problem(fixture)
        for name in ["adam_lr1e-2_wd", "sgd_nesterov", "sgd_dampening_wd", "adam_lr2e-4"] {
            let spec = try fixture.json(name)
            let straightParams = problem.parameters()
            let straight = Self.makeOptimizer(spec, straightParams)
            for _ in 0 ..< 10 { problem.step(straight) }

            let firstParams = problem.parameters()
            let first = Self.makeOptimizer(spec, firstParams)
            for _ in 0 ..< 5 { problem.step(first) }
            let saved = first.state()
            let image = try SafeTensors(tensors: saved.tensors).encode()

            let resumedParams = firstParams.map { $0.detached().clone().requiringGrad() }
            let resumed = Self.makeOptimizer(spec, resumedParams)
            let decoded = try SafeTensors.decode(image)
            try resumed.loadState(OptimizerState(tensors: decoded.tensors, hyperparameters: saved.hyperparameters))
            // Training the first optimiser further must not leak into the loaded state.
            problem.step(first)
            for _ in 0 ..< 5 { problem.step(resumed) }

            for (i, (a, b)) in zip(resumedParams, straightParams).enumerated() {
                assertIdentical(a.detached(), b.detached(), "\(name) parameter \(i)")
            }
            for (a, b) in zip(resumed.state().tensors, straight.state().tensors) {
                XCTAssertEqual(a.name, b.name)
                assertIdentical(a.tensor, b.tensor, "\(name) \(a.name)")
            }
        }
    }

    func testLoadStateRestoresHyperparameters() throws {
        let p = [Tensor.zeros([2]).requiringGrad()]
        let source = Adam(p, learningRate: 0.5, betas: (0.1, 0.2), eps: 1e-3, weightDecay: 0.25)
        let target = Adam(p)
        try target.loadState(source.state())
        XCTAssertEqual(target.learningRate, 0.5)
        XCTAssertEqual(target.beta1, 0.1)
        XCTAssertEqual(target.beta2, 0.2)
        XCTAssertEqual(target.eps, 1e-3)
        XCTAssertEqual(target.weightDecay, 0.25)

        let sgdSource = SGD(p, learningRate: 0.3, momentum: 0.7, weightDecay: 0.1, nesterov: true)
        let sgd = SGD(p, learningRate: 1)
        try sgd.loadState(sgdSource.state())
        XCTAssertEqual(sgd.learningRate, 0.3)
        XCTAssertEqual(sgd.momentum, 0.7)
        XCTAssertEqual(sgd.weightDecay, 0.1)
        XCTAssertTrue(sgd.nesterov)
    }

    func testLoadStateRefusesMismatchedState() throws {
        let problem = try Problem(try Fixture("optim"))
        let adam = Adam(problem.parameters(), learningRate: 1e-2)
        problem.step(adam)
        let state = adam.state()

        let other = Adam([Tensor.zeros([4, 3]).requiringGrad(), Tensor.zeros([3]).requiringGrad()])
        XCTAssertEqual(errorMessage { try other.loadState(state) },
                       "optimizer state for parameter 0 has shape [3, 4], the parameter [4, 3]")
        let single = Adam([Tensor.zeros([3, 4]).requiringGrad()])
        XCTAssertTrue(errorMessage { try single.loadState(state) }.contains("which this optimizer does not have"))
        let incomplete = OptimizerState(tensors: state.tensors.filter { $0.name != "state.1.step" },
                                        hyperparameters: state.hyperparameters)
        XCTAssertEqual(errorMessage { try Adam(problem.parameters()).loadState(incomplete) },
                       "optimizer state for parameter 1 is incomplete")

        let sgd = SGD(problem.parameters(), learningRate: 0.1, momentum: 0.9)
        problem.step(sgd)
        XCTAssertEqual(errorMessage { try SGD([Tensor.zeros([3, 4]).requiringGrad()], learningRate: 0.1).loadState(sgd.state()) },
                       "optimizer state names 'state.1.momentum_buffer', which this optimizer does not have")
        XCTAssertEqual(errorMessage { try SGD([Tensor.zeros([3]).requiringGrad(), Tensor.zeros([3]).requiringGrad()],
                                              learningRate: 0.1).loadState(sgd.state()) },
                       "momentum buffer 0 has shape [3, 4], the parameter [3]")
    }

    /// Parameters without a gradient (frozen, or unused by the loss) are skipped, as in PyTorch.
    func testParametersWithoutGradientsAreLeftAlone() {
        let used = Tensor.ones([2]).requiringGrad()
        let unused = Tensor.ones([2]).requiringGrad()
        for optimizer in [Adam([used, unused], learningRate: 0.1) as any Optimizer,
                          SGD([used, unused], learningRate: 0.1, momentum: 0.9)] {
            optimizer.zeroGrad()
            (used * used).sum().backward()
            optimizer.step()
            XCTAssertEqual(unused.toArray(Float.self), [1, 1])
            XCTAssertEqual(optimizer.state().tensors.filter { $0.name.hasPrefix("state.1.") }.count, 0)
        }
        XCTAssertLessThan(used.toArray(Float.self)[0], 1)
    }
}
