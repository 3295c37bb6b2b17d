import XCTest
@testable import Torch

final class RuntimeTests: XCTestCase {
    // MARK: Error capture

    func testShapeErrorBecomesTorchErrorWithLibtorchMessage() {
        XCTAssertThrowsError(try withTorchErrors { Tensor.zeros([2, 3]).matmul(Tensor.zeros([2, 3])) }) { error in
            // libtorch 2.x names the op first ("mm: ").
            XCTAssertTrue(["mat1 and mat2 shapes cannot be multiplied (2x3 and 2x3)", "mm: mat1 and mat2 shapes cannot be multiplied (2x3 and 2x3)"]
                .contains((error as? TorchError)?.message ?? ""), "\(error)")
        }
        XCTAssertThrowsError(try withTorchErrors { Tensor.zeros([2, 3]).reshape(4, 2) }) { error in
            XCTAssertEqual((error as? TorchError)?.message, "shape '[4, 2]' is invalid for input of size 6")
        }
        XCTAssertThrowsError(try withTorchErrors { Tensor.cat([Tensor.zeros([2, 3]), Tensor.zeros([3, 2])]) }) { error in
            XCTAssertEqual((error as? TorchError)?.message,
                           "Sizes of tensors must match except in dimension 0. Expected size 3 but got size 2 for tensor number 1 in the list.")
        }
    }

    func testOpsAfterAFailureAreHarmlessAndTheFirstMessageWins() {
        let a = Tensor.ones([2, 3]).requiringGrad()
        var reachedEnd = false
        XCTAssertThrowsError(try withTorchErrors { () -> Tensor in
            let bad = a.matmul(Tensor.ones([2, 3]))
            XCTAssertFalse(bad.isDefined)
            XCTAssertEqual(bad.description, "Tensor(undefined)")
            XCTAssertEqual(bad.shape, [])
            XCTAssertEqual(bad.count, 0)
            let more = ((bad + 1).relu().sum(dims: [0]) * a).conv2d(weight: bad)
            XCTAssertFalse(more.isDefined)
            _ = Tensor.cat([bad, a])
            _ = more.item()
            XCTAssertEqual(more.toArray(Float.self), [])
            XCTAssertEqual(more.bytes(), [])
            more.addInPlace(1)
            more.copyFrom(a)
            more.backward()
            XCTAssertNil(more.grad)
            _ = gradients(of: [more], withRespectTo: [a])
            _ = more.reshape(-1).chunked(2)
            XCTAssertEqual(more.size(0), 0)
            _ = more.flatten(startDim: 1)
            _ = more.upsampleNearest(scale: 2)
            _ = more.upsampleBilinear(scale: 2)
            more.grad = a
            more.zeroGrad()
            more.requiresGrad = true
            _ = Tensor.zeros([2]).reshape(3)  // a second, different failure
            reachedEnd = true
            return more
        }) { error in
            // libtorch 2.x names the op first ("mm: ").
            XCTAssertTrue(["mat1 and mat2 shapes cannot be multiplied (2x3 and 2x3)", "mm: mat1 and mat2 shapes cannot be multiplied (2x3 and 2x3)"]
                .contains((error as? TorchError)?.message ?? ""), "\(error)")
        }
        XCTAssertTrue(reachedEnd, "the body runs to completion")
        XCTAssertNil(a.grad)
    }

    func testSwiftSideValidationIsCapturedToo() {
        let x = Tensor.zeros([2, 3])
        XCTAssertThrowsError(try withTorchErrors { x.size(2) }) { error in
            XCTAssertEqual((error as? TorchError)?.message, "dimension 2 is out of range for a tensor of rank 2")
        }
        XCTAssertThrowsError(try withTorchErrors { x.size(-3) }) { error in
            XCTAssertEqual((error as? TorchError)?.message, "dimension -3 is out of range for a tensor of rank 2")
        }
        XCTAssertThrowsError(try withTorchErrors { x.flatten(startDim: 1, endDim: 0) }) { error in
            XCTAssertEqual((error as? TorchError)?.message,
                           "flatten(startDim: 1, endDim: 0) is out of range for a tensor of rank 2")
        }
        XCTAssertThrowsError(try withTorchErrors { Tensor.zeros([3, 4, 4]).upsampleNearest(scale: 2) }) { error in
            XCTAssertEqual((error as? TorchError)?.message, "upsampleNearest(scale:) expects NCHW input, got shape [3, 4, 4]")
        }
        XCTAssertThrowsError(try withTorchErrors { Tensor.zeros([4, 4]).upsampleBilinear(scale: 2) }) { error in
            XCTAssertEqual((error as? TorchError)?.message, "upsampleBilinear(scale:) expects NCHW input, got shape [4, 4]")
        }

        var undefined: Tensor?
        _ = try? withTorchErrors { undefined = x.matmul(x) }
        let u = undefined!
        XCTAssertThrowsError(try withTorchErrors { u.grad = Tensor.ones([1]) }) { error in
            XCTAssertEqual((error as? TorchError)?.message, "cannot set the gradient of an undefined tensor")
        }
        XCTAssertThrowsError(try withTorchErrors { u.zeroGrad() }) { error in
            XCTAssertEqual((error as? TorchError)?.message, "cannot clear the gradient of an undefined tensor")
        }
        XCTAssertThrowsError(try withTorchErrors { u.requiresGrad = true }) { error in
            XCTAssertEqual((error as? TorchError)?.message, "cannot call get_autograd_meta() on undefined tensor")
        }
    }

