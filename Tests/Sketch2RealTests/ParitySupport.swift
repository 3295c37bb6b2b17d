import Foundation
import NN
import Torch
import XCTest
@testable import Sketch2Real

/// Largest allowed |Swift − PyTorch| for model outputs in the parity tests.
let parityTolerance = 1e-4

/// Comparisons shared by the model parity tests.
extension XCTestCase {
    func checkNames(_ module: Module, _ info: CaseInfo<some Decodable>, _ name: String,
                    file: StaticString = #filePath, line: UInt = #line) throws {
        XCTAssertEqual(module.stateDict().map(\.0), info.stateNames, "\(name): state-dict names", file: file, line: line)
        XCTAssertEqual(module.namedBuffers().map(\.0), info.bufferNames, "\(name): buffer names", file: file, line: line)
        let buffers = Set(info.bufferNames)
        XCTAssertEqual(module.namedParameters().map(\.0), info.stateNames.filter { !buffers.contains($0) },
                       "\(name): parameter names", file: file, line: line)
    }

    /// Every buffer against the fixture's copy after a train-mode forward.
    func checkBuffers(_ module: Module, _ fixture: ModelFixture, prefix: String, _ what: String,
                      file: StaticString = #filePath, line: UInt = #line) throws {
        for (name, value) in module.namedBuffers() {
            let expected = try fixture.tensor(prefix + name)
            if value.dtype.isFloatingPoint {
                let diff = compare(value, expected, slack: 0, "\(what): buffer \(name)", file: file, line: line)
                XCTAssertLessThanOrEqual(diff, 1e-5, "\(what): buffer \(name)", file: file, line: line)
            } else {
                XCTAssertEqual(value.toArray(Int64.self), expected.toArray(Int64.self), "\(what): buffer \(name)",
                               file: file, line: line)
            }
        }
    }

    /// max |actual − expected|, failing above `tolerance − slack` (slack: how far the stored
    /// reference may lie from PyTorch's float32 value), so a pass bounds the distance to PyTorch.
    @discardableResult
    func compare(_ actual: Tensor, _ expected: Tensor, slack: Double, _ what: String,
                 file: StaticString = #filePath, line: UInt = #line) -> Double {
        guard actual.shape == expected.shape else {
            XCTFail("\(what): shape \(actual.shape), expected \(expected.shape)", file: file, line: line)
            return .infinity
        }
        let diff = maxAbsDifference(actual.detached(), expected)
        XCTAssertLessThanOrEqual(diff, parityTolerance - slack, "\(what): max |Swift − PyTorch|", file: file, line: line)
        return diff
    }

    /// Gradients sum many products, so their error scales with their size: the bound is
    /// `tolerance · max(1, max |expected|)`. Returns the difference in those units × tolerance.
    @discardableResult
    func compareGradient(_ actual: Tensor?, _ expected: Tensor, _ what: String,
                         file: StaticString = #filePath, line: UInt = #line) -> Double {
        guard let actual else {
            XCTFail("\(what): no gradient", file: file, line: line)
            return .infinity
        }
        guard actual.shape == expected.shape else {
            XCTFail("\(what): shape \(actual.shape), expected \(expected.shape)", file: file, line: line)
            return .infinity
        }
        let scale = Swift.max(1, expected.to(.float64).abs().max().item())
        let diff = maxAbsDifference(actual, expected) / scale
        XCTAssertLessThanOrEqual(diff, parityTolerance, "\(what): max |Swift − PyTorch| / max(1, max |PyTorch|)",
                                 file: file, line: line)
        return diff
    }
}
