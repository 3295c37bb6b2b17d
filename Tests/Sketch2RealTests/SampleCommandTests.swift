import Foundation
import NN
import Torch
import XCTest
@testable import Sketch2Real

/// `sketch2real train --model lsragan|bicyclegan|msgan`, `export` and `sample` through the
/// program itself.
final class SampleCommandTests: XCTestCase {
    /// A synthetic data set of two scenes × four palettes at 32².
    func data() throws -> String {
        let data = makeTemporaryFolder(self) + "/synth"
        try SyntheticDataset.write(count: 8, modes: 4, size: 32, outputFolder: data, seed: 2, split: .init(train: 1, validation: 0, test: 0))
        return data
    }

    /// Trains a narrow model for two steps through the program; returns the run folder.
    func train(_ model: String, data: String, extra: [String] = []) throws -> String {
        let runs = makeTemporaryFolder(self)
        let r = try runProgram(["train", "--model", model, "--data", data, "--runs", runs, "--name", model, "--size", "32",
                                "--preprocess", "none", "--no-flip", "--input-channels", "1", "--ngf", "4", "--ndf", "4", "--nef", "4",
                                "--blocks", "1", "--encoder-blocks", "3", "--discriminator-layers", "2", "--lambda-perceptual", "0",
                                "--max-steps", "2", "--sample-every", "0", "--workers", "1"] + extra)
        XCTAssertEqual(r.status, 0, r.error + r.output)
        return runs + "/" + model
    }

