import Foundation
import Torch
import XCTest
@testable import Sketch2Real

final class ImageIOTests: XCTestCase {
    func roundTrip(_ image: Image, ext: String, bitDepth: Int = 8, quality: Int = 95) throws -> Image {
        let bytes = try image.encoded(fileExtension: ext, quality: quality, bitDepth: bitDepth)
        return try Image.decode(Data(bytes), source: "round-trip.\(ext)")
    }

    func testLosslessFormatsRoundTripExactly() throws {
        for channels in [1, 3] {
            let img = gradientImage(width: 37, height: 23, channels: channels)
            // 8-bit formats hold multiples of 1/255 exactly.
            let quantised = Image(pixels: (img.pixels * 255).rounded() / 255)
            for ext in ["png", "bmp", "tif"] {
                let back = try roundTrip(quantised, ext: ext)
                XCTAssertEqual(back.channels, channels, "\(ext) with \(channels) channels")
                XCTAssertEqual(back.pixels.shape, [23, 37, channels])
                XCTAssertLessThan(maxAbsDifference(back.pixels, quantised.pixels), 1e-6, ext)
            }
            let webp = try roundTrip(quantised, ext: "webp", quality: 101)
            XCTAssertEqual(webp.pixels.shape, [23, 37, 3], "WebP stores colour")
            XCTAssertLessThan(maxAbsDifference(webp.pixels, quantised.rgb().pixels), 1e-6, "lossless WebP")
        }
    }

    func testSixteenBitPNGAndTIFFKeepPrecision() throws {
        for channels in [1, 3] {
            let img = gradientImage(width: 300, height: 5, channels: channels)
            for ext in ["png", "tif"] {
                let bytes = try img.encoded(fileExtension: ext, bitDepth: 16)
                let decoded = try bytes.withUnsafeBytes { try ImageOps.decode($0) }
                XCTAssertEqual(decoded.bitDepth, 16, ext)
                let back = try Image.decode(Data(bytes))
                // Finer than 8-bit quantisation could represent.
                XCTAssertLessThan(maxAbsDifference(back.pixels, img.pixels), 1.0 / 65535.0 + 1e-6, ext)
            }
        }
    }

    func testJPEGIsCloseAtHighQuality() throws {
        // Smooth content: JPEG's block transform and chroma subsampling lose little of it.
        var v = [Float]()
        for y in 0 ..< 48 { for x in 0 ..< 64 { v += [Float(x) / 63, Float(y) / 47, 0.5] } }
        let img = Image(pixels: Tensor(v, shape: [48, 64, 3]))
        let back = try roundTrip(img, ext: "jpg", quality: 100)
        XCTAssertEqual(back.channels, 3)
        XCTAssertLessThan((back.pixels - img.pixels).abs().mean().item(), 0.01)
        let grey = try roundTrip(img.grayscale(), ext: "jpg", quality: 100)
        XCTAssertEqual(grey.channels, 1)
    }

    func testAlphaIsCompositedOnWhite() throws {
        // RGBA: red at full, half and zero opacity.
        let rgba = Tensor([255, 0, 0, 255, 255, 0, 0, 128, 255, 0, 0, 0] as [UInt8], shape: [1, 3, 4])
        let bytes = try ImageOps.encode(rgba, fileExtension: ".png")
        let img = try Image.decode(Data(bytes))
        XCTAssertEqual(img.channels, 3)
        let px = img.pixels.toArray(Float.self)
        XCTAssertEqual(Array(px[0 ..< 3]), [1, 0, 0])
        XCTAssertEqual(px[3], 1, accuracy: 1e-6)
        XCTAssertEqual(px[4], 1 - 128 / 255, accuracy: 1e-3)
        XCTAssertEqual(Array(px[6 ..< 9]), [1, 1, 1], "fully transparent becomes white")
    }

    func testTensorConversionIsMinusOneToOne() {
        let img = gradientImage(width: 8, height: 4)
        let t = img.tensor()
        XCTAssertEqual(t.shape, [1, 3, 4, 8])
        XCTAssertGreaterThanOrEqual(t.min().item(), -1)
        XCTAssertLessThanOrEqual(t.max().item(), 1)
        XCTAssertLessThan(maxAbsDifference(Image(tensor: t).pixels, img.pixels), 1e-6)
    }

    func testResizeUsesAreaToShrinkAndBicubicToEnlarge() throws {
        // A checkerboard averages to grey when shrunk by area; nearest or bilinear sampling would not.
        var v = [Float]()
        for y in 0 ..< 8 { for x in 0 ..< 8 { v.append(Float((x + y) % 2)) } }
        let board = Image(pixels: Tensor(v, shape: [8, 8, 1]))
        let small = try board.resized(width: 2, height: 2)
        XCTAssertEqual(small.pixels.toArray(Float.self), [0.5, 0.5, 0.5, 0.5])
        let big = try gradientImage(width: 4, height: 4).resized(width: 16, height: 16)
        XCTAssertEqual(big.pixels.shape, [16, 16, 3])
        XCTAssertGreaterThanOrEqual(big.pixels.min().item(), 0, "enlarged values stay in range")
        XCTAssertLessThanOrEqual(big.pixels.max().item(), 1)
    }

