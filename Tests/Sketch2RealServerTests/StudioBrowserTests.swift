import Foundation
import XCTest
@testable import Sketch2RealServer

/// The studio page in a real browser: headless Chromium draws strokes on the canvas with the
/// mouse, uses undo and redo, clicks Generate with a one-to-one and a multimodal model, and waits
/// for the result images; then it asks for "more like this", interpolates between two
/// variations, and uses the eraser, Clear and the upload of a sketch file. Saves screenshots.
///
/// Chromium is required (scripts/bootstrap installs Debian's `chromium`): without it this test
/// fails rather than skips. Screenshots go to `.build/studio-screenshot.png` (multimodal) and
/// `.build/studio-screenshot-translate.png` (one-to-one); with `SKETCH2REAL_STUDIO_MODELS=DIR` the
/// test serves those models instead of tiny untrained ones, and with
/// `SKETCH2REAL_STUDIO_SCREENSHOTS=FOLDER` also copies the screenshots there as `studio.png` and
/// `studio-translate.png` (docs/STUDIO.md's pictures are made that way).
final class StudioBrowserTests: XCTestCase {
    static let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    func testDrawGenerateAndExploreVariationsInHeadlessChromium() throws {
        guard let executable = HeadlessChromium.executable() else {
            XCTFail("chromium is not installed: run scripts/bootstrap (it installs Debian's chromium) or set CHROMIUM=/path/to/chromium")
            return
        }
        let environment = ProcessInfo.processInfo.environment
        var models = environment["SKETCH2REAL_STUDIO_MODELS"] ?? ""
        if models.isEmpty {
            models = makeTemporaryFolder(self)
            try writeTinyModels(to: models)
        }
        let (_, running) = try startStudio(self, models: models)
        let log = NSTemporaryDirectory() + "s2r-chromium-\(UUID().uuidString).log"
        let browser = try HeadlessChromium(executable: executable, log: log)
        defer {
            browser.close()
            try? FileManager.default.removeItem(atPath: log)
        }
        do {
            try drive(browser, url: running.url + "/")
        } catch {
            let failureShot = Self.repositoryRoot.appendingPathComponent(".build/studio-failure.png").path
            try? browser.screenshot(to: failureShot)
            let status = (try? browser.evaluate("document.querySelector('#status').textContent + ' | ' + document.querySelector('#log').textContent")) as? String ?? ""
            print("page status: \(status); screenshot of the failure: \(failureShot)")
            let chromiumLog = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            XCTFail("\(error)\nchromium's log (last lines):\n\(chromiumLog.split(separator: "\n").suffix(15).joined(separator: "\n"))")
        }
    }

