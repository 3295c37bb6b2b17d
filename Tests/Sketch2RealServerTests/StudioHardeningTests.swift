import Foundation
import XCTest
@testable import Sketch2RealServer
#if canImport(Glibc)
import Glibc
#endif

/// What the studio does against browsers of other sites, odd HTTP, and clients that leave or
/// push too hard.
final class StudioHardeningTests: StudioTestCase {
    // MARK: Browsers

    func testEveryAnswerCarriesTheSecurityHeadersAndThePageHasNothingInline() throws {
        _ = try start()
        for r in [try get("/"), try get("/studio.js"), try get("/nothing-here"), try post("/api/translate", [1, 2, 3])] {
            XCTAssertEqual(r.header("x-content-type-options"), "nosniff")
            XCTAssertEqual(r.header("x-frame-options"), "DENY")
            let csp = r.header("content-security-policy") ?? ""
            for directive in ["default-src 'none'", "script-src 'self'", "style-src 'self'", "frame-ancestors 'none'"] {
                XCTAssertTrue(csp.contains(directive), "CSP '\(csp)' lacks \(directive)")
            }
        }
        let page = try get("/").text
        XCTAssertFalse(page.contains("style=\""), "no inline style attributes")
        XCTAssertFalse(page.contains("<style"), "no inline style sheet")
        XCTAssertFalse(page.contains("<script>"), "no inline script")
        XCTAssertTrue(page.contains("<script src=\"/studio.js\"></script>"))
        let script = try get("/studio.js"), style = try get("/studio.css")
        XCTAssertEqual(script.status, 200)
        XCTAssertEqual(script.header("content-type"), "text/javascript; charset=utf-8")
        XCTAssertTrue(script.text.contains("fetch(\"/api/models\")"))
        XCTAssertEqual(style.header("content-type"), "text/css; charset=utf-8")
        XCTAssertTrue(style.text.contains("#canvas"))
    }

    func testOnlyLoopbackNamesIPAddressesAndAllowedHostsAreAnswered() throws {
        _ = try start { $0.allowedHosts = ["studio.lan"] }
        for host in ["127.0.0.1:\(port)", "localhost:\(port)", "LOCALHOST", "app.localhost:\(port)", "192.168.1.20:\(port)",
                     "[::1]:\(port)", "studio.lan:\(port)"] {
            XCTAssertEqual(try get("/healthz", headers: [("Host", host)]).status, 200, host)
        }
        for host in ["attacker.example:\(port)", "attacker.example", "127.0.0.1.attacker.example"] {
            let r = try get("/healthz", headers: [("Host", host)])
            assertError(r, 403, contains: "does not answer to the host name")
            XCTAssertTrue(r.errorMessage.contains("--allow-host"), r.errorMessage)
            XCTAssertEqual(r.header("x-content-type-options"), "nosniff")
        }
        let post = try self.post("/api/translate", try sketchBytes(), headers: [("Host", "attacker.example")])
        assertError(post, 403, contains: "DNS rebinding")
    }

    func testCrossOriginPostsAreRefusedUnlessTheOriginIsAllowed() throws {
        _ = try start { $0.allowedOrigins = ["http://app.example:3000"] }
        let png = try sketchBytes()
        let foreign = try post("/api/translate", png, headers: [("Origin", "http://attacker.example")])
        assertError(foreign, 403, contains: "pages of other sites are refused")
        XCTAssertTrue(foreign.errorMessage.contains("--allow-origin http://attacker.example"), foreign.errorMessage)
        // A form posted from another site, even without Origin.
        let form = TestHTTP.multipart(fields: [], file: (name: "image", filename: "s.png", type: "image/png", bytes: png))
        assertError(try post("/api/translate", form, type: "multipart/form-data; boundary=s2r-boundary-1234",
                             headers: [("Sec-Fetch-Site", "cross-site")]), 403, contains: "Sec-Fetch-Site: cross-site")
        // The studio's own page, a script without Origin, and the allowed origin go through.
        XCTAssertEqual(try post("/api/translate", png, headers: [("Origin", "http://127.0.0.1:\(port)"), ("Sec-Fetch-Site", "same-origin")]).status, 200)
        XCTAssertEqual(try post("/api/translate", png).status, 200)
        let allowed = try post("/api/translate", png, headers: [("Origin", "http://app.example:3000")])
        XCTAssertEqual(allowed.status, 200)
        XCTAssertEqual(allowed.header("access-control-allow-origin"), "http://app.example:3000")
        // Its preflight is answered; another origin's is not.
        let preflight = try TestHTTP.request(port: port, method: "OPTIONS", path: "/api/translate",
                                             headers: [("Origin", "http://app.example:3000"), ("Access-Control-Request-Method", "POST")])
        XCTAssertEqual(preflight.status, 204)
        XCTAssertEqual(preflight.header("access-control-allow-methods"), "GET, POST")
        XCTAssertEqual(try TestHTTP.request(port: port, method: "OPTIONS", path: "/api/translate",
                                            headers: [("Origin", "http://attacker.example")]).status, 403)
    }

    // MARK: HTTP

    func testHTTP10ConnectionsCloseAfterTheirAnswer() throws {
        _ = try start()
        let fd = try TestHTTP.connect(port: port, timeout: 10)
        defer { close(fd) }
        let started = Date()
        try TestHTTP.send(fd, Array("GET /healthz HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n".utf8))
        // readAll returns when the server closes; the idle timeout is 60 s.
        let r = try TestHTTP.parse(TestHTTP.readAll(fd))
        XCTAssertEqual(r.status, 200)
        XCTAssertEqual(r.header("connection"), "close")
        XCTAssertLessThan(Date().timeIntervalSince(started), 5, "closed after the answer, not after the idle timeout")
    }

