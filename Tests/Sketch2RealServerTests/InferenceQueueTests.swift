import Foundation
import XCTest
@testable import Sketch2RealServer

/// The bounded queue on its own: capacity, refusal, cancellation, draining.
final class InferenceQueueTests: XCTestCase {
    /// A worker context that blocks each job until the test opens the gate.
    final class Gate: @unchecked Sendable {
        let semaphore = DispatchSemaphore(value: 0)
        func open(_ n: Int = 1) { for _ in 0 ..< n { semaphore.signal() } }
    }

    func waitUntil(_ condition: @autoclosure () -> Bool, file: StaticString = #filePath, line: UInt = #line) {
        let deadline = Date().addingTimeInterval(5)
        while !condition() && Date() < deadline { usleep(5_000) }
        XCTAssertTrue(condition(), "condition not reached within 5 s", file: file, line: line)
    }

    func testAFullQueueRefusesAtOnceAndRunsEverythingItAccepted() throws {
        let gate = Gate()
        let queue = InferenceQueue(contexts: [gate, gate], capacity: 3)
        let results = ResultsBox()
        // 2 running + 3 waiting fill it.
        for i in 0 ..< 5 {
            Task { results.append(try await queue.submit { g in g.semaphore.wait(); return i }) }
        }
        waitUntil(queue.inProgress == 2 && queue.depth == 3)
        // The sixth is refused immediately, with a retry hint.
        let refusal = try blocking { () -> String in
            do {
                _ = try await queue.submit { _ in 0 }
                return "accepted"
            } catch InferenceQueueError.full(let seconds) {
                return seconds >= 1 ? "full" : "full without a retry time"
            }
        }
        XCTAssertEqual(refusal, "full")
        gate.open(5)
        waitUntil(results.values.count == 5)
        XCTAssertEqual(results.values.sorted(), [0, 1, 2, 3, 4])
        queue.shutdown()
    }

    func testACancelledWaitingJobNeverRuns() throws {
        let gate = Gate()
        let queue = InferenceQueue(contexts: [gate], capacity: 4)
        let ran = ResultsBox()
        Task { _ = try await queue.submit { g in g.semaphore.wait(); ran.append(1); return 1 } }
        waitUntil(queue.inProgress == 1)
        let waiting = Task { try await queue.submit { _ in ran.append(2); return 2 } }
        waitUntil(queue.depth == 1)
        waiting.cancel()
        let outcome = try blocking { () -> String in
            do { _ = try await waiting.value; return "ran" } catch is CancellationError { return "cancelled" }
        }
        XCTAssertEqual(outcome, "cancelled")
        XCTAssertEqual(queue.depth, 0, "the cancelled job left the queue")
        gate.open()
        queue.shutdown()
        XCTAssertEqual(ran.values, [1])
    }

    func testErrorsOfTheWorkReachTheCaller() throws {
        struct Boom: Error {}
        let queue = InferenceQueue(contexts: [Gate()], capacity: 1)
        let outcome = try blocking { () -> String in
            do { _ = try await queue.submit { _ -> Int in throw Boom() }; return "no error" } catch is Boom { return "boom" }
        }
        XCTAssertEqual(outcome, "boom")
        queue.shutdown()
    }

    func testShutdownFinishesQueuedJobsAndRefusesNewOnes() throws {
        let gate = Gate()
        let queue = InferenceQueue(contexts: [gate], capacity: 4)
        let results = ResultsBox()
        for i in 0 ..< 3 { Task { results.append(try await queue.submit { g in g.semaphore.wait(); return i }) } }
        waitUntil(queue.inProgress == 1 && queue.depth == 2)
        gate.open(3)
        queue.shutdown()
        waitUntil(results.values.count == 3)
        let late = try blocking { () -> String in
            do { _ = try await queue.submit { _ in 0 }; return "accepted" } catch InferenceQueueError.shuttingDown { return "refused" }
        }
        XCTAssertEqual(late, "refused")
    }

    func testCapacityZeroStillRunsOnAnIdleWorker() throws {
        let queue = InferenceQueue(contexts: [Gate()], capacity: 0)
        XCTAssertEqual(try blocking { try await queue.submit { _ in 42 } }, 42)
        queue.shutdown()
    }
}

final class ResultsBox: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [Int] = []
    func append(_ i: Int) { lock.withLock { items.append(i) } }
    var values: [Int] { lock.withLock { items } }
}
