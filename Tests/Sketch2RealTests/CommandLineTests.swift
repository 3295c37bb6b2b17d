import Foundation
import XCTest

/// Runs the built `sketch2real` program as a user would.
final class CommandLineTests: XCTestCase {
    static let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    func run(_ arguments: [String]) throws -> (status: Int32, output: String, error: String) {
        let binary = Self.repositoryRoot.appendingPathComponent(".build/debug/sketch2real")
        guard FileManager.default.isExecutableFile(atPath: binary.path) else {
            XCTFail("\(binary.path) is missing: build with `swift build` first")
            return (-1, "", "")
        }
        let process = Process()
        process.executableURL = binary
        process.arguments = arguments
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self))
    }

    func testInfoReportsRuntime() throws {
        let r = try run(["info", "--no-benchmark"])
        XCTAssertEqual(r.status, 0, r.error)
        XCTAssertTrue(r.output.contains("libtorch     1."), r.output)
        XCTAssertTrue(r.output.contains("BLAS         OpenBLAS"), r.output)
        XCTAssertFalse(r.output.contains("matmul"), "--no-benchmark must skip the measurement")
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
