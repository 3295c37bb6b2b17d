import Foundation
import NN
import NumericalTolerance
import Torch
import XCTest

/// A fixture written by Tests/Fixtures/make_nn_fixtures.py. Each file's metadata maps a
/// case name to JSON, so layer settings are written once, on the Python side.
struct Fixture {
    let file: SafeTensors
    let name: String

    init(_ name: String) throws {
        guard let url = Bundle.module.url(forResource: name, withExtension: "safetensors", subdirectory: "Fixtures") else {
            throw TorchError("fixture \(name).safetensors is missing; run Tests/Fixtures/make_nn_fixtures.py")
        }
        file = try SafeTensors.load(path: url.path)
        self.name = name
    }

    func tensor(_ key: String) throws -> Tensor {
        guard let t = file[key] else { throw TorchError("fixture \(name) has no tensor \(key)") }
        return t
    }

    func has(_ key: String) -> Bool { file[key] != nil }

    /// Tensors whose names start with `prefix`, keyed by the rest of the name.
    func tensors(prefix: String) -> [String: Tensor] {
        var out: [String: Tensor] = [:]
        for (name, t) in file.tensors where name.hasPrefix(prefix) { out[String(name.dropFirst(prefix.count))] = t }
        return out
    }

    func json(_ key: String) throws -> JSON {
        guard let text = file.metadata[key] else { throw TorchError("fixture \(name) has no metadata \(key)") }
        return JSON(try JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed]))
    }

    /// Case names: metadata keys.
    var cases: [String] { file.metadata.keys.sorted() }
}

/// Read-only access to parsed JSON; a wrong type or missing key fails loudly, since it means
/// the fixture and the tests disagree.
struct JSON {
    let value: Any
    init(_ value: Any) { self.value = value }

    subscript(key: String) -> JSON {
        guard let d = value as? [String: Any], let v = d[key] else { fatalError("fixture JSON lacks key \(key) in \(value)") }
        return JSON(v)
    }
    func has(_ key: String) -> Bool { (value as? [String: Any])?[key] != nil }
    var int: Int { (value as! NSNumber).intValue }
    var double: Double { (value as! NSNumber).doubleValue }
    var bool: Bool { (value as! NSNumber).boolValue }
    var string: String { value as! String }
    var array: [JSON] { (value as! [Any]).map(JSON.init) }
    var ints: [Int] { array.map(\.int) }
    var strings: [String] { array.map(\.string) }
    var size2: Size2 { let v = ints; return Size2(v[0], v[1]) }
    var keys: [String] { (value as! [String: Any]).keys.sorted() }
}

// MARK: Comparisons

/// Fails unless `actual` and `expected` have the same shape and every element satisfies
/// |a − e| ≤ atol + rtol·|e|; the message names the worst element.
func assertClose(_ actual: Tensor?, _ expected: Tensor, rtol: Double = 1e-5, atol: Double = 1e-6, _ what: String,
                 file: StaticString = #filePath, line: UInt = #line) {
    guard let actual else { return XCTFail("\(what): no value (expected \(expected.shape))", file: file, line: line) }
    guard actual.shape == expected.shape else {
        return XCTFail("\(what): shape \(actual.shape), expected \(expected.shape)", file: file, line: line)
    }
    let a = actual.detached().toArray(Double.self)
    let e = expected.detached().toArray(Double.self)
    var worst: (index: Int, excess: Double)?
    for i in a.indices {
        let excess = Swift.abs(a[i] - e[i]) - (atol + rtol * Swift.abs(e[i]))
        if !(excess <= 0), excess > (worst?.excess ?? -1) || excess.isNaN { worst = (i, excess) }
    }
    if let w = worst {
        XCTFail("\(what): element \(w.index) is \(a[w.index]), expected \(e[w.index]) (rtol \(rtol), atol \(atol))",
                file: file, line: line)
    }
}

/// A result against the PyTorch fixture's value of the same computation, within the bound of
/// `RoundingTolerance` for the reduction length the caller derives from its shapes.
func assertWithinRounding(_ actual: Tensor?, _ expected: Tensor, reductionLength: Int, scale: Double = 0, _ what: String,
                          file: StaticString = #filePath, line: UInt = #line) {
    guard let actual else { return XCTFail("\(what): no value (expected \(expected.shape))", file: file, line: line) }
    if let problem = RoundingTolerance(expected.dtype, reductionLength: reductionLength).mismatch(actual, expected, scale: scale) {
        XCTFail("\(what): \(problem)", file: file, line: line)
    }
}

