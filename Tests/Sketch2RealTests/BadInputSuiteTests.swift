import Foundation
import NN
import Torch
import XCTest
#if canImport(Glibc)
import Glibc
#endif
@testable import Sketch2Real

/// The bad-input suite: generates its own corrupt, truncated, empty, tiny, oversized, bomb,
/// misnamed and odd-named images, bad datasets and bad model files, runs every command on them
/// through the built program, and asserts for every case: no exit by a signal, no hang (a
/// bounded time), a message that names the file, and the good files beside the bad still
/// written. Prints one line per command with its case count.
final class BadInputSuiteTests: XCTestCase {
    /// Per command: cases run and the ones that crashed, hung, did not name their file or lost a
    /// good sibling's output.
    struct Tally {
        var cases = 0, crashes = 0, hangs = 0, unnamed = 0, lost = 0
    }

    var tallies: [String: Tally] = [:]

    func runBounded(_ arguments: [String]) throws -> ProgramRun { try runProgramBounded(arguments, timeout: 180) }

    /// Records `cases` cases of `command` from one run: each bad file must be named (by one of
    /// its strings), each good output must exist.
    func record(_ command: String, _ run: ProgramRun, named: [(file: String, mentions: [String])], outputs: [String],
                file: StaticString = #filePath, line: UInt = #line) {
        var t = tallies[command, default: Tally()]
        let cases = max(1, named.count + outputs.count)
        t.cases += cases
        if run.signalled { t.crashes += cases; XCTFail("\(command) died by a signal: \(run.arguments)\n\(run.error.suffix(2000))", file: file, line: line) }
        if run.timedOut { t.hangs += cases; XCTFail("\(command) did not finish: \(run.arguments)", file: file, line: line) }
        for (bad, mentions) in named where !mentions.contains(where: { run.text.contains($0) }) {
            t.unnamed += 1
            XCTFail("\(command) did not name \(bad) (\(mentions)):\n\(run.text.suffix(3000))", file: file, line: line)
        }
        for output in outputs where !FileManager.default.fileExists(atPath: output) {
            t.lost += 1
            XCTFail("\(command) did not write \(output):\n\(run.text.suffix(3000))", file: file, line: line)
        }
        for text in [run.output, run.error] where text.contains("Fatal error") || text.contains("NSCocoaErrorDomain") || text.contains("terminate called") {
            XCTFail("\(command) printed a raw failure:\n\(text.suffix(2000))", file: file, line: line)
        }
        tallies[command] = t
    }

    // MARK: Generated inputs

    /// Good and bad images in `folder`; returns the bad ones with the strings a message about
    /// each must contain (its path, or for a name that is not UTF-8, that fact).
    func writeImages(to folder: String, size: Int = 32) throws -> (good: [String], bad: [(file: String, mentions: [String])]) {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let picture = gradientImage(width: size, height: size)
        try picture.save(path: folder + "/good.png")
        try picture.save(path: folder + "/good2.jpg")
        let png = try picture.encoded(fileExtension: "png"), jpeg = try picture.encoded(fileExtension: "jpg")
        func write(_ name: String, _ bytes: [UInt8]) throws { try Data(bytes).write(to: URL(fileURLWithPath: folder + "/" + name)) }
        var random = SplitMix64(seed: 11)
        try write("corrupt.png", (0 ..< 600).map { _ in UInt8(truncatingIfNeeded: random.next()) })
        try write("truncated.png", Array(png.prefix(png.count / 2)))
        try write("cut.jpg", Array(jpeg.prefix(jpeg.count * 6 / 10)))
        try write("empty.png", [])
        try write("text.jpg", Array("this is not a picture".utf8))
        try write("bomb.png", Self.pngBomb(width: 100_000, height: 100_000))
        try FileManager.default.createDirectory(atPath: folder + "/folder.png", withIntermediateDirectories: true)
        // A Latin-1 name ("caf\u{E9}.png"), created from raw bytes.
        var name = Array((folder + "/caf").utf8CString.dropLast()) + [CChar(bitPattern: 0xE9)] + Array(".png".utf8CString)
        let fd = name.withUnsafeMutableBufferPointer { open($0.baseAddress!, O_CREAT | O_WRONLY, 0o644) }
        XCTAssertGreaterThanOrEqual(fd, 0)
        _ = png.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        close(fd)
        let bad = ["corrupt.png", "truncated.png", "cut.jpg", "empty.png", "text.jpg", "bomb.png", "folder.png"]
            .map { (file: $0, mentions: [folder + "/" + $0]) } + [(file: "caf?.png", mentions: ["not valid UTF-8"])]
        return (["good.png", "good2.jpg"], bad)
    }

