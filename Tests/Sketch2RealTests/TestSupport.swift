import Foundation
import Torch
import XCTest
@testable import Sketch2Real

/// A fresh temporary folder, removed when the test ends.
func makeTemporaryFolder(_ test: XCTestCase, file: StaticString = #filePath, line: UInt = #line) -> String {
    let path = NSTemporaryDirectory() + "s2r-test-" + UUID().uuidString
    try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    test.addTeardownBlock { try? FileManager.default.removeItem(atPath: path) }
    return path
}

/// A temporary data set of `count` size² training pairs (under train/): a grey input and the
/// colourful gradient it was made from, pair i with phase i·`phaseStep`.
func writeGreyToColourPairs(_ test: XCTestCase, size: Int, count: Int, phaseStep: Float = 0.23) throws -> String {
    let root = makeTemporaryFolder(test)
    try FileManager.default.createDirectory(atPath: root + "/train", withIntermediateDirectories: true)
    for i in 0 ..< count {
        let photo = gradientImage(width: size, height: size, phase: Float(i) * phaseStep)
        try ImageGrid.joinedHorizontally([photo.grayscale().rgb(), photo]).save(path: "\(root)/train/\(i).png")
    }
    return root
}

/// A deterministic test picture: smooth gradients with a distinct value per position.
func gradientImage(width: Int, height: Int, channels: Int = 3, phase: Float = 0) -> Image {
    var values = [Float](repeating: 0, count: width * height * channels)
    for y in 0 ..< height {
        for x in 0 ..< width {
            for c in 0 ..< channels {
                let v = (Float(x) / Float(max(1, width - 1)) * Float(c + 1) + Float(y) / Float(max(1, height - 1)) + phase)
                values[(y * width + x) * channels + c] = v.truncatingRemainder(dividingBy: 1)
            }
        }
    }
    return Image(pixels: Tensor(values, shape: [height, width, channels]))
}

func maxAbsDifference(_ a: Tensor, _ b: Tensor) -> Double {
    (a.to(.float64) - b.to(.float64)).abs().max().item()
}

/// Writes a pix2pix-style aligned dataset: split/NNN.png holding A | B, where B = A's colours inverted.
func writeAlignedDataset(root: String, counts: [String: Int], size: Int = 32) throws {
    for (split, n) in counts {
        try FileManager.default.createDirectory(atPath: "\(root)/\(split)", withIntermediateDirectories: true)
        for i in 0 ..< n {
            let a = gradientImage(width: size, height: size, phase: Float(i) * 0.1)
            let b = Image(pixels: 1.0 - a.pixels)
            try ImageGrid.joinedHorizontally([a, b]).save(path: "\(root)/\(split)/\(String(format: "%03d", i)).png")
        }
    }
}

/// The repository's root folder, found from this file's location.
let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent()

/// One run of the built program.
struct ProgramRun {
    let arguments: [String]
    let status: Int32
    /// Ended by a signal (a crash), not by a timeout's kill.
    let signalled: Bool
    let timedOut: Bool
    let output: String
    let error: String
    var text: String { output + error }
}

/// Runs the built `sketch2real` program, killed after `timeout` seconds; returns how it ended
/// and what it printed.
func runProgramBounded(_ arguments: [String], environment: [String: String] = [:], timeout: Double = 600) throws -> ProgramRun {
    let binary = repositoryRoot.appendingPathComponent(".build/debug/sketch2real")
    guard FileManager.default.isExecutableFile(atPath: binary.path) else {
        XCTFail("\(binary.path) is missing: build with `swift build` first")
        return ProgramRun(arguments: arguments, status: -1, signalled: false, timedOut: false, output: "", error: "")
    }
    let process = Process()
    process.executableURL = binary
    process.arguments = arguments
    if !environment.isEmpty { process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    let timedOut = TestFlag()
    let watchdog = DispatchWorkItem {
        if process.isRunning {
            timedOut.set()
            process.terminate()
        }
    }
    DispatchQueue.global().asyncAfter(deadline: .now() + timeout, execute: watchdog)
    // Read both pipes concurrently so a chatty program cannot fill one and block.
    nonisolated(unsafe) var errorData = Data()
    let group = DispatchGroup()
    DispatchQueue.global().async(group: group) { errorData = err.fileHandleForReading.readDataToEndOfFile() }
    let o = out.fileHandleForReading.readDataToEndOfFile()
    group.wait()
    process.waitUntilExit()
    watchdog.cancel()
    return ProgramRun(arguments: arguments, status: process.terminationStatus,
                      signalled: process.terminationReason == .uncaughtSignal && !timedOut.isSet, timedOut: timedOut.isSet,
                      output: String(decoding: o, as: UTF8.self), error: String(decoding: errorData, as: UTF8.self))
}

/// Runs the built `sketch2real` program; returns its exit status and what it printed.
func runProgram(_ arguments: [String], environment: [String: String] = [:]) throws -> (status: Int32, output: String, error: String) {
    let run = try runProgramBounded(arguments, environment: environment)
    return (run.status, run.output, run.error)
}

final class TestFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    func set() { lock.withLock { value = true } }
    var isSet: Bool { lock.withLock { value } }
}

// MARK: Learning tests

/// Added to every seed of the tests whose outcome depends on training or sampling, so that
/// `scripts/learning-margins` can run them under other seeds (`SKETCH2REAL_TEST_SEED=N`, default 0).
let learningSeedOffset: UInt64 = {
    guard let text = ProcessInfo.processInfo.environment["SKETCH2REAL_TEST_SEED"], !text.isEmpty else { return 0 }
    guard let n = UInt64(text) else { fatalError("SKETCH2REAL_TEST_SEED must be a non-negative whole number, got '\(text)'") }
    return n
}()

func learningSeed(_ base: UInt64) -> UInt64 { base &+ learningSeedOffset &* 1_000_003 }

/// One machine-readable line per learning statistic and its threshold, which
/// `scripts/learning-margins` collects over seeds, thread counts and kernel paths into the
/// margin table of docs/TESTING.md. `above`: the statistic must exceed the threshold.
func reportLearningMargin(_ test: String, _ statistic: String, value: Double, threshold: Double, above: Bool) {
    let line = String(format: #"learning-margin {"test": "%@", "statistic": "%@", "value": %.6f, "threshold": %.6f, "above": %@}"#,
                      test, statistic, value, threshold, above ? "true" : "false")
    print(line)
}