/// Fails unless both tensors have the same dtype, shape and bytes.
func assertIdentical(_ actual: Tensor?, _ expected: Tensor, _ what: String, file: StaticString = #filePath, line: UInt = #line) {
    guard let actual else { return XCTFail("\(what): no value", file: file, line: line) }
    XCTAssertEqual(actual.dtype, expected.dtype, "\(what): dtype", file: file, line: line)
    XCTAssertEqual(actual.shape, expected.shape, "\(what): shape", file: file, line: line)
    if actual.bytes() != expected.bytes() {
        XCTFail("\(what): contents differ", file: file, line: line)
    }
}

/// Deep copies of a module's state, for before/after comparisons.
func snapshot(_ module: Module) -> [(String, Tensor)] {
    module.stateDict().map { ($0.0, $0.1.detached().clone()) }
}

func assertIdentical(_ actual: [(String, Tensor)], _ expected: [(String, Tensor)], _ what: String,
                     file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(actual.map(\.0), expected.map(\.0), "\(what): names", file: file, line: line)
    for ((name, a), (_, e)) in zip(actual, expected) { assertIdentical(a, e, "\(what): \(name)", file: file, line: line) }
}

/// The message of the error `body` throws, or a failure when it does not throw.
func errorMessage(_ body: () throws -> Void, file: StaticString = #filePath, line: UInt = #line) -> String {
    do {
        try body()
    } catch let e as TorchError {
        return e.message
    } catch {
        return "\(error)"
    }
    XCTFail("expected an error", file: file, line: line)
    return ""
}

/// A fresh empty folder, removed when the test ends.
func temporaryFolder(_ test: XCTestCase) throws -> String {
    let path = NSTemporaryDirectory() + "nntests-\(getpid())-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
    test.addTeardownBlock { try? FileManager.default.removeItem(atPath: path) }
    return path
}

func folderContents(_ path: String) throws -> [String] {
    try FileManager.default.contentsOfDirectory(atPath: path).sorted()
}

// MARK: Building layers from fixture descriptions

/// The Swift layer for a fixture case, mirroring `build` in make_nn_fixtures.py.
func makeLayer(_ layer: String, _ a: JSON) -> any UnaryLayer {
    switch layer {
    case "Conv2d":
        return Conv2d(a["in"].int, a["out"].int, kernelSize: a["kernel"].size2, stride: a["stride"].size2,
                      padding: a["padding"].size2, dilation: a["dilation"].size2, groups: a["groups"].int,
                      bias: a["bias"].bool)
    case "ConvTranspose2d":
        return ConvTranspose2d(a["in"].int, a["out"].int, kernelSize: a["kernel"].size2, stride: a["stride"].size2,
                               padding: a["padding"].size2, outputPadding: a["output_padding"].size2,
                               groups: a["groups"].int, bias: a["bias"].bool, dilation: a["dilation"].size2)
    case "Linear":
        return Linear(a["in"].int, a["out"].int, bias: a["bias"].bool)
    case "InstanceNorm2d":
        return InstanceNorm2d(a["features"].int, eps: a["eps"].double, momentum: a["momentum"].double,
                              affine: a["affine"].bool, trackRunningStats: a["track"].bool)
    case "BatchNorm2d":
        return BatchNorm2d(a["features"].int, eps: a["eps"].double, momentum: a["momentum"].double,
                           affine: a["affine"].bool, trackRunningStats: a["track"].bool)
    case "Dropout":
        return Dropout(a["p"].double)
    case "ReflectionPad2d":
        let p = a["padding"].ints
        return ReflectionPad2d(left: p[0], right: p[1], top: p[2], bottom: p[3])
    case "Upsample":
        return Upsample(scale: a["scale"].double, mode: Upsample.Mode(rawValue: a["mode"].string)!,
                        alignCorners: a["align_corners"].bool)
    case "AvgPool2d":
        return AvgPool2d(kernelSize: a["kernel"].size2, stride: a["stride"].size2, padding: a["padding"].size2,
                         ceilMode: a["ceil_mode"].bool, countIncludePad: a["count_include_pad"].bool)
    case "ReLU": return ReLU()
    case "LeakyReLU": return LeakyReLU(a["slope"].double)
    case "Tanh": return Tanh()
    case "Sigmoid": return Sigmoid()
    case "Identity": return Identity()
    default: fatalError("no Swift layer for fixture layer \(layer)")
    }
}

// MARK: Memory

/// Resident set size in bytes, from /proc/self/statm.
func residentBytes() -> Int? {
    guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return nil }
    let fields = text.split(separator: " ")
    guard fields.count > 1, let pages = Int(fields[1]) else { return nil }
    return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
}
