import Foundation
import XCTest
@testable import Torch

/// Two ranks of a Gloo process group in one process (a thread each), on a file store.
final class ProcessGroupTests: XCTestCase {
    static func twoRanks(_ body: @escaping @Sendable (ProcessGroup) throws -> Void) throws {
        let store = NSTemporaryDirectory() + "s2r-pg-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: store) }
        let errors = ErrorBox()
        let group = DispatchGroup()
        for rank in 0 ..< 2 {
            DispatchQueue.global().async(group: group) {
                do { try body(try ProcessGroup(file: store, rank: rank, worldSize: 2, timeout: 30)) } catch { errors.add("\(error)") }
            }
        }
        XCTAssertEqual(group.wait(timeout: .now() + 60), .success, "the ranks did not finish")
        XCTAssertEqual(errors.all, [])
    }

    func testAllReduceSumsAndBroadcastCopiesRankZero() throws {
        let results = ErrorBox()
        try Self.twoRanks { pg in
            let a = Tensor([Float(pg.rank + 1), 10], shape: [2]), b = Tensor([Float(pg.rank) * 0.5], shape: [1, 1])
            try pg.allReduceSum([a, b])
            let c = Tensor([Float(pg.rank + 7)], shape: [1])
            try pg.broadcast([c], root: 0)
            try pg.barrier()
            results.add("\(pg.rank): \(a.toArray(Float.self)) \(b.toArray(Float.self)) \(c.toArray(Float.self))")
        }
        XCTAssertEqual(results.all.sorted(), ["0: [3.0, 20.0] [0.5] [7.0]", "1: [3.0, 20.0] [0.5] [7.0]"])
    }

    func testABadRankIsRefused() {
        XCTAssertThrowsError(try ProcessGroup(file: "/tmp/x", rank: 2, worldSize: 2, timeout: 1)) {
            XCTAssertEqual("\($0)", "a process group of 2 ranks has no rank 2")
        }
    }
}

final class ErrorBox: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [String] = []
    func add(_ s: String) { lock.withLock { items.append(s) } }
    var all: [String] { lock.withLock { items } }
}

/// Gradient averaging during backward: buckets start in index order on every rank whatever order
/// the gradients arrive in, and a parameter keeps no gradient only when no rank used it.
final class GradientReducerTests: XCTestCase {
    func testGradientsAreAveragedWhateverOrderTheyArriveIn() throws {
        let results = ErrorBox()
        try ProcessGroupTests.twoRanks { pg in
            // Five parameters; 16-byte buckets put each in its own bucket (four floats).
            let sizes = [3, 5, 2, 4, 1]
            let params = sizes.map { Tensor.zeros([$0]).requiringGrad() }
            let reducer = try GradientReducer(group: pg, parameters: params, bucketBytes: 16)
            for round in 0 ..< 2 {
                for p in params { p.zeroGrad() }
                try reducer.begin()
                // Rank 0 builds the terms in one order, rank 1 in the other, so the gradients
                // arrive in opposite orders; parameter 3 is used by rank 0 only, 4 by neither.
                let order = pg.rank == 0 ? [0, 1, 2, 3] : [2, 1, 0]
                var loss = Tensor.zeros([])
                for i in order { loss = loss + (params[i] * Double((pg.rank + 1) * (i + 1) + round)).sum() }
                loss.backward()
                try reducer.finish()
                let grads = params.map { $0.grad.map { $0.toArray(Float.self) } }
                results.add("\(pg.rank) \(round): \(grads)")
            }
            XCTAssertEqual(reducer.bucketCount, 5)
        }
        // Mean of rank 0's (i + 1 + round) and rank 1's 2(i + 1) + round; parameter 3: half of
        // rank 0's 4 + round; parameter 4: no gradient.
        var expected: [String] = []
        for rank in 0 ..< 2 {
            for round in 0 ..< 2 {
                var g: [[Float]?] = []
                for (i, n) in [3, 5, 2].enumerated() {
                    let value = Float(3 * (i + 1) + 2 * round) / 2
                    g.append([Float](repeating: value, count: n))
                }
                g.append([Float](repeating: Float(4 + round) / 2, count: 4))
                g.append(nil)
                expected.append("\(rank) \(round): \(g)")
            }
        }
        XCTAssertEqual(results.all.sorted(), expected.sorted())
    }
}
