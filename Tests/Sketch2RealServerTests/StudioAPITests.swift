import Foundation
import Sketch2Real
import Logging
import XCTest
@testable import Sketch2RealServer

/// Every endpoint and every documented error of the studio's API, against a real server on a
/// loopback port with tiny models.
final class StudioAPITests: StudioTestCase {
    // MARK: Endpoints

    func testModelsListsEveryModelWithWhatTheClientNeeds() throws {
        _ = try start()
        let r = try get("/api/models")
        XCTAssertEqual(r.status, 200)
        let list = try XCTUnwrap(r.json["models"] as? [[String: Any]])
        XCTAssertEqual(list.map { $0["name"] as? String }, ["tiny-lsragan", "tiny-sragan"])
        XCTAssertEqual(list[0]["kind"] as? String, "lsragan")
        XCTAssertEqual(list[0]["multimodal"] as? Bool, true)
        XCTAssertEqual(list[0]["latentSize"] as? Int, 8)
        XCTAssertEqual(list[0]["hasEncoder"] as? Bool, true)
        XCTAssertEqual(list[1]["multimodal"] as? Bool, false)
        XCTAssertEqual(list[1]["trainingSize"] as? Int, 32)
        let limits = try XCTUnwrap(r.json["limits"] as? [String: Any])
        XCTAssertEqual(limits["maxImageSide"] as? Int, 1024)
        XCTAssertEqual(limits["queueCapacity"] as? Int, 16)
    }

    func testTranslateReturnsAPNGOfTheSketchSizeFromPNGJPEGAndMultipart() throws {
        _ = try start()
        let png = try sketchBytes(width: 37, height: 29)
        let r = try post("/api/translate?model=tiny-sragan", png)
        XCTAssertEqual(r.status, 200, r.text)
        XCTAssertEqual(r.header("content-type"), "image/png")
        XCTAssertEqual(r.header("x-sketch2real-model"), "tiny-sragan")
        XCTAssertNotNil(r.header("x-sketch2real-latency-ms").flatMap(Double.init))
        XCTAssertEqual(ImageHeader.read(r.body), ImageHeader(format: .png, width: 37, height: 29), "cropped back to the sketch's size")
        let image = try Image.decode(Data(r.body))
        XCTAssertEqual(image.channels, 3)

        let jpeg = try post("/api/translate?model=tiny-sragan", try sketchBytes(format: "jpg"), type: "image/jpeg")
        XCTAssertEqual(jpeg.status, 200, jpeg.text)
        XCTAssertEqual(ImageHeader.read(jpeg.body)?.width, 32)

        let form = TestHTTP.multipart(fields: [("model", "tiny-lsragan"), ("format", "json")],
                                      file: ("image", "sketch.png", "image/png", png))
        let m = try post("/api/translate", form, type: "multipart/form-data; boundary=s2r-boundary-1234")
        XCTAssertEqual(m.status, 200, m.text)
        XCTAssertEqual(m.json["model"] as? String, "tiny-lsragan", "a multimodal model translates with z = 0")
        XCTAssertEqual(m.json["width"] as? Int, 37)
        XCTAssertNotNil(m.json["latencyMs"] as? Double)
        let decoded = try XCTUnwrap(Data(base64Encoded: m.json["image"] as? String ?? ""))
        XCTAssertEqual(ImageHeader.read([UInt8](decoded))?.height, 29)
    }

    /// Without a model, translation takes the first one-to-one model, as the CLI's `translate`
    /// takes the SRAGAN, although "tiny-lsragan" sorts first.
    func testTranslateWithoutAModelUsesTheFirstOneToOneModelAndAcceptSelectsJSON() throws {
        _ = try start()
        let r = try post("/api/translate", try sketchBytes(), headers: [("Accept", "application/json")])
        XCTAssertEqual(r.status, 200, r.text)
        XCTAssertEqual(r.json["model"] as? String, "tiny-sragan")
        XCTAssertNotNil(r.json["image"] as? String)
    }

