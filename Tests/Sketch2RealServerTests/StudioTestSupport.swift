import Foundation
import Sketch2Real
import Torch
import Logging
import XCTest
@testable import Sketch2RealServer
#if canImport(Glibc)
import Glibc
#endif

/// A fresh temporary folder, removed when the test ends.
func makeTemporaryFolder(_ test: XCTestCase) -> String {
    let path = NSTemporaryDirectory() + "s2r-studio-test-" + UUID().uuidString
    try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    test.addTeardownBlock { try? FileManager.default.removeItem(atPath: path) }
    return path
}

/// Two untrained, narrow models in `folder`: `tiny-sragan` (one-to-one) and `tiny-lsragan`
/// (multimodal with an encoder), both "trained" at 32 px. Fast enough for hundreds of requests.
func writeTinyModels(to folder: String) throws {
    Torch.manualSeed(7)
    var one = TrainingConfig.defaults(for: .sragan, size: 32)
    one.sragan.ngf = 4
    one.sragan.blocks = 1
    one.syncChannels()
    try GeneratorFile.export(try GeneratorFile.make(one), config: one, to: folder + "/tiny-sragan.safetensors")
    var many = TrainingConfig.defaults(for: .lsragan, size: 32)
    many.sragan.ngf = 4
    many.sragan.blocks = 1
    many.encoder.nef = 4
    many.encoder.blocks = 3
    many.syncChannels()
    try GeneratorFile.export(try GeneratorFile.makeLatent(many), encoder: try GeneratorFile.makeEncoder(many), config: many,
                             to: folder + "/tiny-lsragan.safetensors")
}

/// A sketch-like test picture: dark strokes on white, as PNG or JPEG bytes.
func sketchBytes(width: Int = 32, height: Int = 32, format: String = "png") throws -> [UInt8] {
    var values = [Float](repeating: 1, count: width * height)
    for y in 0 ..< height {
        for x in 0 ..< width where x == width / 2 || y == height / 3 || x == y {
            values[y * width + x] = 0
        }
    }
    return try Image(pixels: Tensor(values, shape: [height, width, 1])).encoded(fileExtension: format)
}

/// Starts a studio on a free loopback port from a synchronous test (never blocking Swift's
/// cooperative threads, which the server needs), and stops it when the test ends.
func startStudio(_ test: XCTestCase, models folder: String, configure: (inout StudioConfiguration) -> Void = { _ in }) throws -> (server: StudioServer, running: RunningStudio) {
    var configuration = StudioConfiguration()
    configuration.port = 0
    configuration.workers = 1
    configure(&configuration)
    var logger = Logger(label: "studio-test")
    logger.logLevel = .warning
    let server = try StudioServer(configuration: configuration, modelsFolder: folder, logger: logger)
    let running = try blocking { try await server.start() }
    test.addTeardownBlock { _ = try? blocking { try await running.shutdown() } }
    return (server, running)
}

/// Runs async work to completion from a synchronous context.
func blocking<T: Sendable>(_ work: @escaping @Sendable () async throws -> T) throws -> T {
    let done = DispatchSemaphore(value: 0)
    nonisolated(unsafe) var result: Result<T, any Error>!
    Task {
        do { result = .success(try await work()) } catch { result = .failure(error) }
        done.signal()
    }
    done.wait()
    return try result.get()
}

/// A test case with one studio on a loopback port (tiny models in a temporary folder) and
/// helpers to talk to it.
class StudioTestCase: XCTestCase {
    var models = ""
    var port = 0

    override func setUpWithError() throws {
        models = makeTemporaryFolder(self)
        try writeTinyModels(to: models)
    }

    func start(_ configure: (inout StudioConfiguration) -> Void = { _ in }) throws -> StudioServer {
        let (server, running) = try startStudio(self, models: models, configure: configure)
        port = running.port
        return server
    }

    func get(_ path: String, headers: [(String, String)] = []) throws -> TestResponse {
        try TestHTTP.request(port: port, path: path, headers: headers)
    }

    func post(_ path: String, _ body: [UInt8], type: String? = "image/png", headers: [(String, String)] = []) throws -> TestResponse {
        try TestHTTP.request(port: port, method: "POST", path: path, headers: (type.map { [("Content-Type", $0)] } ?? []) + headers, body: body)
    }

    /// A POST sent from another thread; `wait()` gives its answer (nil if the connection failed).
    func postInBackground(_ path: String, _ body: [UInt8], type: String = "image/png") -> BackgroundRequest {
        let request = BackgroundRequest()
        let port = self.port
        DispatchQueue.global().async {
            request.finish(try? TestHTTP.request(port: port, method: "POST", path: path, headers: [("Content-Type", type)], body: body))
        }
        return request
    }

    /// A translation posted in the background, once the server's worker has started it.
    func occupyTheWorker(_ server: StudioServer) throws -> BackgroundRequest {
        let running = postInBackground("/api/translate", try sketchBytes())
        waitUntil(server.queue.inProgress == 1)
        return running
    }

    func waitUntil(_ condition: @autoclosure () -> Bool, within seconds: Double = 5, file: StaticString = #filePath, line: UInt = #line) {
        let deadline = Date().addingTimeInterval(seconds)
        while !condition() && Date() < deadline { usleep(5_000) }
        XCTAssertTrue(condition(), "condition not reached within \(seconds) s", file: file, line: line)
    }