    func testResizeToAZeroOrNegativeSizeThrowsInsteadOfTrapping() {
        let image = gradientImage(width: 4, height: 3)
        for (width, height) in [(0, 2), (2, 0), (-1, 2), (2, -5), (0, 0)] {
            XCTAssertThrowsError(try image.resized(width: width, height: height), "\(width)×\(height)") {
                XCTAssertEqual("\($0)", "4×3 image: cannot resize to \(width)×\(height): width and height must be at least 1 pixel")
            }
        }
    }

    func testGridPlacesImagesOnWhite() throws {
        let a = Image.filled(width: 4, height: 4, channels: 1, value: 0)
        let b = Image.filled(width: 4, height: 4, value: 0.5)
        let grid = ImageGrid.make([[a, b], [b]], spacing: 2)
        XCTAssertEqual(grid.pixels.shape, [2 * 4 + 3 * 2, 2 * 4 + 3 * 2, 3])
        let px = grid.pixels
        XCTAssertEqual(px.select(dim: 0, index: 0).min().item(), 1, "border is white")
        XCTAssertEqual(px.select(dim: 0, index: 3).select(dim: 0, index: 3).toArray(Float.self), [0, 0, 0])
        let folder = makeTemporaryFolder(self)
        try grid.save(path: folder + "/grid.png")
        XCTAssertEqual(try Image.load(path: folder + "/grid.png").pixels.shape, grid.pixels.shape)
    }

    // MARK: Bad input

    func testBadFilesGiveClearErrorsNamingTheFile() throws {
        let folder = makeTemporaryFolder(self)
        let empty = folder + "/empty.png"
        _ = FileManager.default.createFile(atPath: empty, contents: Data())
        XCTAssertThrowsError(try Image.load(path: empty)) {
            XCTAssertEqual("\($0)", "\(empty): empty file (0 bytes)")
        }
        let good = try gradientImage(width: 64, height: 64).encoded(fileExtension: "png")
        let truncated = folder + "/truncated.png"
        _ = FileManager.default.createFile(atPath: truncated, contents: Data(good.prefix(good.count / 3)))
        XCTAssertThrowsError(try Image.load(path: truncated)) {
            XCTAssertEqual("\($0)", "\(truncated): truncated PNG file (no IEND chunk at its end); the file was cut short — copy or export it again")
        }
        // A JPEG cut short still decodes (the rest comes out grey), so it is refused by its missing end marker.
        let jpeg = try gradientImage(width: 64, height: 64).encoded(fileExtension: "jpg")
        let cut = folder + "/cut.jpg"
        _ = FileManager.default.createFile(atPath: cut, contents: Data(jpeg.prefix(jpeg.count * 2 / 3)))
        XCTAssertThrowsError(try Image.load(path: cut)) {
            XCTAssertEqual("\($0)", "\(cut): truncated JPEG file (no end-of-image marker); the file was cut short — copy or export it again")
        }
        XCTAssertNoThrow(try Image.decode(Data(jpeg + [0, 0, 0]), source: "padded.jpg"), "padding after the end marker is fine")
        let text = folder + "/notes.jpg"
        _ = FileManager.default.createFile(atPath: text, contents: Data("hello, not a picture".utf8))
        XCTAssertThrowsError(try Image.load(path: text)) {
            XCTAssertEqual("\($0)", "\(text): not a readable image (unknown format, truncated or corrupt)")
        }
        XCTAssertThrowsError(try Image.load(path: folder + "/missing.png")) {
            XCTAssertEqual("\($0)", "\(folder)/missing.png: no such file")
        }
        XCTAssertThrowsError(try Image.load(path: folder)) {
            XCTAssertEqual("\($0)", "\(folder): is a folder, not an image")
        }
    }

    func testUnreadablePermissionIsReported() throws {
        let folder = makeTemporaryFolder(self)
        let path = folder + "/locked.png"
        try gradientImage(width: 4, height: 4).save(path: path)
        chmod(path, 0)
        defer { chmod(path, 0o644) }
        // root reads anything; the check only applies to ordinary users.
        if getuid() == 0 {
            XCTAssertNoThrow(try Image.load(path: path))
        } else {
            XCTAssertThrowsError(try Image.load(path: path)) { XCTAssertEqual("\($0)", "\(path): permission denied") }
        }
    }

    func testOversizedImageIsRefused() throws {
        let bytes = try gradientImage(width: 40, height: 30).encoded(fileExtension: "png")
        XCTAssertThrowsError(try Image.decode(Data(bytes), source: "big.png", maxPixels: 1000)) {
            XCTAssertEqual("\($0)", "big.png: 40×30 pixels exceeds the limit of 1000 pixels; resize it first")
        }
    }

    func testNonASCIINamesAndAtomicSave() throws {
        let folder = makeTemporaryFolder(self)
        let path = folder + "/pâté — 風景.png"
        try gradientImage(width: 8, height: 8).save(path: path)
        XCTAssertEqual(try Image.load(path: path).width, 8)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasPrefix(".") }
        XCTAssertEqual(leftovers, [], "no temporary files remain")
        XCTAssertThrowsError(try gradientImage(width: 8, height: 8).save(path: folder + "/x.gif")) {
            XCTAssertEqual("\($0)", "\(folder)/x.gif: cannot write this format (use png or jpg)")
        }
    }
}
