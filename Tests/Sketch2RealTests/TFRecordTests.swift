import Foundation
import NN
import XCTest
@testable import Sketch2Real

final class TFRecordTests: XCTestCase {
    func testCRCCheckValues() {
        // The standard check value of each polynomial: the CRC of the ASCII digits 1…9.
        var ieee = CRC32(), castagnoli = CRC32(.castagnoli)
        ieee.update(Array("123456789".utf8))
        castagnoli.update(Array("123456789".utf8))
        XCTAssertEqual(ieee.value, 0xCBF4_3926)
        XCTAssertEqual(castagnoli.value, 0xE306_9283)
    }

    func testFramesReadBackAndDamageIsFound() throws {
        let records: [[UInt8]] = [[], Array("event one".utf8), (0 ..< 300).map { UInt8($0 % 256) }]
        let file = records.flatMap(TFRecord.frame)
        XCTAssertEqual(file.count, records.map { $0.count + 16 }.reduce(0, +))
        XCTAssertEqual(try TFRecord.records(file, source: "f"), records)
        // The 8-byte length of an empty record is all zeros; its masked CRC-32C is TensorFlow's.
        XCTAssertEqual(Array(file[0 ..< 8]), [0, 0, 0, 0, 0, 0, 0, 0])
        var damaged = file
        damaged[30] ^= 1 // inside the second record's data (its header is bytes 16 to 27)
        XCTAssertThrowsError(try TFRecord.records(damaged, source: "f")) { XCTAssertEqual("\($0)", "f: a damaged record at byte 16") }
        XCTAssertThrowsError(try TFRecord.records(Array(file.dropLast(2)), source: "f")) {
            XCTAssertEqual("\($0)", "f: a record is cut short at byte 41")
        }
    }
}
