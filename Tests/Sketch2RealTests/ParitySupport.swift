import Foundation
import NN
import NumericalTolerance
import Torch
import XCTest
@testable import Sketch2Real

/// The float32 reduction length of a network on an input (see `RoundingTolerance` for the rule).
func reductionLength(_ module: Module, _ x: Tensor, backward: Bool = false) -> Int {
    ReductionLength.network(module, batch: x.size(0), height: x.size(2), width: x.size(3), backward: backward)
}

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

    /// Every buffer against the fixture's copy after a train-mode forward; running statistics
    /// come out of the same forward pass as the outputs (`reductionLength`).
    func checkBuffers(_ module: Module, _ fixture: ModelFixture, prefix: String, reductionLength: Int, _ what: String,
                      file: StaticString = #filePath, line: UInt = #line) throws {
        for (name, value) in module.namedBuffers() {
            let expected = try fixture.tensor(prefix + name)
            if value.dtype.isFloatingPoint {
                compare(value, expected, slack: 0, reductionLength: reductionLength, "\(what): buffer \(name)", file: file, line: line)
            } else {
                XCTAssertEqual(value.toArray(Int64.self), expected.toArray(Int64.self), "\(what): buffer \(name)",
                               file: file, line: line)
            }
        }
    }

    /// Fails unless every element is within the float32 rounding bound for `reductionLength`
    /// (`RoundingTolerance`) plus `slack`, how far a stored reference may lie from PyTorch's
    /// float32 value (references quantised to 16 bits). Returns the worst element's share of its
    /// allowance: below 1 passes.
    @discardableResult
    func compare(_ actual: Tensor, _ expected: Tensor, slack: Double, reductionLength: Int, scale: Double = 0, _ what: String,
                 file: StaticString = #filePath, line: UInt = #line) -> Double {
        guard actual.shape == expected.shape else {
            XCTFail("\(what): shape \(actual.shape), expected \(expected.shape)", file: file, line: line)
            return .infinity
        }
        let tolerance = RoundingTolerance(reductionLength: reductionLength)
        let a = actual.detached().toArray(Double.self), e = expected.detached().toArray(Double.self)
        let rms = Swift.max(RoundingTolerance.rms(e), scale)
        var worst = (index: 0, share: 0.0)
        for i in a.indices {
            let share = Swift.abs(a[i] - e[i]) / (tolerance.bound(expected: e[i], rms: rms) + slack)
            if !(share <= worst.share) { worst = (i, share) }
        }
        if !(worst.share <= 1) {
            let i = worst.index
            XCTFail("\(what): element \(i) is \(a[i]), expected \(e[i]): \(String(format: "%.2f", worst.share))× the "
                    + "allowance of the \(tolerance)" + (slack > 0 ? " plus the reference's quantisation \(slack)" : ""),
                    file: file, line: line)
        }
        return worst.share
    }

    /// A gradient against the reference: the same rule, with the backward pass's reduction length
    /// and the root mean square of all the pass's reference gradients (`scale`).
    @discardableResult
    func compareGradient(_ actual: Tensor?, _ expected: Tensor, reductionLength: Int, scale: Double, _ what: String,
                         file: StaticString = #filePath, line: UInt = #line) -> Double {
        guard let actual else {
            XCTFail("\(what): no gradient", file: file, line: line)
            return .infinity
        }
        return compare(actual, expected, slack: 0, reductionLength: reductionLength, scale: scale, what, file: file, line: line)
    }
}
