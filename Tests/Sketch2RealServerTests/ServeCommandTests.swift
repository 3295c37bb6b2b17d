import Foundation
import XCTest
@testable import Sketch2RealServer

/// `sketch2real serve` through the built program: it prints where it listens, answers, and
/// stops cleanly on SIGINT.
final class ServeCommandTests: XCTestCase {
    static let binary = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent(".build/debug/sketch2real")

    func program(_ arguments: [String]) throws -> (process: Process, output: Pipe) {
        guard FileManager.default.isExecutableFile(atPath: Self.binary.path) else {
            throw TestHTTPError("\(Self.binary.path) is missing: build with `swift build` first")
        }
        let process = Process()
        process.executableURL = Self.binary
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        return (process, output)
    }

    func testServeListensOnLoopbackAnswersAndStopsOnSIGINT() throws {
        let models = makeTemporaryFolder(self)
        try writeTinyModels(to: models)
        let (process, output) = try program(["serve", "--port", "0", "--models", models, "--workers", "1", "--threads", "1"])
        defer { if process.isRunning { process.terminate() } }
        // Read until the line with the address.
        var text = ""
        let deadline = Date().addingTimeInterval(60)
        while !text.contains("Studio at http://127.0.0.1:"), Date() < deadline, process.isRunning {
            let chunk = output.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            text += String(decoding: chunk, as: UTF8.self)
        }
        XCTAssertTrue(text.contains("model tiny-lsragan: lsragan, multimodal (nz 8), trained at 32 px"), text)
        let range = try XCTUnwrap(text.range(of: #"Studio at http://127\.0\.0\.1:(\d+)/"#, options: .regularExpression), text)
        let port = try XCTUnwrap(Int(text[range].split(separator: ":").last!.dropLast()))
        let health = try TestHTTP.request(port: port, path: "/healthz")
        XCTAssertEqual(health.json["models"] as? Int, 2)
        XCTAssertEqual(try TestHTTP.request(port: port, method: "POST", path: "/api/translate", headers: [("Content-Type", "image/png")],
                                            body: try sketchBytes()).status, 200)
        kill(process.processIdentifier, SIGINT)
        process.waitUntilExit()
        text += String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        XCTAssertEqual(process.terminationStatus, 0, text)
        XCTAssertTrue(text.hasSuffix("stopped\n"), text)
    }

    func testServeExplainsAMissingModelsFolderAndBadOptions() throws {
        let missing = try program(["serve", "--port", "0", "--models", "/nonexistent-models-folder"])
        missing.process.waitUntilExit()
        let text = String(decoding: missing.output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        XCTAssertNotEqual(missing.process.terminationStatus, 0)
        XCTAssertTrue(text.contains("/nonexistent-models-folder: no such models folder; pass --models with a folder of models made by `sketch2real export`"), text)

        let bad = try program(["serve", "--workers", "0"])
        bad.process.waitUntilExit()
        let badText = String(decoding: bad.output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        XCTAssertNotEqual(bad.process.terminationStatus, 0)
        XCTAssertTrue(badText.contains("Workers must be at least 1, got 0."), badText)
    }
}
