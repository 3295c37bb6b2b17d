import Foundation
import NumericalTolerance
import XCTest
@testable import Torch

// MARK: Locations

/// The package root, found from this file's own path so tests work from any working directory.
let repositoryRoot: URL = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent()  // TorchTests
    .deletingLastPathComponent()  // Tests
    .deletingLastPathComponent()

/// A file from the test target's copied `Fixtures` folder.
func fixtureURL(_ name: String, extension ext: String = "safetensors") throws -> URL {
    if let url = Bundle.module.url(forResource: name, withExtension: ext, subdirectory: "Fixtures") {
        return url
    }
    throw TorchError("fixture Fixtures/\(name).\(ext) is missing from the test bundle; regenerate it with Tests/Fixtures/make_op_fixtures.py")
}

/// A fresh folder under the system temporary directory, removed when the test ends.
func temporaryFolder(for test: XCTestCase) throws -> URL {
    let url = FileManager.default.temporaryDirectory
        .appendingPathComponent("torch-tests-\(UUID().uuidString)", isDirectory: true)
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    test.addTeardownBlock { try? FileManager.default.removeItem(at: url) }
    return url
}

// MARK: Comparing tensors

/// Element-wise closeness: |actual - expected| <= atol + rtol * |expected|, with equal shape
/// and dtype. Integer and boolean tensors must match exactly; NaN matches NaN.
/// Returns a description of the first problem, or nil.
func mismatch(_ actual: Tensor, _ expected: Tensor, rtol: Double = 1e-5, atol: Double = 1e-6) -> String? {
    guard actual.isDefined else { return "result is undefined" }
    if actual.shape != expected.shape { return "shape \(actual.shape), expected \(expected.shape)" }
    if actual.dtype != expected.dtype { return "dtype \(actual.dtype), expected \(expected.dtype)" }
    if !expected.dtype.isFloatingPoint {
        let a = actual.toArray(Int64.self), e = expected.toArray(Int64.self)
        if let i = a.indices.first(where: { a[$0] != e[$0] }) {
            return "element \(i) is \(a[i]), expected \(e[i]) (actual \(a.prefix(12)), expected \(e.prefix(12)))"
        }
        return nil
    }
    let a = actual.toArray(Double.self), e = expected.toArray(Double.self)
    var worst: (index: Int, excess: Double)?
    for i in a.indices {
        if a[i].isNaN && e[i].isNaN { continue }
        if e[i].isInfinite || a[i].isInfinite {
            if a[i] != e[i] { return "element \(i) is \(a[i]), expected \(e[i])" }
            continue
        }
        let excess = Swift.abs(a[i] - e[i]) - (atol + rtol * Swift.abs(e[i]))
        if !(excess <= 0), worst.map({ excess > $0.excess }) ?? true { worst = (i, excess) }
    }
    if let w = worst {
        let bad = a.indices.filter { i in
            !(Swift.abs(a[i] - e[i]) <= atol + rtol * Swift.abs(e[i])) && !(a[i].isNaN && e[i].isNaN)
        }.count
        return "\(bad) of \(a.count) elements differ; worst is element \(w.index): \(a[w.index]) vs expected \(e[w.index])"
    }
    return nil
}

func assertClose(_ actual: Tensor, _ expected: Tensor, rtol: Double = 1e-5, atol: Double = 1e-6,
                 _ message: @autoclosure () -> String = "", file: StaticString = #filePath, line: UInt = #line) {
    if let problem = mismatch(actual, expected, rtol: rtol, atol: atol) {
        XCTFail("\(message()): \(problem)", file: file, line: line)
    }
}

/// A float result against a reference of the same computation made elsewhere (a PyTorch
/// fixture, another thread count): the bound of `RoundingTolerance` for the reduction length the
/// caller derives. Integer and boolean results must match exactly.
func assertWithinRounding(_ actual: Tensor, _ expected: Tensor, reductionLength: Int, scale: Double = 0,
                          _ message: @autoclosure () -> String = "", file: StaticString = #filePath, line: UInt = #line) {
    guard expected.dtype.isFloatingPoint else {
        return assertClose(actual, expected, rtol: 0, atol: 0, message(), file: file, line: line)
    }
    if actual.isDefined, actual.dtype != expected.dtype {
        return XCTFail("\(message()): dtype \(actual.dtype), expected \(expected.dtype)", file: file, line: line)
    }
    if let problem = RoundingTolerance(expected.dtype, reductionLength: reductionLength).mismatch(actual, expected, scale: scale) {
        XCTFail("\(message()): \(problem)", file: file, line: line)
    }
}

// MARK: Finite-difference gradient checks