    /// A PNG whose header claims `width`×`height` pixels over a few bytes of data.
    static func pngBomb(width: UInt32, height: UInt32) -> [UInt8] {
        func be(_ v: UInt32) -> [UInt8] { [UInt8(v >> 24), UInt8(v >> 16 & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)] }
        func chunk(_ type: String, _ body: [UInt8]) -> [UInt8] {
            let typed = Array(type.utf8) + body
            var crc = CRC32()
            typed.withUnsafeBytes { crc.update($0) }
            return be(UInt32(body.count)) + typed + be(crc.value)
        }
        let ihdr = be(width) + be(height) + [8, 2, 0, 0, 0]
        return [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + chunk("IHDR", ihdr) + chunk("IDAT", [0x78, 0x9C, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01])
            + chunk("IEND", [])
    }

    /// A tiny SRAGAN and a tiny LSRAGAN (with encoder), exported.
    func writeTinyModels(to folder: String) throws -> (oneToOne: String, multimodal: String) {
        Torch.manualSeed(3)
        var one = TrainingConfig.defaults(for: .sragan, size: 32)
        (one.sragan.ngf, one.sragan.blocks) = (4, 1)
        one.syncChannels()
        let a = folder + "/tiny-sragan.safetensors"
        try GeneratorFile.export(try GeneratorFile.make(one), config: one, to: a)
        var many = TrainingConfig.defaults(for: .lsragan, size: 32)
        (many.sragan.ngf, many.sragan.blocks, many.encoder.nef, many.encoder.blocks) = (4, 1, 4, 3)
        many.syncChannels()
        let b = folder + "/tiny-lsragan.safetensors"
        try GeneratorFile.export(try GeneratorFile.makeLatent(many), encoder: try GeneratorFile.makeEncoder(many), config: many, to: b)
        return (a, b)
    }

    /// Bad model files: each with the path a message about it must name.
    func writeBadModels(to folder: String, from good: String) throws -> [String] {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: good)))
        func write(_ name: String, _ data: [UInt8]) throws -> String {
            let path = folder + "/" + name
            try Data(data).write(to: URL(fileURLWithPath: path))
            return path
        }
        let headerLength = Int(bytes[0 ..< 8].enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) })
        var paths: [String] = []
        paths.append(try write("empty.safetensors", []))
        paths.append(try write("short.safetensors", [1, 2, 3]))
        paths.append(try write("garbage.safetensors", Array(repeating: 0x41, count: 4096)))
        paths.append(try write("huge-header.safetensors", [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F] + Array(repeating: 0, count: 64)))
        paths.append(try write("truncated.safetensors", Array(bytes.prefix(8 + headerLength + (bytes.count - 8 - headerLength) / 2))))
        paths.append(try write("cut-header.safetensors", Array(bytes.prefix(8 + headerLength / 2))))
        // The header's first data offset made negative (same length, so the file stays well-framed).
        // The header's first data offset made negative; the length prefix is written anew.
        let header = String(decoding: bytes[8 ..< 8 + headerLength], as: UTF8.self)
        let negative: [UInt8] = Array(header.replacingOccurrences(of: "\"data_offsets\":[0,", with: "\"data_offsets\":[-1,").utf8)
        XCTAssertNotEqual(negative.count, headerLength, "the header holds an offset 0")
        var framed: [UInt8] = (0 ..< 8).map { UInt8(truncatingIfNeeded: UInt64(negative.count) >> (8 * UInt64($0))) }
        framed += negative
        framed += bytes[(8 + headerLength)...]
        paths.append(try write("negative-offset.safetensors", framed))
        // NaN weights, and a model configuration no network can be built from.
        let stored = try SafeTensors.load(path: good)
        var nan = stored
        nan.tensors[0].tensor = withNoGrad { { let t = stored.tensors[0].tensor.clone(); t.fillInPlace(.nan); return t }() }
        try nan.save(path: folder + "/nan.safetensors")
        paths.append(folder + "/nan.safetensors")
        var absurd = stored
        absurd.metadata[GeneratorFile.trainingKey] = stored.metadata[GeneratorFile.trainingKey]!
            .replacingOccurrences(of: "\"ngf\"\\s*:\\s*4\\b", with: "\"ngf\": 5000", options: .regularExpression)
        try absurd.save(path: folder + "/absurd-config.safetensors")
        paths.append(folder + "/absurd-config.safetensors")
        var unreadable = stored
        unreadable.metadata[GeneratorFile.trainingKey] = "{\"model\": 12"
        try unreadable.save(path: folder + "/bad-metadata.safetensors")
        paths.append(folder + "/bad-metadata.safetensors")
        var bare = stored
        bare.metadata = [:]
        try bare.save(path: folder + "/no-metadata.safetensors")
        paths.append(folder + "/no-metadata.safetensors")
        try FileManager.default.createDirectory(atPath: folder + "/empty-run", withIntermediateDirectories: true)
        paths.append(folder + "/empty-run")
        paths.append(folder + "/missing.safetensors")
        return paths
    }

    // MARK: The suite

    func testEveryCommandOnBadInput() throws {
        let root = makeTemporaryFolder(self)
        let (model, multimodal) = try writeTinyModels(to: root)
        let input = root + "/in"
        let (_, bad) = try writeImages(to: input)

        // translate: a folder with every kind of bad image.
        let translated = try runBounded(["translate", "--model", model, input, "--out", root + "/translated"])
        XCTAssertNotEqual(translated.status, 0, "failures make the exit status non-zero")
        record("translate", translated, named: bad, outputs: ["good.png", "good2.png"].map { root + "/translated/" + $0 })

        // sample: the same folder through a multimodal model.
        let sampled = try runBounded(["sample", "--model", multimodal, input, "--n", "2", "--out", root + "/sampled"])
        let samples = (try? FileManager.default.contentsOfDirectory(atPath: root + "/sampled")) ?? []
        record("sample", sampled, named: bad, outputs: [])
        for good in ["good", "good2"] where !samples.contains(where: { $0.hasPrefix(good) }) {
            tallies["sample", default: Tally()].lost += 1
            XCTFail("sample wrote nothing for \(good): \(samples)")
        }

        // dataset build: the bad photos are skipped by name, the good ones give pairs.
        let built = try runBounded(["dataset", "build", "--photos", input, "--out", root + "/built", "--sketch", "canny",
                                    "--size", "32", "--crops", "2", "--split", "1,0,0"])
        XCTAssertEqual(built.status, 0, built.text)
        let pairs = (try? FileManager.default.contentsOfDirectory(atPath: root + "/built/train")) ?? []
        record("dataset build", built, named: bad, outputs: [])
        if pairs.count < 2 { tallies["dataset build", default: Tally()].lost += 1; XCTFail("dataset build wrote \(pairs)") }

        // A dataset whose splits hold the same bad files beside good pairs.
        let data = root + "/data"
        try writeAlignedDataset(root: data, counts: ["train": 2, "test": 2], size: 32)
        for split in ["train", "test"] { _ = try writeImages(to: "\(data)/\(split)", size: 64) }
        let dataBad = { (split: String) in bad.map { (file: $0.file, mentions: $0.mentions.map { $0.replacingOccurrences(of: input, with: "\(data)/\(split)") }) } }

        let checked = try runBounded(["dataset", "check", data])
        XCTAssertNotEqual(checked.status, 0, "dataset check reports the problems")
        record("dataset check", checked, named: dataBad("train") + dataBad("test"), outputs: [])

        // train, skipping bad files: trains on the good pairs and names every skipped file.
        let trained = try runBounded(["train", "--data", data, "--runs", root + "/runs", "--name", "skip", "--model", "sragan",
                                      "--size", "32", "--ngf", "4", "--blocks", "1", "--ndf", "4", "--epochs", "1", "--epochs-decay", "0",
                                      "--on-bad-file", "skip", "--lambda-perceptual", "0"])
        XCTAssertEqual(trained.status, 0, trained.text)
        record("train --on-bad-file skip", trained, named: dataBad("train"), outputs: [root + "/runs/skip/checkpoints/latest.safetensors"])
        // train, failing on the first bad file: names it, leaves no half-made checkpoint.
        let failed = try runBounded(["train", "--data", data, "--runs", root + "/runs", "--name", "fail", "--model", "sragan",
                                     "--size", "32", "--ngf", "4", "--blocks", "1", "--ndf", "4", "--max-steps", "2", "--lambda-perceptual", "0"])
        XCTAssertNotEqual(failed.status, 0)
        let namedOne = dataBad("train").contains { bad in bad.mentions.contains { failed.text.contains($0) } }
        record("train --on-bad-file fail", failed, named: namedOne ? [] : [(file: "any bad file", mentions: dataBad("train").flatMap(\.mentions))], outputs: [])

        // eval on the test split with the bad files: every bad file named, the good pairs measured.
        let evaluated = try runBounded(["eval", "--model", model, "--data", data, "--out", root + "/eval", "--on-bad-file", "skip"])
        XCTAssertEqual(evaluated.status, 0, evaluated.text)
        record("eval --on-bad-file skip", evaluated, named: dataBad("test"), outputs: [root + "/eval/metrics.json", root + "/eval/report.html"])
        // Without skip: the first bad file is named and nothing half-made is written.
        let strict = try runBounded(["eval", "--model", model, "--data", data, "--out", root + "/eval-strict"])
        XCTAssertNotEqual(strict.status, 0)
        let strictNamed = dataBad("test").contains { bad in bad.mentions.contains { strict.text.contains($0) } }
        record("eval --on-bad-file fail", strict, named: strictNamed ? [] : [(file: "any bad file", mentions: dataBad("test").flatMap(\.mentions))], outputs: [])
        XCTAssertFalse(FileManager.default.fileExists(atPath: root + "/eval-strict/metrics.json"))

        // Bad model files, through every command that loads a model.
        let badModels = try writeBadModels(to: root + "/bad-models", from: model)
        let sketch = input + "/good.png"
        for path in badModels {
            for (command, arguments) in [("translate --model", ["translate", "--model", path, sketch, "--out", root + "/m-out"]),
                                         ("sample --model", ["sample", "--model", path, sketch, "--out", root + "/m-out"]),
                                         ("export", ["export", path, "--out", root + "/m-out/x.safetensors"])] {
                let run = try runBounded(arguments)
                XCTAssertNotEqual(run.status, 0, "\(arguments): \(run.text)")
                record(command, run, named: [(file: path, mentions: [path])], outputs: [])
            }
        }

        var total = Tally()
        for (command, t) in tallies.sorted(by: { $0.key < $1.key }) {
            print("bad-input suite: \(command): \(t.cases) cases, \(t.crashes) crashes, \(t.hangs) hangs, \(t.unnamed) not named, \(t.lost) lost outputs")
            total.cases += t.cases; total.crashes += t.crashes; total.hangs += t.hangs; total.unnamed += t.unnamed; total.lost += t.lost
        }
        print("bad-input suite: all commands: \(total.cases) cases, \(total.crashes) crashes, \(total.hangs) hangs, \(total.unnamed) not named, \(total.lost) lost outputs")
    }
}
