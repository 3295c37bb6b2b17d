import Foundation
import XCTest
@testable import Sketch2RealServer

/// Load on loopback: a bounded number of requests from concurrent clients against a real
/// server with tiny models. Every request must be answered, with 200 or a documented 503.
final class StudioLoadTests: XCTestCase {
    /// With the defaults (one worker, 16 waiting) the queue holds every client's request: all 200 succeed.
    func testTwoHundredRequestsFromSixteenClients() throws {
        let (ok, busy) = try load(name: "load test", workers: 1, queue: 16)
        XCTAssertEqual(ok, 200)
        XCTAssertEqual(busy, 0)
    }

    /// One worker and room for two waiting jobs: the excess gets quick 503s, nothing else.
    func testOverloadIsAnsweredWithDocumented503s() throws {
        let (ok, busy) = try load(name: "overload test", workers: 1, queue: 2)
        XCTAssertGreaterThan(busy, 0, "16 clients overflow a queue of 2")
        XCTAssertGreaterThan(ok, 0)
    }

    /// Sends 200 requests from 16 client threads; checks that each got 200 or a documented 503
    /// and that the metrics counted them; prints and returns the counts.
    func load(name: String, workers: Int, queue: Int) throws -> (ok: Int, busy: Int) {
        let models = makeTemporaryFolder(self)
        try writeTinyModels(to: models)
        let (server, running) = try startStudio(self, models: models) {
            $0.workers = workers
            $0.queueCapacity = queue
        }
        let port = running.port
        let sketch = try sketchBytes(width: 64, height: 64)
        let total = 200, clients = 16
        // Each client takes the next request number until all are sent: translate and sample, mixed.
        let next = Counter()
        let results = LoadResults()
        let started = Date()
        // One thread per client (concurrentPerform would run only as many as there are cores).
        let finished = DispatchGroup()
        let inFlight = Counter(), peak = Peak()
        for _ in 0 ..< clients {
            finished.enter()
            Thread {
                defer { finished.leave() }
                clientLoop()
            }.start()
        }
        @Sendable func clientLoop() {
            while let i = next.take(below: total) {
                peak.observe(inFlight.add(1))
                defer { _ = inFlight.add(-1) }
                let path = i % 4 == 3 ? "/api/sample?model=tiny-lsragan&n=2&seed=\(i)&format=json" : "/api/translate?model=tiny-sragan"
                let t0 = Date()
                do {
                    let r = try TestHTTP.request(port: port, method: "POST", path: path, headers: [("Content-Type", "image/png")], body: sketch)
                    results.add(status: r.status, seconds: Date().timeIntervalSince(t0), retryAfter: r.header("retry-after"), body: r.text)
                } catch {
                    results.add(status: -1, seconds: Date().timeIntervalSince(t0), retryAfter: nil, body: "\(error)")
                }
            }
        }
        finished.wait()
        let wall = Date().timeIntervalSince(started)
        let all = results.all
        let ok = all.filter { $0.status == 200 }
        let busy = all.filter { $0.status == 503 }
        let latencies = ok.map(\.seconds).sorted()
        func percentile(_ p: Double) -> Double { latencies.isEmpty ? .nan : latencies[min(latencies.count - 1, Int((p * Double(latencies.count)).rounded(.up)) - 1)] }
        let report = String(format: "\(name) (--workers \(workers) --queue \(queue)): %d requests from %d clients (%d at once at the peak) in %.2f s (%.1f req/s): %d × 200, %d × 503, %d other; latency of 200s p50 %.1f ms, p99 %.1f ms, max %.1f ms",
                            all.count, clients, peak.value, wall, Double(all.count) / wall, ok.count, busy.count, all.count - ok.count - busy.count,
                            percentile(0.5) * 1000, percentile(0.99) * 1000, (latencies.last ?? .nan) * 1000)
        print(report)
        try? report.write(toFile: NSTemporaryDirectory() + "sketch2real-studio-\(name.replacingOccurrences(of: " ", with: "-")).txt", atomically: true, encoding: .utf8)

        XCTAssertEqual(all.count, total, "every request was answered")
        for failure in all where failure.status != 200 && failure.status != 503 {
            XCTFail("request failed with \(failure.status): \(failure.body)")
        }
        for refusal in busy {
            XCTAssertNotNil(refusal.retryAfter.flatMap(Int.init), "a 503 carries Retry-After")
            XCTAssertTrue(refusal.body.contains("The server is busy"), refusal.body)
        }
        XCTAssertGreaterThan(peak.value, 8, "the clients overlapped")
        XCTAssertEqual(server.queue.depth, 0)
        let metrics = try TestHTTP.request(port: port, path: "/metrics").text
        let counted = metrics.split(separator: "\n").filter { $0.hasPrefix("sketch2real_http_requests_total{route=\"/api/") }
            .compactMap { Int($0.split(separator: " ").last!) }.reduce(0, +)
        XCTAssertEqual(counted, total, "the metrics count every request")
        XCTAssertTrue(metrics.contains("sketch2real_queue_rejected_total \(busy.count)\n"))
        return (ok.count, busy.count)
    }
}

final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var value = 0
    func add(_ n: Int) -> Int { lock.withLock { value += n; return value } }
    func take(below limit: Int) -> Int? {
        lock.withLock {
            guard value < limit else { return nil }
            defer { value += 1 }
            return value
        }
    }
}

final class Peak: @unchecked Sendable {
    private let lock = NSLock()
    private var highest = 0
    func observe(_ n: Int) { lock.withLock { highest = max(highest, n) } }
    var value: Int { lock.withLock { highest } }
}

final class LoadResults: @unchecked Sendable {
    struct Entry { let status: Int; let seconds: Double; let retryAfter: String?; let body: String }
    private let lock = NSLock()
    private var entries: [Entry] = []
    func add(status: Int, seconds: Double, retryAfter: String?, body: String) {
        lock.withLock { entries.append(Entry(status: status, seconds: seconds, retryAfter: retryAfter, body: status == 200 ? "" : body)) }
    }
    var all: [Entry] { lock.withLock { entries } }
}
