import Foundation
import NN
import Torch
import XCTest
@testable import Sketch2Real

/// Inception-v3 against torchvision and pytorch-fid, on fixtures.
extension EvaluationTests {
    // MARK: Inception-v3

    /// The weights of make_metric_fixtures.py's `deterministic_state`.
    func deterministicState(_ network: InceptionV3) -> [String: Tensor] {
        let names = network.stateDict().map(\.0).sorted()
        var out: [String: Tensor] = [:]
        let shapes = Dictionary(uniqueKeysWithValues: network.stateDict().map { ($0.0, $0.1.shape) })
        for (p, name) in names.enumerated() {
            let shape = shapes[name]!
            if name.hasSuffix("num_batches_tracked") { out[name] = Tensor.zeros(shape, dtype: .int64); continue }
            let n = shape.reduce(1, *)
            let s = (Tensor.arange(0, Double(n), dtype: .float64) * 0.7 + (0.3 * Double(p) + 0.1)).sin().reshape(shape)
            let value: Tensor
            if name.hasSuffix("conv.weight") {
                value = s * (2 / Double(n / shape[0]).squareRoot())
            } else if name.hasSuffix("bn.weight") {
                value = 1.0 + s * 0.1
            } else if name.hasSuffix("bn.bias") {
                value = s * 0.1
            } else if name.hasSuffix("running_mean") {
                value = s * 0.05
            } else {
                value = 1.1 + s * 0.1
            }
            out[name] = value.to(.float32)
        }
        return out
    }

    func testInceptionV3MatchesTorchvisionAndPytorchFID() throws {
        let input = ((Tensor.arange(0, Double(2 * 3 * 96 * 96), dtype: .float64) * 0.013).sin() * 0.9).reshape([2, 3, 96, 96]).to(.float32)
        let names = try JSONDecoder().decode([[JSONValue]].self, from: Data(Self.fixtureMetadata["inception.names"]!.utf8))
        for (variant, key) in [(InceptionV3.Variant.torchvision, "inception.torchvision"), (.pytorchFID, "inception.fid")] {
            let network = InceptionV3(variant: variant)
            let mine = network.stateDict().map { [$0.0, $0.1.shape.map(String.init).joined(separator: ",")] }
            let theirs = names.map { [$0[0].string, $0[1].array.map { String($0.int) }.joined(separator: ",")] }
            XCTAssertEqual(mine, theirs, "state-dict names, order and shapes as torchvision's")
            try network.loadStateDict(deterministicState(network))
            network.eval()
            let features = withNoGrad { network.poolFeatures(input) }
            let expected = fixture(key)
            XCTAssertEqual(features.shape, [2, 2048])
            // The bound is measured, not assumed. With these deterministic weights the network
            // amplifies rounding differences through its ~100 layers far beyond the per-op rule
            // (2 % of an element between an AVX-512 and an AVX2 machine; a ReLU or max-pool that
            // flips on a near-tie moves whole feature maps), and how far varies with the thread
            // count and kernels. So: the same network in float64 gives the exact result (to
            // ~1e-12), and a few float32 runs of ours, each from the input moved by one ulp in
            // random directions, show how far float32 rounding carries this network from it. The
            // fixture (float32 on another machine) must lie within 3× the farthest of them; a
            // wrong layer, weight or pooling would put it orders of magnitude further.
            func rms(_ t: Tensor) -> Double { ((t * t).mean().item() as Double).squareRoot() }
            let runs: [Tensor] = (0 ..< 4).map { k in
                Torch.manualSeed(100 + UInt64(k))
                let jitter = (Tensor.randn(input.shape, dtype: .float64).sign() * 1.2e-7 + 1.0)
                return withNoGrad { network.poolFeatures((input.to(.float64) * jitter).to(.float32)) }.to(.float64)
            }
            network.to(.float64)
            let exact = withNoGrad { network.poolFeatures(input.to(.float64)) }
            let ownDistance = runs.map { rms($0 - exact) }.max()!, fixtureDistance = rms(expected.to(.float64) - exact)
            print(String(format: "Inception-v3 %@: rms distance from the float64 result: float32 runs of ours up to %.3g, the fixture's %.3g (ratio %.2f); rms of the features %.3g",
                         "\(variant)", ownDistance, fixtureDistance, fixtureDistance / ownDistance, rms(exact)))
            XCTAssertLessThan(fixtureDistance, 3 * ownDistance + 1e-9, "\(variant): the fixture is further from the exact result than float32 rounding explains")
            XCTAssertLessThan(ownDistance, 1e-2 * rms(exact), "\(variant): float32 keeps two digits through the network")
        }
    }

    func testInceptionWeightsAreCheckedWithClearMessages() throws {
        let folder = makeTemporaryFolder(self)
        XCTAssertThrowsError(try InceptionV3.load(path: folder + "/missing.safetensors")) { error in
            XCTAssertTrue("\(error)".contains("no such Inception-v3 weights file"), "\(error)")
        }
        try SafeTensors(tensors: [("fc.weight", Tensor.zeros([10, 2048]))]).save(path: folder + "/ten.safetensors")
        XCTAssertThrowsError(try InceptionV3.load(path: folder + "/ten.safetensors")) { error in
            XCTAssertTrue("\(error)".contains("1000 or pytorch-fid's 1008"), "\(error)")
        }
        try SafeTensors(tensors: [("fc.weight", Tensor.zeros([1008, 2048]))]).save(path: folder + "/empty.safetensors")
        XCTAssertThrowsError(try InceptionV3.load(path: folder + "/empty.safetensors")) { error in
            XCTAssertTrue("\(error)".contains("missing") && "\(error)".contains("Conv2d_1a_3x3.conv.weight"), "\(error)")
        }
    }
}

/// Just enough JSON decoding for the fixture's [[name, shape]] list.
enum JSONValue: Decodable {
    case string(String), number(Double), array([JSONValue])
    init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let s = try? c.decode(String.self) { self = .string(s) } else if let d = try? c.decode(Double.self) { self = .number(d) } else {
            self = .array(try c.decode([JSONValue].self))
        }
    }
    var string: String { if case .string(let s) = self { s } else { "" } }
    var int: Int { if case .number(let d) = self { Int(d) } else { -1 } }
    var array: [JSONValue] { if case .array(let a) = self { a } else { [] } }
}
