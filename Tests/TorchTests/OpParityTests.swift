import Foundation
import NumericalTolerance
import XCTest
@testable import Torch

/// Every case of Tests/TorchTests/Fixtures/ops.safetensors run through the Swift API and
/// compared with PyTorch's forward values and gradients.
final class OpParityTests: XCTestCase {
    struct FixtureCase {
        var name: String
        var op: String
        var args: CaseArgs
        var outputs: [String]
        var gradOutputs: [String]
        var diff: [String]
    }

    static func loadCases() throws -> (SafeTensors, [FixtureCase]) {
        let file = try SafeTensors.load(path: try fixtureURL("ops").path)
        var cases: [FixtureCase] = []
        for (name, json) in file.metadata.sorted(by: { $0.key < $1.key }) {
            guard let object = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any],
                  let op = object["op"] as? String, let args = object["args"] as? [String: Any],
                  let outputs = object["outputs"] as? [String], let gradOutputs = object["grad_outputs"] as? [String],
                  let diff = object["diff"] as? [String]
            else { throw TorchError("case \(name): malformed metadata \(json)") }
            cases.append(FixtureCase(name: name, op: op, args: CaseArgs(caseName: name, raw: args), outputs: outputs,
                                     gradOutputs: gradOutputs, diff: diff))
        }
        return (file, cases)
    }

    func testEveryFixtureCaseMatchesPyTorch() throws {
        let (file, cases) = try Self.loadCases()
        XCTAssertGreaterThan(cases.count, 200, "the fixture should hold the full op table")
        var ran = Set<String>()
        var opsUsed = Set<String>()
        for c in cases {
            guard let function = opTable[c.op] else {
                XCTFail("case \(c.name): no Swift implementation for op '\(c.op)'")
                continue
            }
            opsUsed.insert(c.op)
            do {
                try withTorchErrors { try run(c, function, file) }
                ran.insert(c.name)
            } catch {
                XCTFail("case \(c.name) (\(c.op)): \(error)")
            }
        }
        XCTAssertEqual(Set(cases.map(\.name)).subtracting(ran).sorted(), [], "cases that did not run")
        XCTAssertEqual(Set(opTable.keys).subtracting(opsUsed).sorted(), [], "Swift ops with no fixture case")

        // Every tensor in the file belongs to a case that was checked.
        let orphans = file.names.filter { name in !ran.contains(String(name.prefix { $0 != "." })) }
        XCTAssertEqual(orphans, [], "fixture tensors not tied to any case")
    }

    private func run(_ c: FixtureCase, _ function: OpFunction, _ file: SafeTensors) throws {
        func tensor(_ suffix: String) throws -> Tensor {
            guard let t = file["\(c.name).\(suffix)"] else { throw TorchError("case \(c.name): fixture lacks \(suffix)") }
            return t
        }
        let prefix = "\(c.name).in."
        var inputs: [String: Tensor] = [:]
        for name in file.names where name.hasPrefix(prefix) {
            inputs[String(name.dropFirst(prefix.count))] = try tensor("in." + name.dropFirst(prefix.count)).clone()
        }
        for name in c.diff {
            guard let t = inputs[name] else { throw TorchError("case \(c.name): diff input \(name) missing") }
            t.requiresGrad = true
        }

        let results = try function(CaseInputs(caseName: c.name, tensors: inputs), CaseArgs(caseName: c.name, raw: c.args.raw))
        XCTAssertEqual(Set(results.keys), Set(c.outputs), "case \(c.name): output names")
        // No element of an op's output or gradient sums more terms than its inputs and outputs hold.
        let reduction = ReductionLength.op(Array(inputs.values) + c.outputs.compactMap { file["\(c.name).\($0)"] })
        for key in c.outputs {
            guard let actual = results[key] else { continue }
            assertWithinRounding(actual, try tensor(key), reductionLength: reduction, "case \(c.name) \(key)")
        }

        guard !c.diff.isEmpty else { return }
        var loss: Tensor?
        for key in c.gradOutputs {
            guard let actual = results[key] else { continue }
            let upstream = try tensor(key.replacingOccurrences(of: "out", with: "upstream", options: .anchored))
            let term = (actual * upstream).sum()
            loss = loss.map { $0 + term } ?? term
        }
        guard let loss else {
            XCTFail("case \(c.name): no differentiable output")
            return
        }
        let leaves = try c.diff.map { name -> Tensor in
            guard let t = inputs[name] else { throw TorchError("case \(c.name): diff input \(name) missing") }
            return t
        }
        let grads = gradients(of: [loss], withRespectTo: leaves)
        let scale = RoundingTolerance.rms(try c.diff.map { try tensor("grad.\($0)") })
        for (name, (leaf, grad)) in zip(c.diff, zip(leaves, grads)) {
            let expected = try tensor("grad.\(name)")
            let actual = grad ?? Tensor.zeros(leaf.shape, dtype: leaf.dtype)
            assertWithinRounding(actual, expected, reductionLength: reduction, scale: scale, "case \(c.name) gradient of \(name)")
        }
    }
}