    func testSampleIsReproducibleBySeedAndReturnsTheCodes() throws {
        _ = try start()
        let png = try sketchBytes()
        let a = try post("/api/sample?model=tiny-lsragan&n=3&seed=11&format=json", png)
        XCTAssertEqual(a.status, 200, a.text)
        XCTAssertEqual(a.json["seed"] as? Int, 11)
        let images = try XCTUnwrap(a.json["images"] as? [[String: Any]])
        XCTAssertEqual(images.count, 3)
        let codes = images.map { $0["code"] as? [Double] ?? [] }
        XCTAssertTrue(codes.allSatisfy { $0.count == 8 })
        XCTAssertNotEqual(codes[0], codes[1])
        XCTAssertNotEqual(images[0]["image"] as? String, images[1]["image"] as? String, "different codes give different images")
        let b = try post("/api/sample?model=tiny-lsragan&n=3&seed=11&format=json", png)
        XCTAssertEqual((b.json["images"] as? [[String: Any]])?.map { $0["image"] as? String }, images.map { $0["image"] as? String },
                       "the same seed gives the same images")

        // PNG: the images side by side, 4 px apart, with the seed in a header.
        let sheet = try post("/api/sample?n=3&seed=11", png)
        XCTAssertEqual(sheet.status, 200, sheet.text)
        XCTAssertEqual(sheet.header("x-sketch2real-seed"), "11")
        XCTAssertEqual(ImageHeader.read(sheet.body), ImageHeader(format: .png, width: 3 * 32 + 4 * 4, height: 32 + 2 * 4))
        let single = try post("/api/sample?n=1&seed=11", png)
        XCTAssertEqual(ImageHeader.read(single.body)?.width, 32)
    }

    func testMoreLikeThisStaysNearTheCodeAndInterpolationEndsAtBothCodes() throws {
        _ = try start()
        let png = try sketchBytes()
        let center: [Double] = [0.5, -0.5, 1, 0, 0, 0.25, -1, 2]
        let csv = center.map { String($0) }.joined(separator: ",")
        let near = try post("/api/sample?model=tiny-lsragan&n=4&seed=3&format=json&spread=0.1&code=\(csv)", png)
        XCTAssertEqual(near.status, 200, near.text)
        for image in try XCTUnwrap(near.json["images"] as? [[String: Any]]) {
            let code = try XCTUnwrap(image["code"] as? [Double])
            XCTAssertLessThan(zip(code, center).map { abs($0 - $1) }.max()!, 0.6, "spread 0.1 keeps codes near the centre")
        }
        let zero = Array(repeating: "0", count: 8).joined(separator: ",")
        let line = try post("/api/sample?model=tiny-lsragan&format=json&steps=5&from=\(zero)&to=\(csv)", png)
        XCTAssertEqual(line.status, 200, line.text)
        let steps = try XCTUnwrap(line.json["images"] as? [[String: Any]]).map { $0["code"] as? [Double] ?? [] }
        XCTAssertEqual(steps.count, 5)
        XCTAssertEqual(steps.first, Array(repeating: 0, count: 8))
        for (a, b) in zip(steps.last!, center) { XCTAssertEqual(a, b, accuracy: 1e-6) }
        for (a, b) in zip(steps[2], center) { XCTAssertEqual(a, b / 2, accuracy: 1e-6) }
    }

    func testHealthzMetricsOpenAPIAndThePage() throws {
        _ = try start()
        let health = try get("/healthz")
        XCTAssertEqual(health.status, 200)
        XCTAssertEqual(health.json["status"] as? String, "ok")
        XCTAssertEqual(health.json["models"] as? Int, 2)

        _ = try post("/api/translate", try sketchBytes())
        _ = try post("/api/translate", [1, 2, 3])
        let metrics = try get("/metrics")
        XCTAssertEqual(metrics.status, 200)
        XCTAssertTrue(metrics.header("content-type")?.hasPrefix("text/plain; version=0.0.4") == true)
        for line in ["sketch2real_http_requests_total{route=\"/api/translate\",method=\"POST\",status=\"200\"} 1",
                     "sketch2real_http_requests_total{route=\"/api/translate\",method=\"POST\",status=\"422\"} 1",
                     "sketch2real_http_request_duration_seconds_bucket{route=\"/api/translate\",le=\"+Inf\"} 2",
                     "sketch2real_http_request_duration_seconds_count{route=\"/api/translate\"} 2",
                     "sketch2real_inference_duration_seconds_count{route=\"/api/translate\"} 1",
                     "# TYPE sketch2real_http_request_duration_seconds histogram",
                     // Gauges are floating-point in swift-prometheus' text; counters integers.
                     "sketch2real_queue_depth 0.0", "sketch2real_queue_capacity 16.0", "sketch2real_inference_workers 1.0",
                     "sketch2real_queue_rejected_total 0", "sketch2real_models_loaded 2.0"] {
            XCTAssertTrue(metrics.text.contains(line + "\n"), "metrics lack '\(line)':\n\(metrics.text)")
        }

        let spec = try get("/openapi.yaml")
        XCTAssertEqual(spec.status, 200)
        XCTAssertTrue(spec.text.hasPrefix("openapi: 3.0.3\n"))
        for path in ["/api/models:", "/api/translate:", "/api/sample:", "/healthz:", "/metrics:", "/openapi.yaml:"] {
            XCTAssertTrue(spec.text.contains("\n  \(path)\n"), "openapi.yaml documents \(path)")
        }
        for status in [400, 404, 408, 413, 415, 422, 500, 503, 504] {
            XCTAssertTrue(spec.text.contains("\"\(status)\":"), "openapi.yaml documents \(status)")
        }
        try assertValidOpenAPI(spec.text)

        let page = try get("/")
        XCTAssertEqual(page.status, 200)
        XCTAssertEqual(page.header("content-type"), "text/html; charset=utf-8")
        for id in ["canvas", "pen", "eraser", "width", "undo", "redo", "clear", "upload", "model", "generate", "seed", "mix", "results", "latency"] {
            XCTAssertTrue(page.text.contains("id=\"\(id)\""), "the page has #\(id)")
        }
        XCTAssertFalse(page.text.contains("http://") || page.text.contains("https://") || page.text.contains("src=\"//"),
                       "the page loads nothing from elsewhere")
    }