    func testUnparsableRequestsGet400WithTheJSONErrorBody() throws {
        _ = try start()
        for raw in ["GARBAGE\r\n\r\n", "GET /healthz HTTP/1.1\r\nHost 127.0.0.1\r\n\r\n"] {
            let fd = try TestHTTP.connect(port: port, timeout: 10)
            defer { close(fd) }
            try TestHTTP.send(fd, Array(raw.utf8))
            let r = try TestHTTP.parse(TestHTTP.readAll(fd))
            assertError(r, 400, contains: "not valid HTTP/1.1")
            XCTAssertEqual(r.header("x-content-type-options"), "nosniff")
        }
        // A malformed chunk size inside a request's body.
        let fd = try TestHTTP.connect(port: port, timeout: 10)
        defer { close(fd) }
        let head = "POST /api/translate HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: image/png\r\nTransfer-Encoding: chunked\r\n\r\n"
        try TestHTTP.send(fd, Array((head + "zz\r\nabc\r\n0\r\n\r\n").utf8))
        let r = try TestHTTP.parse(TestHTTP.readAll(fd))
        assertError(r, 400, contains: "not valid HTTP/1.1")
    }

    // MARK: Work nobody waits for

    /// A client that hangs up while its samples are being made frees the worker at the next
    /// check, not when all of them are done.
    func testADisconnectedClientsWorkIsCancelled() throws {
        let server = try start { $0.workerDelayForTesting = 4 }
        let fd = try TestHTTP.connect(port: port, timeout: 10)
        let png = try sketchBytes()
        let head = "POST /api/sample?model=tiny-lsragan&n=16 HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: image/png\r\nContent-Length: \(png.count)\r\n\r\n"
        try TestHTTP.send(fd, Array(head.utf8) + png)
        waitUntil(server.queue.inProgress == 1)
        let hungUp = Date()
        close(fd)
        assertWorkerFree(server, within: 2, of: hungUp, "the worker stopped long before its 4 s of work")
    }

    /// The worker is idle again within `seconds` of `start`.
    func assertWorkerFree(_ server: StudioServer, within seconds: Double, of start: Date, _ message: String,
                          file: StaticString = #filePath, line: UInt = #line) {
        waitUntil(server.queue.inProgress == 0, within: seconds + 1, file: file, line: line)
        XCTAssertLessThan(Date().timeIntervalSince(start), seconds, message, file: file, line: line)
    }

    func testATimedOutJobFreesItsWorker() throws {
        let server = try start {
            $0.inferenceTimeout = 0.3
            $0.workerDelayForTesting = 4
        }
        assertError(try post("/api/translate", try sketchBytes()), 504, contains: "longer than the server's limit of 0.3 s")
        assertWorkerFree(server, within: 1, of: Date(), "the job stopped when its deadline passed")
    }

    /// A full queue answers 503 before reading the body, held back a moment so that clients
    /// which retry at once cannot keep the cores busy.
    func testBusyAnswersComeWithoutReadingTheBodyAndAreHeldBack() throws {
        let server = try start {
            $0.workers = 1
            $0.queueCapacity = 0
            $0.workerDelayForTesting = 2
            $0.busyAnswerDelay = 0.3
        }
        let running = try occupyTheWorker(server)
        // Promise a large body and send none of it: the answer still comes.
        let fd = try TestHTTP.connect(port: port, timeout: 10)
        defer { close(fd) }
        let started = Date()
        try TestHTTP.send(fd, Array("POST /api/translate HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: image/png\r\nContent-Length: 5000000\r\n\r\n".utf8))
        let answer = try readResponseHead(fd)
        let elapsed = Date().timeIntervalSince(started)
        XCTAssertTrue(answer.hasPrefix("HTTP/1.1 503"), answer)
        XCTAssertTrue(answer.lowercased().contains("retry-after:"), answer)
        XCTAssertGreaterThanOrEqual(elapsed, 0.28, "held back by busyAnswerDelay")
        XCTAssertLessThan(elapsed, 1.5, "answered without waiting for the body or the running job")
        XCTAssertEqual(running.wait()?.status, 200)
    }

    /// Reads from `fd` until a response head is complete.
    func readResponseHead(_ fd: Int32) throws -> String {
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while MultipartForm.find([13, 10, 13, 10], in: out, from: 0) == nil {
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            guard n > 0 else { throw TestHTTPError("the connection ended before a response head (errno \(errno))") }
            out += chunk[0 ..< n]
        }
        return String(decoding: out, as: UTF8.self)
    }
}

extension StudioHardeningTests {
    /// Each model's speed is timed at start-up; a request that could not finish within the time
    /// limit is refused at once, with the largest sketch that would.
    func testRequestsThatCannotFinishInTimeAreRefusedBeforeTheyQueue() throws {
        let server = try start { $0.inferenceTimeout = 1e-5 }
        let rate = try XCTUnwrap(server.models.info(named: "tiny-sragan")?.secondsPerMegapixel)
        XCTAssertGreaterThan(rate, 0)
        let models = try get("/api/models").json["models"] as? [[String: Any]]
        XCTAssertNotNil(models?.first?["secondsPerMegapixel"] as? Double)
        let large = try sketchBytes(width: 1024, height: 1024)
        let r = try post("/api/translate?model=tiny-sragan", large)
        assertError(r, 422, contains: "1 image(s) of 1024×1024 with 'tiny-sragan' would take about")
        XCTAssertTrue(r.errorMessage.contains("send a sketch of at most about"), r.errorMessage)
        XCTAssertEqual(server.queue.inProgress + server.queue.depth, 0)
    }
}