/// A fixed, varied, mostly non-zero upstream gradient, so a wrong sign or a permuted
/// gradient cannot cancel out the way it could against all-ones.
func fixedUpstream(shape: [Int]) -> Tensor {
    let n = shape.reduce(1, *)
    return (Tensor.arange(0, Double(n), dtype: .float64) * 0.7 + 0.3).sin().reshape(shape)
}

/// Compares autograd's gradients of sum(function(inputs) * G) with central finite differences
/// computed in float64. Inputs are converted to float64 copies; the function must keep that
/// precision (captured constants of lower precision are promoted by libtorch's type rules).
/// Returns one line per input whose gradient disagrees.
func gradientMismatches(inputs: [Tensor], eps: Double = 1e-6, rtol: Double = 1e-5, atol: Double = 1e-6,
                        function: ([Tensor]) -> Tensor) -> [String] {
    let base = inputs.map { $0.detached().to(.float64).clone() }
    let leaves = base.map { $0.clone().requiringGrad() }
    let output = function(leaves)
    guard output.dtype == .float64 else { return ["function returned \(output.dtype), not float64"] }
    guard output.requiresGrad else { return ["function output does not depend on any input"] }
    let upstream = fixedUpstream(shape: output.shape)
    let analytic = gradients(of: [(output * upstream).sum()], withRespectTo: leaves)

    func objective(replacing index: Int, with values: [Double]) -> Double {
        withNoGrad {
            var arguments = base
            arguments[index] = Tensor(values, shape: base[index].shape)
            return (function(arguments) * upstream).sum().item()
        }
    }

    var problems: [String] = []
    for i in base.indices {
        let values = base[i].toArray(Double.self)
        var numeric = [Double](repeating: 0, count: values.count)
        for j in values.indices {
            var plus = values, minus = values
            plus[j] += eps
            minus[j] -= eps
            numeric[j] = (objective(replacing: i, with: plus) - objective(replacing: i, with: minus)) / (2 * eps)
        }
        let expected = Tensor(numeric, shape: base[i].shape)
        let actual = analytic[i] ?? Tensor.zeros(base[i].shape, dtype: .float64)
        if let problem = mismatch(actual, expected, rtol: rtol, atol: atol) {
            problems.append("input \(i) \(base[i].shape): \(problem)")
        }
    }
    return problems
}

func assertGradientsMatch(inputs: [Tensor], eps: Double = 1e-6, rtol: Double = 1e-5, atol: Double = 1e-6,
                          _ message: @autoclosure () -> String = "", file: StaticString = #filePath,
                          line: UInt = #line, function: ([Tensor]) -> Tensor) {
    for problem in gradientMismatches(inputs: inputs, eps: eps, rtol: rtol, atol: atol, function: function) {
        XCTFail("\(message()) gradient: \(problem)", file: file, line: line)
    }
}

/// Reproducible float64 test data that does not depend on the global generator's history.
func seededRandn(_ shape: [Int], seed: UInt64, scale: Double = 1, offset: Double = 0) -> Tensor {
    Torch.manualSeed(seed)
    return Tensor.randn(shape, dtype: .float64) * scale + offset
}

func seededRand(_ shape: [Int], seed: UInt64, low: Double = 0, high: Double = 1) -> Tensor {
    Torch.manualSeed(seed)
    return Tensor.rand(shape, dtype: .float64) * (high - low) + low
}

// MARK: Python

/// The interpreter with PyTorch (Debian's python3-torch) and, on PYTHONPATH, the vendored
/// `safetensors` package that scripts/bootstrap installs into .cache/python.
let pythonPath = "/usr/bin/python3"

struct ProcessResult {
    var status: Int32
    var stdout: String
    var stderr: String
}

func runPython(_ script: String, arguments: [String] = []) throws -> ProcessResult {
    guard FileManager.default.isExecutableFile(atPath: pythonPath) else {
        throw TorchError("\(pythonPath) is missing; run scripts/bootstrap to install python3, python3-torch and safetensors")
    }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: pythonPath)
    process.arguments = ["-c", script] + arguments
    var environment = ProcessInfo.processInfo.environment
    environment["PYTHONPATH"] = repositoryRoot.appendingPathComponent(".cache/python").path
    environment["PYTHONDONTWRITEBYTECODE"] = "1"
    process.environment = environment
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    // Read before waiting so a chatty child cannot block on a full pipe.
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    let errData = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return ProcessResult(status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
                         stderr: String(decoding: errData, as: UTF8.self))
}

/// Fails (never skips) when the Python side of the interoperability tests is unavailable.
func requirePythonSafetensors() throws {
    let probe = try runPython("import torch, safetensors.torch; print(torch.__version__)")
    guard probe.status == 0 else {
        throw TorchError("python3 with torch and safetensors is required (run scripts/bootstrap): \(probe.stderr)")
    }
}
