import Foundation

/// Headless Chromium driven over the DevTools protocol through `--remote-debugging-pipe`: the
/// browser reads NUL-terminated JSON commands on fd 3 and writes replies and events on fd 4.
/// A shell maps our stdin and stdout pipes onto those descriptors, so Foundation's Process is
/// all it takes (no WebSocket client).
final class HeadlessChromium: @unchecked Sendable {
    struct Failure: Error, CustomStringConvertible {
        let description: String
        init(_ d: String) { description = d }
    }

    let process = Process()
    private let toBrowser = Pipe()
    private let fromBrowser = Pipe()
    private let profile: String
    private let condition = NSCondition()
    private var buffer = Data()
    private var replies: [Int: [String: Any]] = [:]
    private var closed = false
    private var nextID = 1
    /// The page session commands go to (after `open`).
    private(set) var sessionID: String?

    /// The chromium program: $CHROMIUM, else `chromium` or `chromium-browser` on PATH.
    static func executable() -> String? {
        if let explicit = ProcessInfo.processInfo.environment["CHROMIUM"], !explicit.isEmpty { return explicit }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for dir in path.split(separator: ":") {
            for name in ["chromium", "chromium-browser"] {
                let candidate = "\(dir)/\(name)"
                if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            }
        }
        return nil
    }