    func files(_ folder: String) throws -> [String: Data] {
        var out: [String: Data] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: folder) {
            out[name] = try Data(contentsOf: URL(fileURLWithPath: folder + "/" + name))
        }
        return out
    }

    func testSamplingWithASeedAndSyncIsReproducibleByteForByte() throws {
        let data = try data()
        let run = try train("lsragan", data: data)
        let inputs = [data + "/train/000000_m0.png", data + "/train/000001_m2.png"]
        var outputs: [[String: Data]] = []
        for _ in 0 ..< 2 {
            let out = makeTemporaryFolder(self) + "/samples"
            let r = try runProgram(["sample", "--model", run] + inputs + ["--n", "4", "--seed", "42", "--sync", "--aligned",
                                                                           "--interpolate", "5", "--out", out])
            XCTAssertEqual(r.status, 0, r.error + r.output)
            XCTAssertTrue(r.output.contains("diversity (mean pairwise L1 between samples of a sketch"), r.output)
            outputs.append(try files(out))
        }
        XCTAssertEqual(outputs[0], outputs[1], "two runs with the same seed write the same bytes")
        let names = Set(outputs[0].keys)
        for stem in ["000000_m0", "000001_m2"] {
            for suffix in ["input.png", "target.png", "encoded.png", "z00.png", "z03.png", "interp.png", "interp.gif"] {
                XCTAssertTrue(names.contains("\(stem)_\(suffix)"), "\(stem)_\(suffix) missing from \(names.sorted())")
            }
        }
        XCTAssertFalse(names.contains("000000_m0_z04.png"))
        XCTAssertTrue(names.contains("index.html") && names.contains("codes.json"))
        let codes = try JSONSerialization.jsonObject(with: outputs[0]["codes.json"]!) as! [String: Any]
        let perInput = codes["codes"] as! [String: [[Double]]]
        XCTAssertEqual(perInput["000000_m0.png"]!.count, 4)
        XCTAssertEqual(perInput["000000_m0.png"]!, perInput["000001_m2.png"]!, "--sync: every sketch gets the same codes")
        let strip = try Image.decode(outputs[0]["000000_m0_interp.png"]!)
        XCTAssertEqual([strip.width, strip.height], [5 * 32, 32])
        let gif = try GIFDecoder.decode([UInt8](outputs[0]["000000_m0_interp.gif"]!))
        XCTAssertEqual(gif.frames.count, 8, "five images there and three back")
        XCTAssertEqual([gif.width, gif.height], [32, 32])
        let html = String(decoding: outputs[0]["index.html"]!, as: UTF8.self)
        for file in ["000000_m0_input.png", "000000_m0_encoded.png", "000000_m0_target.png", "000001_m2_z03.png", "000001_m2_interp.gif"] {
            XCTAssertTrue(html.contains("src=\"\(file)\""), "index.html shows \(file)")
        }
    }

    func testStyleGivesEveryInputTheCodeOfAPhotoAndAnySizeWorks() throws {
        let data = try data()
        let run = try train("bicyclegan", data: data)
        let model = makeTemporaryFolder(self) + "/bicyclegan.safetensors"
        let e = try runProgram(["export", run, "--out", model])
        XCTAssertEqual(e.status, 0, e.error)
        XCTAssertTrue(e.output.contains("bicyclegan generator and encoder"), e.output)
        let inputs = makeTemporaryFolder(self)
        try gradientImage(width: 37, height: 53, channels: 1).save(path: inputs + "/odd.png")
        let pair = try Image.load(path: data + "/train/000001_m1.png")
        try pair.cropped(x: 32, y: 0, width: 32, height: 32).save(path: inputs + "/../photo.png")
        try pair.cropped(x: 0, y: 0, width: 32, height: 32).save(path: inputs + "/sketch.png")
        let out = makeTemporaryFolder(self) + "/samples"
        let r = try runProgram(["sample", "--model", model, inputs, "--n", "3", "--seed", "1", "--style", inputs + "/../photo.png",
                                "--interpolate", "3", "--sheet", out + "/sheet.png", "--out", out])
        XCTAssertEqual(r.status, 0, r.error + r.output)
        let odd = try Image.load(path: out + "/odd_z02.png")
        XCTAssertEqual([odd.width, odd.height, odd.channels], [37, 53, 3], "samples keep the sketch's size")
        XCTAssertEqual(try Image.load(path: out + "/odd_encoded.png").width, 37)
        XCTAssertTrue(FileManager.default.fileExists(atPath: out + "/style.png"))
        let codes = (try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/codes.json"))) as! [String: Any])
        let perInput = codes["codes"] as! [String: [[Double]]]
        XCTAssertNotEqual(perInput["odd.png"]!, perInput["sketch.png"]!, "without --sync each sketch draws its own codes")
        XCTAssertEqual((codes["style"] as! [Double]).count, 8)
        // One row per sketch: sketch | encoded | 3 samples, in cells of the largest image.
        let sheet = try Image.load(path: out + "/sheet.png")
        XCTAssertEqual(sheet.width, 5 * 37 + 6 * 4)
        XCTAssertEqual(sheet.height, 2 * 53 + 3 * 4)
    }

    func testSampleRefusesOneToOneModelsAndMSGANStylesAndReportsBadFiles() throws {
        let data = try data()
        let msgan = try train("msgan", data: data, extra: ["--discriminator-scales", "1"])
        let checkpoint = try Checkpoint.load(path: RunFolder(path: msgan).latestCheckpoint)
        XCTAssertEqual(Set(checkpoint.networks.keys), ["G", "D"])
        let out = makeTemporaryFolder(self) + "/samples"
        let style = try runProgram(["sample", "--model", msgan, data + "/train", "--style", data + "/train/000000_m0.png", "--out", out])
        XCTAssertNotEqual(style.status, 0)
        XCTAssertTrue(style.error.contains("a msgan model has no encoder: --style needs lsragan or bicyclegan"), style.error)
        let pairs = try runProgram(["sample", "--model", msgan, data + "/train/000000_m0.png", "--aligned", "--n", "2", "--out", out])
        XCTAssertEqual(pairs.status, 0, pairs.error)
        XCTAssertTrue(FileManager.default.fileExists(atPath: out + "/000000_m0_target.png"), "the photo of a pair is shown")
        XCTAssertFalse(FileManager.default.fileExists(atPath: out + "/000000_m0_encoded.png"), "no encoder, no encoded result")
        let inputs = makeTemporaryFolder(self)
        try gradientImage(width: 32, height: 32, channels: 1).save(path: inputs + "/good.png")
        _ = FileManager.default.createFile(atPath: inputs + "/corrupt.png", contents: Data([0x89, 0x50, 0x4E, 0x47, 1, 2, 3]))
        let r = try runProgram(["sample", "--model", msgan, inputs, "--n", "2", "--out", out])
        XCTAssertEqual(r.status, 1, "a failed file makes the exit status 1")
        XCTAssertTrue(r.error.contains("\(inputs)/corrupt.png: not a readable image"), r.error)
        XCTAssertTrue(r.output.contains("for each of 1 of 2 sketches"), r.output)
        XCTAssertTrue(FileManager.default.fileExists(atPath: out + "/good_z01.png"))

        let runs = makeTemporaryFolder(self)
        var p = try runProgram(["train", "--model", "pix2pix", "--generator", "resnet6", "--data", data, "--runs", runs, "--name", "p",
                                "--size", "32", "--preprocess", "none", "--ngf", "4", "--ndf", "4", "--max-steps", "1",
                                "--sample-every", "0", "--workers", "1"])
        XCTAssertEqual(p.status, 0, p.error)
        p = try runProgram(["sample", "--model", runs + "/p", inputs + "/good.png", "--out", out])
        XCTAssertNotEqual(p.status, 0)
        XCTAssertTrue(p.error.contains("a pix2pix model maps each sketch to one image; sampling needs lsragan, bicyclegan or msgan"), p.error)
    }

    func testTrainRefusesAnOddBatchForTheModelsThatSplitIt() throws {
        let data = try data()
        let r = try runProgram(["train", "--model", "bicyclegan", "--data", data, "--runs", makeTemporaryFolder(self), "--name", "b",
                                "--size", "64", "--batch-size", "3"])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.error.contains("bicyclegan needs an even batch size (half of each batch takes the encoded path, half the random path, as in BicycleGAN); got 3."), r.error)
    }

    func testAnimatedGIFDecodesToTheDitheredFrames() throws {
        // Noise makes the LZW table fill up and restart (more than 4096 codes per frame).
        Torch.manualSeed(1)
        let frames = (0 ..< 3).map { _ in Image(pixels: Tensor.rand([150, 200, 3])) } + [gradientImage(width: 200, height: 150)]
        let bytes = try AnimatedGIF.encode(frames, delayCentiseconds: 7)
        let gif = try GIFDecoder.decode(bytes)
        XCTAssertEqual([gif.width, gif.height], [200, 150])
        XCTAssertEqual(gif.frames.count, 4)
        for (frame, decoded) in zip(frames, gif.frames) { XCTAssertEqual(decoded, AnimatedGIF.indices(frame)) }
        XCTAssertEqual(gif.delays, [7, 7, 7, 7])
        XCTAssertTrue(gif.loops)
        // The dithered picture keeps the colours on average.
        let palette = AnimatedGIF.palette
        let indices = AnimatedGIF.indices(frames[3])
        let rebuilt = indices.flatMap { i in (0 ..< 3).map { Float(palette[Int(i) * 3 + $0]) / 255 } }
        let mean = Tensor(rebuilt, shape: [150, 200, 3]).mean().item()
        XCTAssertEqual(mean, frames[3].pixels.mean().item(), accuracy: 0.01)
        XCTAssertThrowsError(try AnimatedGIF.encode([frames[0], gradientImage(width: 10, height: 10)]))
    }
}

