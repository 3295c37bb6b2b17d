import Foundation
import NN
import NumericalTolerance
import Torch
import XCTest

/// The Swift twin of `ResBlock` in make_nn_fixtures.py. `conv_block` is not a Swift-style
/// name, so the child is stored under that key with `@Child`; the key goes with the value
/// because the block depends on an initialiser argument.
final class ResBlock: Module, UnaryLayer {
    @Child var convBlock: Sequential

    init(_ dim: Int) {
        _convBlock = Child(wrappedValue: Sequential(
            ReflectionPad2d(1), Conv2d(dim, dim, kernelSize: 3), InstanceNorm2d(dim), ReLU(),
            ReflectionPad2d(1), Conv2d(dim, dim, kernelSize: 3), InstanceNorm2d(dim)), key: "conv_block")
        super.init()
    }

    func callAsFunction(_ x: Tensor) -> Tensor { x + convBlock(x) }
}

/// The Swift twin of `Net` in make_nn_fixtures.py: a Sequential, a list of modules, plain
/// children, a spectrally normalised convolution and a linear head.
final class CompositeNet: Module, UnaryLayer {
    let encoder = Sequential(ReflectionPad2d(3), Conv2d(3, 8, kernelSize: 7), InstanceNorm2d(8, affine: true), ReLU())
    let blocks = [ResBlock(8), ResBlock(8)]
    let norm = BatchNorm2d(8)
    let down = Conv2d(8, 4, kernelSize: 4, stride: 2, padding: 1)
    let up = Sequential(Upsample(scale: 2), Conv2d(4, 2, kernelSize: 3, padding: 1, bias: false), Tanh())
    let head = Linear(2 * 8 * 8, 5)

    override init() {
        super.init()
        down.applySpectralNorm()
    }

    func callAsFunction(_ x: Tensor) -> Tensor {
        var h = encoder(x)
        for block in blocks { h = block(h) }
        h = down(norm(h)).leakyRelu(0.2)
        return head(up(h).flatten(startDim: 1))
    }
}

final class StateDictTests: XCTestCase {
    func testNestedNamesAndShapesMatchPyTorch() throws {
        let fixture = try Fixture("composite")
        let expected = try fixture.json("state_dict").array
        let net = CompositeNet()
        let state = net.stateDict()
        XCTAssertEqual(state.map(\.0), expected.map { $0.array[0].string })
        XCTAssertEqual(state.map(\.1.shape), expected.map { $0.array[1].ints })
        XCTAssertEqual(state.map { "\($0.1.dtype)" }, expected.map { $0.array[2].string })
        XCTAssertEqual(net.namedParameters().map(\.0), try fixture.json("parameters").strings)
        XCTAssertEqual(net.parameterCount, net.parameters().reduce(0) { $0 + $1.count })
        let pythonCount = expected.filter { try! fixture.json("parameters").strings.contains($0.array[0].string) }
            .reduce(0) { $0 + $1.array[1].ints.reduce(1, *) }
        XCTAssertEqual(net.parameterCount, pythonCount)
    }

    func testCompositeForwardAndBackwardMatchPyTorch() throws {
        let fixture = try Fixture("composite")
        let net = CompositeNet()
        try net.loadStateDict(fixture.tensors(prefix: "state."))

        let x = try fixture.tensor("input").clone().requiringGrad()
        // Every value below is a chain of convolutions, norms and products through the whole net.
        let forward = ReductionLength.network(net, batch: x.size(0), height: x.size(2), width: x.size(3), backward: false)
        let backward = ReductionLength.network(net, batch: x.size(0), height: x.size(2), width: x.size(3), backward: true)
        net.train()
        let y = net(x)
        assertWithinRounding(y, try fixture.tensor("train.output"), reductionLength: forward, "training output")
        y.backward(gradient: try fixture.tensor("upstream"))
        let scale = RoundingTolerance.rms(Array(fixture.tensors(prefix: "train.grad.").values))
        assertWithinRounding(x.grad, try fixture.tensor("train.grad.input"), reductionLength: backward, scale: scale, "input gradient")
        for (name, p) in net.namedParameters() {
            assertWithinRounding(p.grad, try fixture.tensor("train.grad.\(name)"), reductionLength: backward, scale: scale,
                                 "gradient of \(name)")
        }
        let after = fixture.tensors(prefix: "train.after.")
        XCTAssertEqual(net.namedBuffers().map(\.0).sorted(), after.keys.sorted())
        for (name, b) in net.namedBuffers() {
            if b.dtype.isFloatingPoint {
                assertWithinRounding(b, after[name]!, reductionLength: forward, "\(name) after the training pass")
            } else {
                assertIdentical(b, after[name]!, "\(name) after the training pass")
            }
        }

        net.eval()
        assertWithinRounding(withNoGrad { net(x) }, try fixture.tensor("eval.output"), reductionLength: forward, "evaluation output")
    }

