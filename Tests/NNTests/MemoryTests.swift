import Foundation
import NN
import Torch
import XCTest

/// Native tensors are freed when their Swift wrappers go away; a leak per tensor or per
/// autograd graph shows up as steady growth over many training iterations.
final class MemoryTests: XCTestCase {
    func testTrainingLoopDoesNotGrowResidentMemory() throws {
        guard residentBytes() != nil else { throw XCTSkip("/proc/self/statm is not available") }
        Torch.manualSeed(31)
        let model = Sequential(Conv2d(3, 8, kernelSize: 3, padding: 1), InstanceNorm2d(8), ReLU(),
                               Conv2d(8, 3, kernelSize: 3, padding: 1), Tanh())
        let optimizer = Adam(model.parameters(), learningRate: 2e-4, betas: (0.5, 0.999))
        let x = Tensor.randn([1, 3, 32, 32])
        let target = Tensor.randn([1, 3, 32, 32]).tanh()

        func iteration() {
            optimizer.zeroGrad()
            let loss = model(x).l1Loss(target)
            loss.backward()
            optimizer.step()
        }

        // Warm-up: allocator pools, lazily created kernels, the optimiser's state.
        for _ in 0 ..< 50 { iteration() }
        let start = residentBytes()!
        for _ in 0 ..< 500 { iteration() }
        let growth = residentBytes()! - start
        print("MemoryTests: resident memory grew by \(growth) bytes (\(String(format: "%.2f", Double(growth) / 1_048_576)) MiB) over 500 iterations")
        XCTAssertLessThan(growth, 50 * 1_048_576)
        XCTAssertTrue(model.parameters().allSatisfy { $0.grad != nil }, "the loop did train")
    }
}