    func assertError(_ r: TestResponse, _ status: Int, contains text: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(r.status, status, r.text, file: file, line: line)
        XCTAssertEqual(r.header("content-type"), "application/json; charset=utf-8", file: file, line: line)
        XCTAssertEqual((r.json["error"] as? [String: Any])?["status"] as? Int, status, r.text, file: file, line: line)
        XCTAssertTrue(r.errorMessage.contains(text), "'\(r.errorMessage)' should contain '\(text)'", file: file, line: line)
    }
}

/// The answer to a request running on another thread.
final class BackgroundRequest: @unchecked Sendable {
    private let done = DispatchSemaphore(value: 0)
    private var response: TestResponse?

    func finish(_ r: TestResponse?) {
        response = r
        done.signal()
    }

    func wait() -> TestResponse? {
        done.wait()
        done.signal()
        return response
    }
}

/// One HTTP response as a test sees it.
struct TestResponse {
    let status: Int
    let headers: [String: String]
    let body: [UInt8]

    var text: String { String(decoding: body, as: UTF8.self) }
    var json: [String: Any] { (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any] ?? [:] }
    /// The message of a JSON error body.
    var errorMessage: String { ((json["error"] as? [String: Any])?["message"] as? String) ?? "" }
    func header(_ name: String) -> String? { headers[name.lowercased()] }
}

/// A minimal blocking HTTP/1.1 client over a loopback socket (`Connection: close`), so tests
/// control exactly what goes on the wire: partial bodies, wrong lengths, odd content types.
enum TestHTTP {
    static func request(port: Int, method: String = "GET", path: String, headers: [(String, String)] = [],
                        body: [UInt8] = [], sendContentLength: Bool = true, timeout: Double = 60) throws -> TestResponse {
        let fd = try connect(port: port, timeout: timeout)
        defer { close(fd) }
        // Host: the server's loopback address unless the test sends its own.
        var head = "\(method) \(path) HTTP/1.1\r\n"
        if !headers.contains(where: { $0.0.lowercased() == "host" }) { head += "Host: 127.0.0.1:\(port)\r\n" }
        head += "Connection: close\r\n"
        for (k, v) in headers { head += "\(k): \(v)\r\n" }
        if sendContentLength && (method == "POST" || !body.isEmpty) { head += "Content-Length: \(body.count)\r\n" }
        head += "\r\n"
        try send(fd, Array(head.utf8) + body)
        return try parse(readAll(fd))
    }

    static func connect(port: Int, timeout: Double) throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw TestHTTPError("socket() failed") }
        var tv = timeval(tv_sec: Int(timeout), tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let status = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard status == 0 else { close(fd); throw TestHTTPError("connect to 127.0.0.1:\(port) failed (errno \(errno))") }
        return fd
    }

    static func send(_ fd: Int32, _ bytes: [UInt8]) throws {
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            // The server may answer (413) and close before it has read everything.
            if n <= 0 { return }
            sent += n
        }
    }

    static func readAll(_ fd: Int32) throws -> [UInt8] {
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n == 0 { break }
            if n < 0 {
                if errno == EAGAIN || errno == EWOULDBLOCK { throw TestHTTPError("no answer within the timeout") }
                if errno == ECONNRESET, !out.isEmpty { break }
                throw TestHTTPError("recv failed (errno \(errno))")
            }
            out += chunk[0 ..< n]
        }
        return out
    }

    static func parse(_ raw: [UInt8]) throws -> TestResponse {
        guard let split = MultipartForm.find([13, 10, 13, 10], in: raw, from: 0) else { throw TestHTTPError("no complete response head in \(raw.count) bytes") }
        let lines = String(decoding: raw[0 ..< split], as: UTF8.self).components(separatedBy: "\r\n")
        let parts = lines[0].split(separator: " ")
        guard parts.count >= 2, let status = Int(parts[1]) else { throw TestHTTPError("bad status line \(lines[0])") }
        var headers: [String: String] = [:]
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        var body = Array(raw[(split + 4)...])
        if headers["transfer-encoding"]?.lowercased() == "chunked" { body = try dechunk(body) }
        return TestResponse(status: status, headers: headers, body: body)
    }

    static func dechunk(_ data: [UInt8]) throws -> [UInt8] {
        var out: [UInt8] = [], i = 0
        while let lineEnd = MultipartForm.find([13, 10], in: data, from: i) {
            let sizeText = String(decoding: data[i ..< lineEnd], as: UTF8.self).split(separator: ";")[0]
            guard let size = Int(sizeText, radix: 16) else { throw TestHTTPError("bad chunk size") }
            if size == 0 { break }
            out += data[(lineEnd + 2) ..< (lineEnd + 2 + size)]
            i = lineEnd + 2 + size + 2
        }
        return out
    }

    /// A multipart/form-data body with text fields and one file.
    static func multipart(fields: [(String, String)], file: (name: String, filename: String, type: String, bytes: [UInt8])?,
                          boundary: String = "s2r-boundary-1234") -> [UInt8] {
        var body: [UInt8] = []
        for (k, v) in fields {
            body += Array("--\(boundary)\r\nContent-Disposition: form-data; name=\"\(k)\"\r\n\r\n\(v)\r\n".utf8)
        }
        if let file {
            body += Array("--\(boundary)\r\nContent-Disposition: form-data; name=\"\(file.name)\"; filename=\"\(file.filename)\"\r\nContent-Type: \(file.type)\r\n\r\n".utf8)
            body += file.bytes + Array("\r\n".utf8)
        }
        body += Array("--\(boundary)--\r\n".utf8)
        return body
    }
}

struct TestHTTPError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}