    func testLoadStateDictCopiesInPlace() throws {
        let net = CompositeNet()
        let before = net.parameters()
        Torch.manualSeed(1)
        let donor = CompositeNet()
        try net.loadStateDict(Dictionary(uniqueKeysWithValues: donor.stateDict()))
        // Same tensor objects (so an optimiser built earlier keeps working), new values.
        XCTAssertTrue(zip(before, net.parameters()).allSatisfy { $0 === $1 })
        assertIdentical(snapshot(net), snapshot(donor), "after loading")
        XCTAssertTrue(net.parameters().allSatisfy(\.requiresGrad))
    }

    func testLoadStateDictReportsMismatches() throws {
        let layer = Conv2d(3, 4, kernelSize: 3)
        let original = snapshot(layer)

        let missing = errorMessage { try layer.loadStateDict(["weight": Tensor.zeros([4, 3, 3, 3])]) }
        XCTAssertEqual(missing, "weights do not match the model: missing 1 tensor(s): bias")

        let unexpected = errorMessage {
            try layer.loadStateDict(["weight": Tensor.zeros([4, 3, 3, 3]), "bias": Tensor.zeros([4]), "extra": Tensor.zeros([1])])
        }
        XCTAssertEqual(unexpected, "weights do not match the model: unexpected 1 tensor(s): extra")

        let shape = errorMessage { try layer.loadStateDict(["weight": Tensor.zeros([4, 3, 5, 5]), "bias": Tensor.zeros([4])]) }
        XCTAssertEqual(shape, "weights do not match the model: weight has shape [4, 3, 5, 5] in the file but [4, 3, 3, 3] in the model")
        assertIdentical(snapshot(layer), original, "a refused load leaves the weights alone")

        // Not strict: missing and unexpected names are fine, present ones are loaded.
        try layer.loadStateDict(["bias": Tensor.ones([4]), "extra": Tensor.zeros([1])], strict: false)
        XCTAssertEqual(layer.bias!.toArray(Float.self), [1, 1, 1, 1])
        assertIdentical(layer.weight, original[0].1, "weight left alone by a partial load")
        XCTAssertNotNil(errorMessage { try layer.loadStateDict(["bias": Tensor.ones([5])], strict: false) }
            .range(of: "bias has shape [5] in the file but [4] in the model"))
    }

    /// A list of more than eight names is abbreviated; the message still leads with the count.
    func testLongMismatchListsAreAbbreviated() {
        let net = CompositeNet()
        let message = errorMessage { try net.loadStateDict([:]) }
        XCTAssertGreaterThan(net.stateDict().count, 8)
        XCTAssertTrue(message.hasPrefix("weights do not match the model: missing \(net.stateDict().count) tensor(s): "), message)
        XCTAssertTrue(message.hasSuffix(", …"), message)
    }

    func testTrackedInstanceNormHasPyTorchsBuffers() {
        let tracked = InstanceNorm2d(3, affine: true, trackRunningStats: true)
        XCTAssertEqual(tracked.stateDict().map(\.0), ["weight", "bias", "running_mean", "running_var", "num_batches_tracked"])
        XCTAssertEqual(InstanceNorm2d(3).stateDict().map(\.0), [])
        XCTAssertEqual(BatchNorm2d(3, affine: false, trackRunningStats: false).stateDict().map(\.0), [])
    }
}
