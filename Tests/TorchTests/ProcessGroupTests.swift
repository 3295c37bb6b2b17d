import Foundation
import XCTest
@testable import Torch

/// Two ranks of a Gloo process group in one process (a thread each), on a file store.
final class ProcessGroupTests: XCTestCase {
    func twoRanks(_ body: @escaping @Sendable (ProcessGroup) throws -> Void) throws {
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
        try twoRanks { pg in
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