    func testCaptureScopesAreIndependent() throws {
        // A success after a failure reports nothing stale.
        _ = try? withTorchErrors { Tensor.zeros([2]).reshape(3) }
        let fine = try withTorchErrors { Tensor.ones([2]).reshape(1, 2) }
        XCTAssertEqual(fine.shape, [1, 2])

        // The outer scope sees the inner scope's failure only when the inner one lets it escape.
        let value = try withTorchErrors { () -> Int in
            XCTAssertThrowsError(try withTorchErrors { Tensor.zeros([2]).reshape(3) })
            return 7
        }
        XCTAssertEqual(value, 7)

        // An inner failure that the body lets escape reaches the outer caller unchanged.
        XCTAssertThrowsError(try withTorchErrors { try withTorchErrors { Tensor.zeros([2]).reshape(3) } }) { error in
            XCTAssertEqual((error as? TorchError)?.message, "shape '[3]' is invalid for input of size 2")
        }

        XCTAssertThrowsError(try withTorchErrors { () -> Tensor in
            let outerFailure = Tensor.zeros([2]).reshape(5)
            // A nested scope inside a failing one neither clears nor replaces the first message.
            _ = try? withTorchErrors { Tensor.zeros([2]).reshape(3) }
            return outerFailure
        }) { error in
            XCTAssertEqual((error as? TorchError)?.message, "shape '[5]' is invalid for input of size 2")
        }
    }

    func testSwiftErrorsPassThroughAndResetTheScope() throws {
        struct Custom: Error, Equatable {}
        XCTAssertThrowsError(try withTorchErrors { () -> Tensor in
            _ = Tensor.zeros([2]).reshape(3)
            throw Custom()
        }) { error in
            XCTAssertTrue(error is Custom, "the body's own error wins: \(error)")
        }
        XCTAssertEqual(try withTorchErrors { Tensor.ones([3]).sum().item() }, 3)
    }

    func testTorchErrorValue() {
        let e = TorchError("boom")
        XCTAssertEqual(e.message, "boom")
        XCTAssertEqual(e.description, "boom")
        XCTAssertEqual(e, TorchError("boom"))
        XCTAssertNotEqual(e, TorchError("bang"))
    }

    // MARK: Threads

    func testThreadCount() {
        let original = Torch.threads
        defer { Torch.threads = original }
        XCTAssertGreaterThanOrEqual(original, 1)
        Torch.threads = 1
        XCTAssertEqual(Torch.threads, 1)
        XCTAssertTrue(Torch.parallelInfo.contains("at::get_num_threads() : 1"), Torch.parallelInfo)
        Torch.threads = 2
        XCTAssertEqual(Torch.threads, 2)
        Torch.threads = 0
        XCTAssertEqual(Torch.threads, 1, "non-positive counts clamp to one thread")
        Torch.threads = -4
        XCTAssertEqual(Torch.threads, 1)
    }

    func testPhysicalCoresAreCountedFromTheAffinityListAndTheTopology() {
        XCTAssertEqual(Torch.cpuList("0-3,8,10-11"), [0, 1, 2, 3, 8, 10, 11])
        XCTAssertEqual(Torch.cpuList(" 5\n"), [5])
        XCTAssertNil(Torch.cpuList("3-1"))
        XCTAssertNil(Torch.cpuList("a"))
        guard let cores = Torch.physicalCores() else { return XCTAssertFalse(FileManager.default.fileExists(atPath: "/sys/devices/system/cpu/cpu0/topology/core_id")) }
        XCTAssertGreaterThanOrEqual(cores, 1)
        XCTAssertLessThanOrEqual(cores, ProcessInfo.processInfo.activeProcessorCount)
    }

    func testResultsDoNotDependOnThreadCount() {
        let original = Torch.threads
        defer { Torch.threads = original }
        let x = seededRandn([4, 8, 32, 32], seed: 1).to(.float32)
        let w = seededRandn([8, 8, 3, 3], seed: 2).to(.float32)
        Torch.threads = 1
        let single = x.conv2d(weight: w, padding: 1).sum(dims: [1])
        Torch.threads = 2
        let multi = x.conv2d(weight: w, padding: 1).sum(dims: [1])
        // Each output sums 8·3·3 products, then 8 channels.
        assertWithinRounding(multi, single, reductionLength: 8 * 9 + 8, "conv2d with 1 vs 2 threads")
    }

    func testInteropThreadsCanBeSetAtMostOnce() {
        let n = Torch.interopThreads
        XCTAssertGreaterThanOrEqual(n, 1)
        XCTAssertThrowsError(try Torch.setInteropThreads(0)) { error in
            XCTAssertEqual((error as? TorchError)?.message, "Expected positive number of threads")
        }
        // Whether the first call is still allowed depends on what ran before in this process.
        try? Torch.setInteropThreads(n)
        XCTAssertThrowsError(try Torch.setInteropThreads(n)) { error in
            let message = (error as? TorchError)?.message ?? ""
            XCTAssertTrue(message.contains("cannot set number of interop threads"), message)
        }
        XCTAssertEqual(Torch.interopThreads, n)
    }

    // MARK: Build information

    func testBuildInformation() {
        XCTAssertNotNil(Torch.version.range(of: #"^\d+\.\d+"#, options: .regularExpression), Torch.version)
        XCTAssertTrue(Torch.buildConfiguration.contains("PyTorch built with"), Torch.buildConfiguration)
        XCTAssertTrue(Torch.parallelInfo.contains("ATen/Parallel"), Torch.parallelInfo)
        XCTAssertEqual(Torch.isMKLDNNAvailable, Torch.buildConfiguration.contains("USE_MKLDNN=ON"))
        if Torch.isCUDAAvailable {
            XCTAssertGreaterThan(Torch.cudaDeviceCount, 0)
        } else {
            XCTAssertEqual(Torch.cudaDeviceCount, 0)
        }
    }
}