    /// Parses the document with PyYAML and validates it with openapi-spec-validator when Python
    /// has them (they are not project dependencies); otherwise checks the structure by hand.
    func assertValidOpenAPI(_ text: String) throws {
        let folder = makeTemporaryFolder(self)
        try text.write(toFile: folder + "/openapi.yaml", atomically: true, encoding: .utf8)
        let script = """
        import sys, yaml
        d = yaml.safe_load(open(sys.argv[1]))
        assert d["openapi"].startswith("3.0"), d["openapi"]
        def walk(o):
            if isinstance(o, dict):
                for k, v in o.items():
                    if k == "$ref":
                        x = d
                        for p in v[2:].split("/"): x = x[p]
                    else: walk(v)
            elif isinstance(o, list):
                for v in o: walk(v)
        walk(d)
        try:
            from openapi_spec_validator import validate
        except InteropError:
            print("parsed; references resolve"); sys.exit(0)
        validate(d); print("valid")
        """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script, folder + "/openapi.yaml"]
        let out = Pipe()
        process.standardOutput = out
        process.standardError = out
        try process.run()
        let output = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        if output.contains("No module named 'yaml'") {
            print("PyYAML is missing: openapi.yaml checked for its paths only")
            return
        }
        XCTAssertEqual(process.terminationStatus, 0, "openapi.yaml: \(output)")
    }

    // MARK: Errors

    func testWrongContentTypesAre415() throws {
        _ = try start()
        assertError(try post("/api/translate", try sketchBytes(), type: "text/plain"), 415, contains: "Content-Type 'text/plain' is not accepted")
        assertError(try post("/api/sample", try sketchBytes(), type: nil), 415, contains: "has no Content-Type")
        let form = TestHTTP.multipart(fields: [], file: ("image", "notes.txt", "text/plain", Array("hello".utf8)))
        assertError(try post("/api/translate", form, type: "multipart/form-data; boundary=s2r-boundary-1234"), 415, contains: "'text/plain'")
    }

    func testMalformedImagesAndBadFormsAreRejectedCleanly() throws {
        _ = try start()
        assertError(try post("/api/translate", Array("not an image at all".utf8)), 422, contains: "not a PNG or JPEG")
        assertError(try post("/api/translate", []), 422, contains: "empty")
        // A PNG header promising 32×32 pixels followed by garbage: found by the decoder, not a crash.
        var broken = Array(try sketchBytes().prefix(40))
        broken += Array(repeating: 0x55, count: 200)
        assertError(try post("/api/translate", broken), 422, contains: "could not be decoded")
        var truncatedJPEG = try sketchBytes(format: "jpg")
        truncatedJPEG = Array(truncatedJPEG.prefix(truncatedJPEG.count / 3))
        let r = try post("/api/translate", truncatedJPEG, type: "image/jpeg")
        XCTAssertTrue([200, 422].contains(r.status), "a truncated JPEG decodes partly or is refused: \(r.status) \(r.text)")
        assertError(try post("/api/translate", Array("--x\r\nbroken".utf8), type: "multipart/form-data; boundary=x"), 400, contains: "could not be parsed")
        let noFile = TestHTTP.multipart(fields: [("model", "tiny-sragan")], file: nil)
        assertError(try post("/api/translate", noFile, type: "multipart/form-data; boundary=s2r-boundary-1234"), 400, contains: "no file field named 'image'")
        assertError(try post("/api/translate", [0x89], type: "multipart/form-data"), 400, contains: "could not be parsed")
        // 50,000 empty parts (2.3 MB, under the upload cap): refused at once for their number.
        let empty = Array("--b\r\nContent-Disposition: form-data; name=\"n\"\r\n\r\n\r\n".utf8)
        let many = Array([[UInt8]](repeating: empty, count: 50_000).joined()) + Array("--b--\r\n".utf8)
        let start = Date()
        assertError(try post("/api/translate", many, type: "multipart/form-data; boundary=b"), 400, contains: "more than 32 parts")
        XCTAssertLessThan(Date().timeIntervalSince(start), 5, "the parser's cost must stay linear in the body")
        // The server still works.
        XCTAssertEqual(try post("/api/translate", try sketchBytes()).status, 200)
    }

    func testOversizedBodiesAre413AndOversizedImages422() throws {
        _ = try start { $0.maxBodyBytes = 4096; $0.maxImageSide = 64 }
        let big = [UInt8](repeating: 7, count: 10_000)
        assertError(try post("/api/translate", big), 413, contains: "above the limit of 4096 bytes")
        let wide = try sketchBytes(width: 65, height: 8)
        assertError(try post("/api/translate", wide), 422, contains: "65×8 pixels; the limit is 64 pixels on each side")
        // A forged header claiming a huge picture is refused before any decoding.
        var forged = try sketchBytes()
        forged.replaceSubrange(16 ..< 24, with: [0, 1, 0, 0, 0, 1, 0, 0])
        assertError(try post("/api/translate", forged), 422, contains: "65536×65536 pixels")
        // Without Content-Length (chunked), the limit holds while reading.
        let chunked = try TestHTTP.request(port: port, method: "POST", path: "/api/translate",
                                           headers: [("Content-Type", "image/png"), ("Transfer-Encoding", "chunked")],
                                           body: Array("2710\r\n".utf8) + big + Array("\r\n0\r\n\r\n".utf8), sendContentLength: false)
        assertError(chunked, 413, contains: "larger than the limit of 4096 bytes")
        XCTAssertEqual(try post("/api/translate", try sketchBytes()).status, 200)
    }

    func testBadParametersAre400AndUnknownModels404() throws {
        _ = try start()
        let png = try sketchBytes()
        assertError(try post("/api/translate?model=nope", png), 404, contains: "no model named 'nope'")
        assertError(try post("/api/sample?model=tiny-sragan", png), 400, contains: "maps each sketch to one image")
        assertError(try post("/api/sample?n=0", png), 400, contains: "n must be a whole number from 1 to 16")
        assertError(try post("/api/sample?n=17", png), 400, contains: "n must be a whole number from 1 to 16")
        assertError(try post("/api/sample?seed=-1", png), 400, contains: "seed must be")
        assertError(try post("/api/sample?code=1,2,3", png), 400, contains: "code must be 8 comma-separated numbers")
        assertError(try post("/api/sample?code=1,2,3,4,5,6,7,nan", png), 400, contains: "code must be 8")
        assertError(try post("/api/sample?code=1000,0,0,0,0,0,0,0", png), 400,
                    contains: "code must be 8 comma-separated numbers from -100 to 100 (a latent code of this model), got '1000,0,0,0,0,0,0,0'.")
        for spread in ["-1", "nan", "inf"] {
            assertError(try post("/api/sample?spread=\(spread)&code=0,0,0,0,0,0,0,0", png), 400, contains: "spread must be a number from 0.0 to 4.0, got '\(spread)'")
        }
        assertError(try post("/api/sample?from=0,0,0,0,0,0,0,0", png), 400, contains: "needs both 'from' and 'to'")
        assertError(try post("/api/sample?spread=9&code=0,0,0,0,0,0,0,0", png), 400, contains: "spread must be a number from 0.0 to 4.0")
        assertError(try post("/api/translate?format=gif", png), 400, contains: "format must be png or json")
        assertError(try get("/api/nothing"), 404, contains: "There is nothing at GET /api/nothing")
        assertError(try get("/api/translate"), 404, contains: "nothing at GET /api/translate")
    }

    func testAServerWithoutModelsSaysHowToGetSome() throws {
        models = makeTemporaryFolder(self)
        _ = try start()
        XCTAssertEqual((try get("/api/models").json["models"] as? [Any])?.count, 0)
        assertError(try post("/api/translate", try sketchBytes()), 404, contains: "has no models; start it with --models")
    }

    func testABusyServerAnswers503WithRetryAfterAndTimesOutWith504() throws {
        let server = try start {
            $0.workers = 1
            $0.queueCapacity = 1
            $0.workerDelayForTesting = 1.0
        }
        let png = try sketchBytes()
        let port = self.port
        // One job runs and one waits; the third request finds the queue full.
        nonisolated(unsafe) var responses = [TestResponse?](repeating: nil, count: 2)
        let group = DispatchGroup()
        let lock = NSLock()
        for i in 0 ..< 2 {
            DispatchQueue.global().async(group: group) {
                let r = try? TestHTTP.request(port: port, method: "POST", path: "/api/translate", headers: [("Content-Type", "image/png")], body: png)
                lock.withLock { responses[i] = r }
            }
            // Let the first job start before the second is queued.
            let deadline = Date().addingTimeInterval(5)
            while server.queue.inProgress + server.queue.depth < i + 1 && Date() < deadline { usleep(10_000) }
        }
        let busy = try post("/api/translate", png)
        assertError(busy, 503, contains: "The server is busy")
        XCTAssertNotNil(busy.header("retry-after").flatMap(Int.init), "503 carries Retry-After in seconds")
        group.wait()
        XCTAssertEqual(responses.map { $0?.status }, [200, 200], "the running and the queued request both finish")
        XCTAssertTrue(try get("/metrics").text.contains("sketch2real_queue_rejected_total 1\n"))
    }

    func testInferenceLongerThanTheTimeoutIs504() throws {
        _ = try start {
            $0.inferenceTimeout = 0.3
            $0.workerDelayForTesting = 1.0
        }
        assertError(try post("/api/translate", try sketchBytes()), 504, contains: "longer than the server's limit of 0.3 s")
        XCTAssertTrue(try get("/metrics").text.contains("sketch2real_request_timeouts_total 1\n"))
    }

    /// A request that times out while still queued is told the server was busy, not that its
    /// sketch was too large.
    func testATimeoutInTheQueueSaysTheServerWasBusy() throws {
        let server = try start {
            $0.workers = 1
            $0.inferenceTimeout = 0.6
        }
        // A job that holds the worker for 1.5 s without a deadline of its own (a request's job
        // would be cancelled at its deadline and free the worker in time).
        let holding = Task { try await server.queue.submit { _ in Thread.sleep(forTimeInterval: 1.5) } }
        waitUntil(server.queue.inProgress == 1)
        assertError(try post("/api/translate", try sketchBytes()), 504, contains: "waited the server's limit of 0.6 s behind other work without starting")
        _ = try blocking { try await holding.value }
    }


    func testASlowBodyIs408() throws {
        _ = try start { $0.bodyTimeout = 0.3 }
        // Promise 1000 bytes, send 10, then wait.
        let fd = try TestHTTP.connect(port: port, timeout: 10)
        defer { close(fd) }
        let head = "POST /api/translate HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: image/png\r\nContent-Length: 1000\r\n\r\n"
        try TestHTTP.send(fd, Array(head.utf8) + Array(repeating: 1, count: 10))
        let r = try TestHTTP.parse(TestHTTP.readAll(fd))
        assertError(r, 408, contains: "did not arrive within 0.3 s")
    }

    func testAPortInUseIsReportedByStart() throws {
        _ = try start()
        let taken = port
        XCTAssertThrowsError(try startStudio(self, models: models) { $0.port = taken }) {
            XCTAssertTrue("\($0)".contains("in use"), "\($0)")
        }
    }

    func testGracefulShutdownFinishesRequestsInFlight() throws {
        models = makeTemporaryFolder(self)
        try writeTinyModels(to: models)
        var configuration = StudioConfiguration()
        configuration.port = 0
        configuration.workers = 1
        configuration.workerDelayForTesting = 1.0
        var logger = Logger(label: "studio-test")
        logger.logLevel = .warning
        let server = try StudioServer(configuration: configuration, modelsFolder: models, logger: logger)
        let running = try blocking { try await server.start() }
        let png = try sketchBytes()
        nonisolated(unsafe) var inFlight: TestResponse?
        let done = DispatchSemaphore(value: 0)
        DispatchQueue.global().async {
            inFlight = try? TestHTTP.request(port: running.port, method: "POST", path: "/api/translate", headers: [("Content-Type", "image/png")], body: png)
            done.signal()
        }
        let deadline = Date().addingTimeInterval(5)
        while server.queue.inProgress == 0 && Date() < deadline { usleep(10_000) }
        XCTAssertEqual(server.queue.inProgress, 1)
        let started = Date()
        try blocking { try await running.shutdown() }
        XCTAssertGreaterThan(Date().timeIntervalSince(started), 0.3, "shutdown waited for the request")
        done.wait()
        XCTAssertEqual(inFlight?.status, 200, "the request in flight was answered")
        XCTAssertThrowsError(try TestHTTP.request(port: running.port, path: "/healthz", timeout: 2), "no longer listening")
    }
}