    func drive(_ browser: HeadlessChromium, url: String) throws {
        try browser.open(url, width: 1360, height: 860)
        try browser.waitFor("document.readyState === 'complete' && document.querySelectorAll('#model option').length", what: "the page and its model list")

        func choose(multimodal: Bool) throws -> String {
            try browser.evaluate("(() => { const m = models.find((m) => m.multimodal === \(multimodal)); if (m) { document.querySelector('#model').value = m.name; document.querySelector('#model').dispatchEvent(new Event('change')); } return m ? m.name : ''; })()") as? String ?? ""
        }

        // Draw a landscape with the mouse: horizon, mountain, sun, a tree.
        let canvas = try browser.frame(of: "#canvas")
        func at(_ u: Double, _ v: Double) -> (Double, Double) { (canvas.x + u * canvas.width, canvas.y + v * canvas.height) }
        let darkPixels = "(() => { const d = ctx.getImageData(0, 0, canvas.width, canvas.height).data; let n = 0; for (let i = 0; i < d.length; i += 4) if (d[i] < 128) n++; return n; })()"
        XCTAssertEqual(try browser.evaluate(darkPixels) as? Int, 0, "the canvas starts white")
        try browser.stroke(stride(from: 0.02, through: 0.98, by: 0.04).map { at($0, 0.62 + 0.03 * sin($0 * 9)) })
        try browser.stroke([at(0.1, 0.62), at(0.25, 0.3), at(0.35, 0.42), at(0.48, 0.22), at(0.65, 0.6)])
        try browser.stroke((0 ... 24).map { i in let a = Double(i) / 24 * 2 * Double.pi; return at(0.8 + 0.07 * cos(a), 0.18 + 0.07 * sin(a)) })
        try browser.stroke((0 ... 12).map { i in let a = Double(i) / 12 * Double.pi; return at(0.42 + 0.06 * cos(a), 0.14 - 0.04 * sin(a)) })
        try browser.stroke((0 ... 12).map { i in let a = Double(i) / 12 * Double.pi; return at(0.53 + 0.06 * cos(a), 0.14 - 0.05 * sin(a)) })
        try browser.stroke([at(0.36, 0.14), at(0.59, 0.14)])
        let beforeTree = try XCTUnwrap(browser.evaluate(darkPixels) as? Int)
        XCTAssertGreaterThan(beforeTree, 1000, "the strokes reached the canvas")
        try browser.stroke([at(0.15, 0.9), at(0.15, 0.72), at(0.1, 0.8), at(0.15, 0.72), at(0.2, 0.8)])
        let withTree = try XCTUnwrap(browser.evaluate(darkPixels) as? Int)
        XCTAssertGreaterThan(withTree, beforeTree)
        try browser.click("#undo")
        XCTAssertEqual(try browser.evaluate(darkPixels) as? Int, beforeTree, "undo removes the last stroke")
        try browser.click("#redo")
        XCTAssertEqual(try browser.evaluate(darkPixels) as? Int, withTree, "redo brings it back")

        let loaded = "(() => { const imgs = [...document.querySelectorAll('#results img.result')]; return imgs.length > 0 && imgs.every((i) => i.complete && i.naturalWidth > 0) ? imgs.length : 0; })()"
        let shots = Self.repositoryRoot.appendingPathComponent(".build").path

        // A one-to-one model: Generate gives one image.
        XCTAssertFalse(try choose(multimodal: false).isEmpty, "a one-to-one model is listed")
        try browser.click("#generate")
        XCTAssertEqual(try browser.waitFor(loaded, what: "the translated image") as? Int, 1)
        try browser.screenshot(to: shots + "/studio-screenshot-translate.png")

        // A multimodal model: variations appear as loaded images, with the latency shown.
        XCTAssertFalse(try choose(multimodal: true).isEmpty, "a multimodal model is listed")
        _ = try browser.evaluate("document.querySelector('#seed').value = '7'")
        try browser.click("#generate")
        try browser.waitFor("document.querySelector('#status').textContent.startsWith('sample') && document.querySelector('#status').textContent.endsWith('done')", what: "the sampling request")
        let count = try browser.waitFor(loaded, what: "the generated images")
        XCTAssertEqual(count as? Int, 4, "four variations by default")
        XCTAssertTrue((try browser.evaluate("document.querySelector('#latency').textContent") as? String ?? "").contains(" ms"), "the latency is shown")
        XCTAssertEqual(try browser.evaluate("document.querySelector('#seed').value") as? String, "7")
        XCTAssertTrue(try browser.evaluate("document.querySelector('#results a.download').download") as? String ?? "" != "", "results can be downloaded")

        // More like this: new images around the first one's code.
        let firstImage = "document.querySelector('#results img.result').src"
        let before = try browser.evaluate(firstImage) as? String
        try browser.click("#results .card .more")
        try browser.waitFor("(() => { const i = document.querySelector('#results img.result'); return i && i.src !== \(try jsString(before ?? "")) && i.complete && i.naturalWidth > 0; })()", what: "more like this")

        // Interpolate between the first two variations with the slider.
        try browser.click("#results .card:nth-child(1) .pick-a")
        try browser.click("#results .card:nth-child(2) .pick-b")
        try browser.waitFor("(() => { const i = document.querySelector('#interp-image'); return !document.querySelector('#interp').classList.contains('hidden') && i.complete && i.naturalWidth > 0; })()", what: "the interpolation")
        _ = try browser.evaluate("(() => { const s = document.querySelector('#mix'); s.value = 4; s.dispatchEvent(new Event('input')); })()")
        XCTAssertTrue((try browser.evaluate("document.querySelector('#interp-download').download") as? String ?? "").hasSuffix("-4.png"))
        let status = try browser.evaluate("document.querySelector('#status').textContent") as? String ?? ""
        XCTAssertEqual(try browser.evaluate("document.querySelector('#status').classList.contains('error')") as? Bool, false, status)

        try browser.screenshot(to: shots + "/studio-screenshot.png")
        print("studio screenshots: \(shots)/studio-screenshot.png, \(shots)/studio-screenshot-translate.png")
        if let folder = ProcessInfo.processInfo.environment["SKETCH2REAL_STUDIO_SCREENSHOTS"], !folder.isEmpty {
            for (from, to) in [("studio-screenshot.png", "studio.png"), ("studio-screenshot-translate.png", "studio-translate.png")] {
                try? FileManager.default.removeItem(atPath: folder + "/" + to)
                try FileManager.default.copyItem(atPath: shots + "/" + from, toPath: folder + "/" + to)
            }
            print("studio screenshots copied to \(folder)/studio.png and studio-translate.png")
        }
        XCTAssertGreaterThan((try FileManager.default.attributesOfItem(atPath: shots + "/studio-screenshot.png")[.size] as? Int) ?? 0, 10_000)

        // The eraser takes ink away; Clear leaves the canvas white; an uploaded sketch fills it.
        let inked = try XCTUnwrap(browser.evaluate(darkPixels) as? Int)
        try browser.click("#eraser")
        try browser.stroke(stride(from: 0.02, through: 0.98, by: 0.04).map { at($0, 0.62 + 0.03 * sin($0 * 9)) })
        XCTAssertLessThan(try XCTUnwrap(browser.evaluate(darkPixels) as? Int), inked, "the eraser removed ink")
        try browser.click("#clear")
        XCTAssertEqual(try browser.evaluate(darkPixels) as? Int, 0, "Clear leaves the canvas white")
        let upload = makeTemporaryFolder(self) + "/uploaded-sketch.png"
        try Data(try sketchBytes(width: 48, height: 32)).write(to: URL(fileURLWithPath: upload))
        let document = try browser.send("DOM.getDocument")
        let root = try XCTUnwrap((document["root"] as? [String: Any])?["nodeId"] as? Int)
        let input = try XCTUnwrap(try browser.send("DOM.querySelector", ["nodeId": root, "selector": "#upload"])["nodeId"] as? Int)
        try browser.send("DOM.setFileInputFiles", ["files": [upload], "nodeId": input])
        try browser.waitFor("document.querySelector('#status').textContent.startsWith('loaded uploaded-sketch.png (48×32)')", what: "the uploaded sketch")
        XCTAssertGreaterThan(try XCTUnwrap(browser.evaluate(darkPixels) as? Int), 1000, "the uploaded sketch is on the canvas")
    }

    func jsString(_ s: String) throws -> String {
        String(decoding: try JSONSerialization.data(withJSONObject: [s]), as: UTF8.self).dropFirst().dropLast().description
    }
}