/// A minimal GIF reader for the test: frame indices, delays and the loop extension.
enum GIFDecoder {
    struct Result {
        var width = 0, height = 0
        var frames: [[UInt8]] = []
        var delays: [Int] = []
        var loops = false
    }

    static func decode(_ d: [UInt8]) throws -> Result {
        guard d.count > 13, Array(d[0 ..< 6]) == Array("GIF89a".utf8) else { throw TorchError("not a GIF89a file") }
        var r = Result()
        r.width = Int(d[6]) | Int(d[7]) << 8
        r.height = Int(d[8]) | Int(d[9]) << 8
        var p = 13 + (d[10] & 0x80 != 0 ? 3 << (Int(d[10] & 7) + 1) : 0)
        func subBlocks() -> [UInt8] {
            var out: [UInt8] = []
            while d[p] != 0 {
                out += d[(p + 1) ... (p + Int(d[p]))]
                p += Int(d[p]) + 1
            }
            p += 1
            return out
        }
        while p < d.count {
            switch d[p] {
            case 0x3B:
                return r
            case 0x21:
                let label = d[p + 1]
                p += 2
                let body = subBlocks()
                if label == 0xF9 { r.delays.append(Int(body[1]) | Int(body[2]) << 8) }
                if label == 0xFF, String(decoding: body.prefix(11), as: UTF8.self) == "NETSCAPE2.0" { r.loops = true }
            case 0x2C:
                let w = Int(d[p + 5]) | Int(d[p + 6]) << 8, h = Int(d[p + 7]) | Int(d[p + 8]) << 8
                p += 10
                let minimum = Int(d[p])
                p += 1
                let pixels = try lzw(subBlocks(), minimum: minimum)
                guard pixels.count == w * h else { throw TorchError("frame has \(pixels.count) pixels, expected \(w * h)") }
                r.frames.append(pixels)
            default:
                throw TorchError("unexpected block 0x\(String(d[p], radix: 16)) at \(p)")
            }
        }
        throw TorchError("no trailer")
    }

    /// The decoder every viewer implements: entries added one code late, widths grow when the
    /// table reaches the next power of two.
    static func lzw(_ data: [UInt8], minimum: Int) throws -> [UInt8] {
        let clear = 1 << minimum, end = clear + 1
        var table: [[UInt8]] = []
        func reset() { table = (0 ..< clear).map { [UInt8($0)] } + [[], []] }
        reset()
        var width = minimum + 1, bit = 0, previous: [UInt8]?
        var out: [UInt8] = []
        while bit + width <= data.count * 8 {
            var code = 0
            for i in 0 ..< width where data[(bit + i) / 8] & (1 << ((bit + i) % 8)) != 0 { code |= 1 << i }
            bit += width
            if code == clear {
                reset()
                width = minimum + 1
                previous = nil
                continue
            }
            if code == end { return out }
            guard let prev = previous else {
                out += table[code]
                previous = table[code]
                continue
            }
            let entry: [UInt8]
            if code < table.count { entry = table[code] } else if code == table.count { entry = prev + [prev[0]] } else {
                throw TorchError("bad code \(code) with \(table.count) entries")
            }
            out += entry
            if table.count < 4096 {
                table.append(prev + [entry[0]])
                if table.count == 1 << width, width < 12 { width += 1 }
            }
            previous = entry
        }
        throw TorchError("no end code")
    }
}