    init(executable: String, width: Int = 1400, height: Int = 900, log: String) throws {
        profile = NSTemporaryDirectory() + "s2r-chromium-" + UUID().uuidString
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", "exec \"$0\" \"$@\" 3<&0 4>&1 0</dev/null 1>/dev/null", executable,
                             "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                             "--no-first-run", "--no-default-browser-check", "--disable-extensions", "--mute-audio",
                             "--remote-debugging-pipe", "--user-data-dir=\(profile)", "--window-size=\(width),\(height)",
                             "about:blank"]
        process.standardInput = toBrowser
        process.standardOutput = fromBrowser
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        process.standardError = FileHandle(forWritingAtPath: log)
        try process.run()
        let reader = Thread { [self] in readLoop() }
        reader.name = "chromium-devtools-reader"
        reader.start()
    }

    private func readLoop() {
        let handle = fromBrowser.fileHandleForReading
        while true {
            let chunk = handle.availableData
            condition.withLock {
                if chunk.isEmpty { closed = true } else { buffer.append(chunk) }
                while let end = buffer.firstIndex(of: 0) {
                    let message = buffer[buffer.startIndex ..< end]
                    buffer = Data(buffer[(end + 1)...])
                    if let object = try? JSONSerialization.jsonObject(with: message) as? [String: Any], let id = object["id"] as? Int {
                        replies[id] = object
                    }
                }
                condition.broadcast()
            }
            if chunk.isEmpty { return }
        }
    }

    /// Sends a command and waits for its reply; a protocol error is thrown.
    @discardableResult
    func send(_ method: String, _ params: [String: Any] = [:], toPage: Bool = true, timeout: Double = 30) throws -> [String: Any] {
        let id: Int = condition.withLock { defer { nextID += 1 }; return nextID }
        var message: [String: Any] = ["id": id, "method": method, "params": params]
        if toPage, let sessionID { message["sessionId"] = sessionID }
        var data = try JSONSerialization.data(withJSONObject: message)
        data.append(0)
        toBrowser.fileHandleForWriting.write(data)
        let deadline = Date().addingTimeInterval(timeout)
        let reply: [String: Any]? = condition.withLock {
            while replies[id] == nil && !closed && Date() < deadline { _ = condition.wait(until: min(deadline, Date().addingTimeInterval(0.5))) }
            return replies.removeValue(forKey: id)
        }
        guard let reply else { throw Failure(closed ? "chromium exited during \(method)" : "no reply to \(method) within \(timeout) s") }
        if let error = reply["error"] as? [String: Any] { throw Failure("\(method) failed: \(error)") }
        return reply["result"] as? [String: Any] ?? [:]
    }

    /// Opens `url` in a new tab and attaches to it; later commands go to that page.
    func open(_ url: String, width: Int, height: Int) throws {
        let target = try send("Target.createTarget", ["url": "about:blank"], toPage: false)
        guard let targetID = target["targetId"] as? String else { throw Failure("no target id in \(target)") }
        let attached = try send("Target.attachToTarget", ["targetId": targetID, "flatten": true], toPage: false)
        sessionID = attached["sessionId"] as? String
        try send("Page.enable")
        try send("Runtime.enable")
        try send("Emulation.setDeviceMetricsOverride", ["width": width, "height": height, "deviceScaleFactor": 1, "mobile": false])
        try send("Page.navigate", ["url": url])
    }

    /// Evaluates a JavaScript expression in the page (awaiting promises) and returns its value.
    func evaluate(_ expression: String) throws -> Any? {
        let result = try send("Runtime.evaluate", ["expression": expression, "returnByValue": true, "awaitPromise": true])
        if let exception = result["exceptionDetails"] as? [String: Any] {
            throw Failure("JavaScript failed: \((exception["exception"] as? [String: Any])?["description"] ?? exception)")
        }
        return (result["result"] as? [String: Any])?["value"]
    }

    /// Polls `expression` until it is truthy; returns its value.
    @discardableResult
    func waitFor(_ expression: String, timeout: Double = 30, what: String) throws -> Any {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let value = try evaluate(expression), Self.truthy(value) { return value }
            Thread.sleep(forTimeInterval: 0.1)
        }
        throw Failure("timed out after \(timeout) s waiting for \(what)")
    }

    static func truthy(_ value: Any) -> Bool {
        switch value {
        case let b as Bool: return b
        case let n as NSNumber: return n.doubleValue != 0
        case let s as String: return !s.isEmpty
        case is NSNull: return false
        default: return true
        }
    }

    /// The centre of an element in CSS pixels, scrolled into view first.
    func center(of selector: String) throws -> (x: Double, y: Double) {
        let rect = try evaluate("(() => { const e = document.querySelector('\(selector)'); e.scrollIntoView({ block: 'nearest' }); const r = e.getBoundingClientRect(); return [r.x + r.width / 2, r.y + r.height / 2]; })()") as? [Double]
        guard let rect, rect.count == 2 else { throw Failure("\(selector) is not on the page") }
        return (rect[0], rect[1])
    }

    /// The top-left corner and size of an element in CSS pixels.
    func frame(of selector: String) throws -> (x: Double, y: Double, width: Double, height: Double) {
        let r = try evaluate("(() => { const r = document.querySelector('\(selector)').getBoundingClientRect(); return [r.x, r.y, r.width, r.height]; })()") as? [Double]
        guard let r, r.count == 4 else { throw Failure("\(selector) is not on the page") }
        return (r[0], r[1], r[2], r[3])
    }

    func mouse(_ type: String, _ x: Double, _ y: Double, pressed: Bool) throws {
        try send("Input.dispatchMouseEvent", ["type": type, "x": x, "y": y, "button": pressed || type != "mouseMoved" ? "left" : "none",
                                              "buttons": pressed ? 1 : 0, "clickCount": type == "mouseMoved" ? 0 : 1])
    }

    /// A real click: press and release at the element's centre.
    func click(_ selector: String) throws {
        let c = try center(of: selector)
        try mouse("mouseMoved", c.x, c.y, pressed: false)
        try mouse("mousePressed", c.x, c.y, pressed: true)
        try mouse("mouseReleased", c.x, c.y, pressed: false)
    }

    /// Drags the mouse through `points` with the left button held, like a pen stroke.
    func stroke(_ points: [(Double, Double)]) throws {
        guard let first = points.first else { return }
        try mouse("mouseMoved", first.0, first.1, pressed: false)
        try mouse("mousePressed", first.0, first.1, pressed: true)
        for p in points.dropFirst() { try mouse("mouseMoved", p.0, p.1, pressed: true) }
        try mouse("mouseReleased", points.last!.0, points.last!.1, pressed: false)
    }

    func screenshot(to path: String) throws {
        let shot = try send("Page.captureScreenshot", ["format": "png", "captureBeyondViewport": false])
        guard let base64 = shot["data"] as? String, let data = Data(base64Encoded: base64) else { throw Failure("no screenshot data") }
        try data.write(to: URL(fileURLWithPath: path))
    }

    /// Closes the browser (asking first, then terminating), and removes its profile.
    func close() {
        _ = try? send("Browser.close", toPage: false, timeout: 5)
        let deadline = Date().addingTimeInterval(5)
        while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
        try? FileManager.default.removeItem(atPath: profile)
    }
}
