import Foundation
import XCTest
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
        // guarantees them (Debian's libtorch with OpenBLAS, unless LIBTORCH names another build).
        for field in [#"(?m)^libtorch\s+\d+\.\d+"#, #"(?m)^BLAS\s+\S"#, #"(?m)^threads\s+\d+ intra-op"#, #"(?m)^cpu\s+\S"#, #"(?m)^devices\s+cpu"#] {
            XCTAssertNotNil(r.output.range(of: field, options: .regularExpression), "\(field) in\n\(r.output)")
        }
        if (ProcessInfo.processInfo.environment["LIBTORCH"] ?? "").isEmpty {
            XCTAssertNotNil(r.output.range(of: #"(?m)^BLAS\s+OpenBLAS"#, options: .regularExpression), r.output)
        }
        XCTAssertFalse(r.output.contains("matmul"), "--no-benchmark must skip the measurement")
        // One thread per physical core unless SKETCH2REAL_THREADS chose (the test matrix sets it).
        let expected = ProcessInfo.processInfo.environment["SKETCH2REAL_THREADS"].flatMap(Int.init) ?? Torch.physicalCores() ?? Torch.threads
        XCTAssertTrue(r.output.contains("threads      \(expected) intra-op"), r.output)
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
