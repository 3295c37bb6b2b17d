import NN
import Torch
import XCTest

/// The one-pass Adam update against the op-by-op one it replaces.
final class FusedAdamTests: XCTestCase {
    override func tearDown() { Adam.fused = false }

    func run(fused: Bool, steps: Int, count: Int = 1003) -> [Float] {
        Adam.fused = fused
        Torch.manualSeed(3)
        let p = Tensor.randn([count]).requiringGrad()
        let opt = Adam([p], learningRate: 2e-4, betas: (0.5, 0.999))
        for k in 0 ..< steps {
            // Gradients of all magnitudes, including ones near ε where Adam's step is most sensitive.
            let scale = Tensor.randn([count]) * pow(10, Double(k % 5 - 6))
            ((p * p).sum() * 0.5 + (p * scale).sum()).backward()
            opt.step()
            opt.zeroGrad()
        }
        return withNoGrad { p.detached().toArray(Float.self) }
    }

    func testOnePassUpdateAgreesWithTheOpByOpUpdate() {
        let fused = run(fused: true, steps: 12), reference = run(fused: false, steps: 12)
        // Bit for bit, so that training takes the same path either way (1003: a tail past the vector width).
        let differing = zip(fused, reference).filter { $0.bitPattern != $1.bitPattern }.count
        XCTAssertEqual(differing, 0, "\(differing) of \(fused.count) parameters differ")
        // Several of the update's 16,384-element blocks and two of its parallel chunks (32,768),
        // with a short last block: the square roots are taken block by block.
        let long = run(fused: true, steps: 3, count: 70_003), longReference = run(fused: false, steps: 3, count: 70_003)
        XCTAssertEqual(zip(long, longReference).filter { $0.bitPattern != $1.bitPattern }.count, 0, "70,003 parameters")
    }

    func testOtherDtypesTakeTheOpByOpPath() {
        let p = Tensor.randn([10], dtype: .float64).requiringGrad()
        let opt = Adam([p], learningRate: 0.1)
        (p * p).sum().backward()
        let before = p.detached().clone()
        opt.step()
        XCTAssertGreaterThan((p.detached() - before).abs().max().item(), 0.05)
    }
}
