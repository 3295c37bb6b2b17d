import Foundation
import XCTest
import Sketch2Real
import Torch

/// Runs the built `sketch2real` program as a user would.
final class CommandLineTests: XCTestCase {
    func run(_ arguments: [String]) throws -> (status: Int32, output: String, error: String) {
        try runProgram(arguments)
    }

    func testInfoReportsRuntime() throws {
        let r = try run(["info", "--no-benchmark"])
        XCTAssertEqual(r.status, 0, r.error)
        // The report's structure holds for any libtorch; its values only where bootstrap
        // guarantees them: PyPI's libtorch carries MKL inside libtorch_cpu, Debian's uses OpenBLAS.
        for field in [#"(?m)^libtorch\s+\d+\.\d+"#, #"(?m)^BLAS\s+\S"#, #"(?m)^threads\s+\d+ intra-op"#, #"(?m)^cpu\s+\S"#, #"(?m)^devices\s+cpu"#,
                      #"(?m)^device\s+\S+ \(--device auto; "#] {
            XCTAssertNotNil(r.output.range(of: field, options: .regularExpression), "\(field) in\n\(r.output)")
        }
        if (ProcessInfo.processInfo.environment["LIBTORCH"] ?? "").isEmpty {
            let blas = Torch.buildConfiguration.contains("BLAS_INFO=mkl") ? "MKL" : "OpenBLAS"
            XCTAssertNotNil(r.output.range(of: "(?m)^BLAS\\s+\(blas)", options: .regularExpression), r.output)
        }
        XCTAssertFalse(r.output.contains("matmul"), "--no-benchmark must skip the measurement")
        // One thread per physical core unless SKETCH2REAL_THREADS chose (the test matrix sets it).
        let expected = ProcessInfo.processInfo.environment["SKETCH2REAL_THREADS"].flatMap(Int.init) ?? Torch.physicalCores() ?? Torch.threads
        XCTAssertTrue(r.output.contains("threads      \(expected) intra-op"), r.output)
        // The precision `auto` picks here, and why; the kernel choices known so far.
        let picked = PrecisionChoice.auto.resolve().precision.rawValue
        XCTAssertNotNil(r.output.range(of: "(?m)^precision\\s+\(picked) \\(auto: ", options: .regularExpression), r.output)
        XCTAssertNotNil(r.output.range(of: #"(?m)^kernels\s+transposed convolutions: .* shape\(s\) known"#, options: .regularExpression), r.output)
        let forced = try run(["info", "--no-benchmark", "--precision", "fp32"])
        XCTAssertTrue(forced.output.contains("precision    fp32 (asked for (--precision fp32)"), forced.output)
        // The layout and the data-parallel backend this build and device give.
        XCTAssertTrue(r.output.contains("layout       contiguous (auto: the CPU;"), r.output)
        let layout = try run(["info", "--no-benchmark", "--memory-format", "channels-last"])
        XCTAssertTrue(layout.output.contains("layout       channels-last (asked for (--memory-format channels-last)"), layout.output)
        XCTAssertTrue(r.output.contains(ProcessGroup.ncclAvailable ? "distributed  NCCL between GPUs" : "distributed  Gloo (this build has no NCCL"), r.output)
        let bad = try run(["info", "--no-benchmark", "--precision", "fp8"])
        XCTAssertNotEqual(bad.status, 0)
        XCTAssertTrue(bad.error.contains("fp8"), bad.error)
    }

    func testInfoMeasuresMatmul() throws {
        let r = try run(["info", "--threads", "1"])
        XCTAssertEqual(r.status, 0, r.error)
        XCTAssertTrue(r.output.contains("threads      1 intra-op"), r.output)
        XCTAssertNotNil(r.output.range(of: #"matmul\s+[0-9.]+ GFLOP/s"#, options: .regularExpression), r.output)
    }

    func testBadThreadCountIsAClearError() throws {
        let r = try run(["info", "--threads", "0"])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.error.contains("--threads must be at least 1, got 0."), r.error)
    }
}
