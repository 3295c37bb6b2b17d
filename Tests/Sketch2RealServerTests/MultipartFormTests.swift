import Foundation
import XCTest
@testable import Sketch2RealServer

/// The multipart parser's cost stays linear in the body's size whatever the body holds.
final class MultipartFormTests: XCTestCase {
    func testTooManyPartsAreRefusedAndFarHeadersAreNotSearchedFor() throws {
        let part = Array("--b\r\nContent-Disposition: form-data; name=\"n\"\r\n\r\nv\r\n".utf8)
        let end = Array("--b--\r\n".utf8)
        let allowed = Array([[UInt8]](repeating: part, count: MultipartForm.maximumParts).joined()) + end
        XCTAssertEqual(try MultipartForm.parse(allowed, boundary: "b")?.parts.count, MultipartForm.maximumParts)
        let tooMany = Array([[UInt8]](repeating: part, count: 50_000).joined()) + end
        var start = Date()
        XCTAssertThrowsError(try MultipartForm.parse(tooMany, boundary: "b")) { XCTAssertTrue($0 is MultipartForm.TooManyParts) }
        XCTAssertLessThan(Date().timeIntervalSince(start), 1)
        // Delimiters without a header block's end: each search gives up after 8 KiB, not at the
        // body's end, so 2 MB of them cost what one pass over the body costs.
        let headless = Array([[UInt8]](repeating: Array("--b\r\nX: y\r\n".utf8), count: 200_000).joined())
        start = Date()
        XCTAssertNil(try MultipartForm.parse(headless, boundary: "b"))
        XCTAssertLessThan(Date().timeIntervalSince(start), 2)
    }
}
