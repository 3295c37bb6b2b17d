import Foundation
import NN
import Torch
import XCTest

final class ModuleTests: XCTestCase {
    func testTrainAndEvalReachEveryModule() {
        let net = CompositeNet()
        let modules = net.namedModules()
        // Sequential children, list elements and @Child-renamed children are all reached.
        XCTAssertTrue(modules.contains { $0.0 == "blocks.1.conv_block.6" })
        XCTAssertTrue(modules.contains { $0.0 == "up.2" })
        XCTAssertTrue(modules.allSatisfy { $0.1.isTraining }, "modules start in training mode")
        net.eval()
        XCTAssertEqual(modules.filter { $0.1.isTraining }.map(\.0), [])
        net.blocks[0].train()
        XCTAssertEqual(Set(net.namedModules().filter { $0.1.isTraining }.map(\.0)),
                       Set(modules.map(\.0).filter { $0.hasPrefix("blocks.0") }))
        net.train()
        XCTAssertTrue(net.namedModules().allSatisfy { $0.1.isTraining })
    }

    func testEvalSwitchesBatchNormToRunningStatistics() {
        Torch.manualSeed(2)
        let bn = BatchNorm2d(3)
        let x = Tensor.randn([4, 3, 2, 2]) * 3 + 1
        bn.eval()
        // Fresh running statistics (mean 0, variance 1): evaluation is x / √(1 + eps).
        assertClose(bn(x), x / (1 + 1e-5).squareRoot(), "evaluation output")
        XCTAssertEqual(bn.numBatchesTracked!.item(), 0, "evaluation does not count batches")
        XCTAssertEqual(bn.runningMean!.toArray(Float.self), [0, 0, 0])
        bn.train()
        let y = bn(x)
        assertClose(y.mean(dims: [0, 2, 3]), Tensor.zeros([3]), atol: 1e-5, "training output is batch-normalised")
        XCTAssertEqual(bn.numBatchesTracked!.item(), 1)
    }

    func testFreezeStopsGradientsOfFrozenParametersOnly() {
        Torch.manualSeed(4)
        let net = CompositeNet()
        let all = net.parameters()
        net.encoder.freeze()
        let frozen = net.encoder.parameters()
        XCTAssertEqual(frozen.count, 4)
        XCTAssertTrue(frozen.allSatisfy { !$0.requiresGrad })
        XCTAssertEqual(net.trainableParameters().count, all.count - frozen.count)

        net(Tensor.randn([2, 3, 8, 8])).sum().backward()
        XCTAssertTrue(frozen.allSatisfy { $0.grad == nil }, "frozen parameters get no gradient")
        let trainable = net.trainableParameters()
        XCTAssertTrue(trainable.allSatisfy { $0.grad != nil }, "the others do")

        net.zeroGrad()
        XCTAssertTrue(net.parameters().allSatisfy { $0.grad == nil })

        net.encoder.unfreeze()
        XCTAssertTrue(net.parameters().allSatisfy(\.requiresGrad))
        net(Tensor.randn([2, 3, 8, 8])).sum().backward()
        XCTAssertTrue(frozen.allSatisfy { $0.grad != nil })
    }

    func testFreezingEverythingLeavesOnlyTheInputGradient() {
        let layer = Conv2d(2, 2, kernelSize: 1)
        layer.freeze()
        let x = Tensor.ones([1, 2, 3, 3]).requiringGrad()
        layer(x).sum().backward()
        XCTAssertNil(layer.weight.grad)
        XCTAssertNil(layer.bias!.grad)
        XCTAssertNotNil(x.grad)
        XCTAssertEqual(layer.trainableParameters().count, 0)
    }

    func testConversionToFloat64() throws {
        Torch.manualSeed(6)
        let net = CompositeNet()
        let before = snapshot(net)
        net.to(.float64)
        for (name, t) in net.stateDict() {
            XCTAssertEqual(t.dtype, name.hasSuffix("num_batches_tracked") ? .int64 : .float64, name)
        }
        XCTAssertTrue(net.parameters().allSatisfy(\.requiresGrad), "conversion keeps parameters trainable")
        for ((name, old), (_, new)) in zip(before, net.stateDict()) {
            XCTAssertEqual(old.to(.float64).toArray(Double.self), new.toArray(Double.self), name)
        }
        // Evaluation mode, so the pass leaves running statistics and u, v as they were.
        net.eval()
        let y = net(Tensor.randn([2, 3, 8, 8], dtype: .float64))
        XCTAssertEqual(y.dtype, .float64)
        y.sum().backward()
        XCTAssertTrue(net.parameters().allSatisfy { $0.grad?.dtype == .float64 })

        net.to(.float32)
        for ((name, old), (_, new)) in zip(before, net.stateDict()) {
            assertIdentical(new, old, "\(name) after converting back")
        }
    }

    func testParameterCount() {
        XCTAssertEqual(Conv2d(3, 8, kernelSize: 3).parameterCount, 8 * 3 * 9 + 8)
        XCTAssertEqual(Conv2d(4, 8, kernelSize: Size2(3, 5), groups: 2, bias: false).parameterCount, 8 * 2 * 15)
        XCTAssertEqual(ConvTranspose2d(4, 6, kernelSize: 4, groups: 2).parameterCount, 4 * 3 * 16 + 6)
        XCTAssertEqual(Linear(10, 3).parameterCount, 33)
        XCTAssertEqual(Linear(10, 3, bias: false).parameterCount, 30)
        XCTAssertEqual(BatchNorm2d(5).parameterCount, 10, "running statistics are buffers, not parameters")
        XCTAssertEqual(InstanceNorm2d(5).parameterCount, 0)
        XCTAssertEqual(Sequential(ReLU(), Dropout(), Identity()).parameterCount, 0)
        let sn = Linear(10, 3)
        sn.applySpectralNorm()
        XCTAssertEqual(sn.parameterCount, 33, "u and v are buffers")
        XCTAssertEqual(sn.namedBuffers().map(\.0), ["weight_u", "weight_v"])
        XCTAssertEqual(sn.namedBuffers().map(\.1.shape), [[3], [10]])
    }

    func testSequentialNamesChildrenByIndex() {
        let seq = Sequential(Conv2d(1, 2, kernelSize: 1), ReLU(), Linear(2, 2))
        XCTAssertEqual(seq.stateDict().map(\.0), ["0.weight", "0.bias", "2.weight", "2.bias"])
        seq.append(BatchNorm2d(2))
        XCTAssertEqual(seq.count, 4)
        XCTAssertEqual(seq.stateDict().map(\.0), ["0.weight", "0.bias", "2.weight", "2.bias", "3.weight", "3.bias",
                                                  "3.running_mean", "3.running_var", "3.num_batches_tracked"])
    }
}
