import Foundation
import NN
import Torch
import XCTest
@testable import Sketch2Real

/// Checkpoints from strangers: crafted `.pth` files of every class a hostile user tried (ordinary
/// extra fields, self-reference, deep nesting, overflowing sizes and strides, expansion, wrong
/// ranks, odd dtypes and values, truncation) and `export` pointed at its own input. For each case:
/// the reader refuses it with a message naming the file (and the tensor where there is one),
/// within bounded time and memory, and the program run on it ends by itself, not by a signal,
/// without changing any input. Prints the suite's table.
final class HostileCheckpointTests: XCTestCase {
    typealias Pickler = TorchCheckpointWriter.Pickler

    /// A `.pth` archive around `pickle`, with storages by key.
    static func archive(_ pickle: Pickler, storages: [String: [UInt8]] = [:]) -> Data {
        var zip = TorchCheckpointWriter.ZipWriter()
        zip.add("archive/data.pkl", pickle.out)
        for (key, bytes) in storages.sorted(by: { $0.key < $1.key }) { zip.add("archive/data/\(key)", bytes) }
        zip.add("archive/byteorder", Array("little".utf8))
        return Data(zip.finish())
    }

    /// `_rebuild_tensor_v2((storage key, FloatStorage), offset, size, stride)` on the stack.
    static func tensor(_ p: inout Pickler, key: String = "0", type: String = "FloatStorage", offset: Int = 0, size: [Int], stride: [Int]) {
        p.global("torch._utils", "_rebuild_tensor_v2")
        p.op(0x28)
        p.op(0x28); p.unicode("storage"); p.global("torch", type); p.unicode(key); p.unicode("cpu"); p.int(1); p.op(0x74)
        p.op(0x51)
        p.int(offset)
        p.tuple(size)
        p.tuple(stride)
        p.op(0x89)
        p.op(0x74)
        p.op(0x52)
    }

    static func binfloat(_ p: inout Pickler, _ v: Double) {
        p.op(0x47)
        p.bytes(withUnsafeBytes(of: v.bitPattern.bigEndian) { Array($0) })
    }

    static func floats(_ values: [Float]) -> [UInt8] { values.withUnsafeBytes { Array($0) } }

    /// `{"state_dict": {"w": tensor 2×2}, "best_loss": -0.25, "epoch": 7, "delta": -3, "lr": 2e-4}`,
    /// as training scripts save.
    static func wrappedCheckpoint() -> Data {
        var p = Pickler()
        p.op(0x80); p.bytes([2])
        p.op(0x7D) // the outer dict
        p.op(0x28)
        p.unicode("state_dict")
        p.op(0x7D); p.unicode("w"); tensor(&p, size: [2, 2], stride: [2, 1]); p.op(0x73)
        p.unicode("best_loss"); binfloat(&p, -0.25)
        p.unicode("epoch"); p.int(7)
        p.unicode("delta"); p.int(-3)
        p.unicode("big"); p.int(-(1 << 40))
        p.unicode("lr"); binfloat(&p, 2e-4)
        p.op(0x75)
        p.op(0x2E)
        return archive(p, storages: ["0": floats([1, -2, 3, -4])])
    }

    /// Each hostile case: a name, the file's bytes, and the words its refusal must contain.
    static func cases() -> [(name: String, bytes: Data, mentions: String)] {
        var cases: [(String, Data, String)] = []
        // A dict that contains itself (33 bytes of pickle).
        var p = Pickler()
        p.op(0x80); p.bytes([2]); p.op(0x7D); p.op(0x71); p.bytes([0]); p.unicode("a"); p.op(0x68); p.bytes([0]); p.op(0x73); p.op(0x2E)
        cases.append(("self-containing dict", archive(p), "contains itself"))
        // Lists nested 30,000 deep.
        p = Pickler(); p.op(0x80); p.bytes([2])
        for _ in 0 ..< 30_000 { p.op(0x5D) }
        for _ in 0 ..< 29_999 { p.op(0x61) }
        p.op(0x2E)
        cases.append(("lists nested 30,000 deep", archive(p), "nest more than"))
        // Tuples nested 30,000 deep.
        p = Pickler(); p.op(0x80); p.bytes([2]); p.op(0x29)
        for _ in 0 ..< 30_000 { p.op(0x85) }
        p.op(0x2E)
        cases.append(("tuples nested 30,000 deep", archive(p), "nest more than"))
        // Dicts nested through the state-dict unwrapping, and a dict cycle through two dicts.
        p = Pickler(); p.op(0x80); p.bytes([2]); p.op(0x7D); p.op(0x71); p.bytes([0]); p.op(0x7D); p.op(0x71); p.bytes([1])
        p.unicode("state_dict"); p.op(0x68); p.bytes([0]); p.op(0x73)
        p.op(0x68); p.bytes([0]); p.unicode("state_dict"); p.op(0x68); p.bytes([1]); p.op(0x73); p.op(0x2E)
        cases.append(("two dicts that contain each other", archive(p), "contains itself"))
        // Sizes whose product overflows, strides whose reach overflows, an offset near Int64.max.
        for (label, size, stride, offset) in [("sizes whose product overflows", [1 << 62, 4], [1, 1], 0),
                                              ("strides that reach past any storage", [2, 2], [Int(Int64.max / 2), 1], 0),
                                              ("an offset near the largest integer", [2], [1], Int(Int64.max) - 1),
                                              ("a negative stride", [2], [-1], 1)] {
            p = Pickler(); p.op(0x80); p.bytes([2]); p.op(0x7D); p.unicode("w")
            tensor(&p, offset: offset, size: size, stride: stride); p.op(0x73); p.op(0x2E)
            cases.append((label, archive(p, storages: ["0": floats([1, 2, 3, 4])]), "tensor 'w'"))
        }
        // Two billion elements over a 4-byte storage (strides 0).
        p = Pickler(); p.op(0x80); p.bytes([2]); p.op(0x7D); p.unicode("w")
        tensor(&p, size: [2_000_000_000], stride: [0]); p.op(0x73); p.op(0x2E)
        cases.append(("2·10⁹ elements over one float", archive(p, storages: ["0": floats([1])]), "declares 2000000000 elements"))
        // More values than any state dict: 4 million Nones.
        p = Pickler(); p.op(0x80); p.bytes([2])
        p.bytes([UInt8](repeating: 0x4E, count: CheckpointReader.maximumValues + 1)); p.op(0x2E)
        cases.append(("four million values", archive(p), "more than 4000000 values"))
        // A pickle that pops below its mark, and one that ends early.
        p = Pickler(); p.op(0x80); p.bytes([2]); p.op(0x4E); p.op(0x28); p.op(0x30); p.op(0x2E)
        cases.append(("an unknown opcode", archive(p), "opcode 0x30"))
        p = Pickler(); p.op(0x80); p.bytes([2]); p.op(0x28); p.op(0x73); p.op(0x2E)
        cases.append(("a SETITEM below its mark", archive(p), "damaged pickle"))
        return cases
    }

    func bytesInUse() -> Int {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return usage.ru_maxrss * 1024
    }

    // MARK: the reader, in-process

    /// A checkpoint wrapped in a training dict with negative floats and integers of both signs
    /// (which made the reader trap) imports its state dict.
    func testAWrappedCheckpointWithNegativeNumbersImports() throws {
        let folder = makeTemporaryFolder(self)
        let path = folder + "/wrapped.pth"
        try Self.wrappedCheckpoint().write(to: URL(fileURLWithPath: path))
        let state = try TorchCheckpoint.load(path: path)
        XCTAssertEqual(Array(state.keys), ["w"])
        XCTAssertEqual(state["w"]?.shape, [2, 2])
        XCTAssertEqual(state["w"]?.toArray(Float.self), [1, -2, 3, -4])
    }

    /// Every crafted case is refused with its file and its reason, in bounded time and memory.
    func testCraftedCheckpointsAreRefusedQuicklyAndCheaply() throws {
        let folder = makeTemporaryFolder(self)
        for (name, bytes, mentions) in Self.cases() {
            let path = folder + "/case.pth"
            let before = bytesInUse(), start = Date()
            XCTAssertThrowsError(try CheckpointReader.stateDict(bytes, source: path), name) { error in
                let text = "\(error)"
                XCTAssertTrue(text.hasPrefix(path + ":"), "\(name): \(text)")
                XCTAssertTrue(text.contains(mentions), "\(name): \(text)")
            }
            XCTAssertLessThan(Date().timeIntervalSince(start), 30, name)
            XCTAssertLessThan(bytesInUse() - before, 1 << 30, "\(name) grew the process by more than 1 GiB")
        }
    }

    /// Every prefix of a valid file is refused with an error, never a trap.
    func testEveryTruncationIsAnError() throws {
        let full = Self.wrappedCheckpoint()
        for n in stride(from: 0, to: full.count, by: 7) {
            XCTAssertThrowsError(try CheckpointReader.stateDict(full.prefix(n), source: "t.pth"), "\(n) bytes")
        }
        // Flipped bytes inside the pickle: an error or a state dict, never a trap.
        var generator = SystemRandomNumberGenerator()
        for _ in 0 ..< 300 {
            var damaged = [UInt8](full)
            let at = Int.random(in: 0 ..< damaged.count, using: &generator)
            damaged[at] = UInt8.random(in: 0 ... 255, using: &generator)
            _ = try? CheckpointReader.stateDict(Data(damaged), source: "t.pth")
        }
    }

    /// Tensors of the wrong rank, integer or boolean weights, and NaN or infinite weights are
    /// refused by the family readers with the file and the tensor.
    func testFamilyReadersCheckRanksTypesAndValuesBeforeIndexing() throws {
        let source = "/tmp/crafted.pth"
        func refusal(_ body: () throws -> Void) -> String {
            do { try body(); return "accepted" } catch { return "\(error)" }
        }
        // A 1-D tensor where pix2pix's first convolution is.
        var weights = ["model.model.0.weight": Tensor.zeros([64])]
        var text = refusal { _ = try PyTorchImport.pix2pix(weights, netG: "unet_256", source: source) }
        XCTAssertTrue(text.contains(source) && text.contains("model.model.0.weight") && text.contains("4 dimensions"), text)
        // BicycleGAN's generator with 5 levels whose tensors are scalars.
        weights = [:]
        for level in 0 ..< 5 {
            weights["model." + String(repeating: "submodule.", count: level) + "down.0.weight"] = Tensor.zeros([3])
            weights["model." + String(repeating: "submodule.", count: level) + "down.1.weight"] = Tensor.zeros([3])
        }
        text = refusal { _ = try PyTorchImport.bicycleGAN(generator: weights, encoder: nil, nz: 8, source: source) }
        XCTAssertTrue(text.contains(source) && text.contains("model.down.0.weight"), text)
        // An encoder whose head is 1-D.
        let encoder = ["conv.0.weight": Tensor.zeros([64, 3, 4, 4]), "fc.0.weight": Tensor.zeros([8])]
        text = refusal { _ = try PyTorchImport.bicycleGAN(generator: weights, encoder: encoder, nz: nil, source: source) }
        XCTAssertTrue(text.contains(source), text)
        text = refusal {
            _ = try PyTorchImport.sragan(generator: [:], encoder: encoder, settings: Data(#"{"latentChannels": 8}"#.utf8), multimodal: true, source: source)
        }
        XCTAssertTrue(text.contains("fc.0.weight") && text.contains("2 dimensions"), text)
        // Integer, boolean and non-finite weights.
        let module = Conv2d(3, 4, kernelSize: 1)
        let good = Dictionary(uniqueKeysWithValues: module.stateDict())
        for (label, bad) in [("int64", good["weight"]!.to(.int64)), ("bool", good["weight"]!.to(.bool)),
                             ("NaN", good["weight"]! * Double.nan), ("infinite", good["weight"]! + Double.infinity)] {
            var state = good
            state["weight"] = bad
            text = refusal { try PyTorchImport.load(state, into: module, source: source, what: "test layer") }
            XCTAssertTrue(text.contains(source) && text.contains("'weight'"), "\(label): \(text)")
        }
    }

    // MARK: the program

    /// `import` on every crafted file: refused with the file's name, no signal, no hang, no more
    /// than 2 GiB of address space, and the file unchanged. A wrapped training checkpoint imports.
    func testImportRefusesEveryCraftedFileAndImportsAWrappedOne() throws {
        let folder = makeTemporaryFolder(self)
        var table: [(surface: String, cases: Int, crashes: Int, hangs: Int, unnamed: Int, changed: Int)] = []
        var row = (surface: "import", cases: 0, crashes: 0, hangs: 0, unnamed: 0, changed: 0)
        for (i, (name, bytes, _)) in Self.cases().enumerated() {
            let path = "\(folder)/case\(i).pth"
            try bytes.write(to: URL(fileURLWithPath: path))
            let run = try runProgramBounded(["import", path, "--model", "pix2pix", "--out", "\(folder)/out\(i).safetensors"],
                                            environment: ["SKETCH2REAL_MEMORY_LIMIT": "2G"], timeout: 120)
            row.cases += 1
            if run.signalled { row.crashes += 1; XCTFail("\(name): signal\n\(run.error.suffix(1500))") }
            if run.timedOut { row.hangs += 1; XCTFail("\(name): did not finish") }
            if !run.text.contains(path) { row.unnamed += 1; XCTFail("\(name): \(run.text.suffix(800))") }
            XCTAssertNotEqual(run.status, 0, name)
            if (try? Data(contentsOf: URL(fileURLWithPath: path))) != bytes { row.changed += 1; XCTFail("\(name): the input changed") }
            XCTAssertFalse(FileManager.default.fileExists(atPath: "\(folder)/out\(i).safetensors"), name)
        }
        table.append(row)
        print("hostile checkpoints:\n| surface | cases | crashes | hangs | unnamed | inputs changed |\n|---|---|---|---|---|---|")
        for r in table { print("| \(r.surface) | \(r.cases) | \(r.crashes) | \(r.hangs) | \(r.unnamed) | \(r.changed) |") }
    }

    /// A real pix2pix checkpoint that `torch.save` wrote wrapped in a training dict with floats
    /// and integers of both signs (as training scripts save it) imports, and translates.
    func testATrainingScriptsCheckpointImportsAndTranslates() throws {
        let folder = makeTemporaryFolder(self)
        let wrapped = folder + "/checkpoint.pth"
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        p.arguments = ["-c", """
            import sys, torch
            sd = torch.load(sys.argv[1])
            torch.save({"state_dict": sd, "epoch": 7, "step": -3, "best_loss": -0.25, "lr": 2e-4, "big": -(1 << 40),
                        "history": [1.5, -2.5], "note": "latest"}, sys.argv[2])
            """, ImportTests.folder + "/resnet6.pth", wrapped]
        try p.run()
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 0)
        let model = folder + "/model.safetensors"
        var run = try runProgramBounded(["import", wrapped, "--model", "pix2pix", "--netG", "resnet_6blocks", "--out", model], timeout: 300)
        XCTAssertEqual(run.status, 0, run.text)
        try gradientImage(width: 64, height: 64, phase: 0.2).grayscale().rgb().save(path: folder + "/sketch.png")
        run = try runProgramBounded(["translate", folder + "/sketch.png", "--model", model, "--out", folder + "/out"], timeout: 300)
        XCTAssertEqual(run.status, 0, run.text)
        let written = try FileManager.default.contentsOfDirectory(atPath: folder + "/out")
        XCTAssertEqual(written.filter { $0.hasSuffix(".png") }.count, 1, "\(written)")
    }

    /// `export` never writes over the file it reads, under any name, for any format; the model
    /// stays loadable afterwards.
    func testExportRefusesToOverwriteItsInput() throws {
        let folder = makeTemporaryFolder(self)
        let model = folder + "/model.safetensors"
        try FileManager.default.copyItem(atPath: try BundledModels.path("lsragan-landscapes.safetensors"), toPath: model)
        let original = try Data(contentsOf: URL(fileURLWithPath: model))
        try FileManager.default.createSymbolicLink(atPath: folder + "/alias.safetensors", withDestinationPath: model)
        for (format, out) in [("onnx", model), ("pth", model), ("safetensors", model), ("safetensors", folder + "/alias.safetensors"),
                              ("onnx", folder + "/../" + (folder as NSString).lastPathComponent + "/model.safetensors")] {
            let run = try runProgramBounded(["export", model, "--format", format, "--out", out], timeout: 300)
            XCTAssertNotEqual(run.status, 0, "\(format) → \(out)")
            XCTAssertFalse(run.signalled)
            XCTAssertTrue(run.text.contains("is the file this export reads"), run.text.suffix(800).description)
            XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: model)), original, "\(format) → \(out) changed the model")
        }
        // The encoder part's name colliding with the input: nothing written at all.
        let encoderNamed = folder + "/x-encoder.pth"
        try FileManager.default.copyItem(atPath: model, toPath: encoderNamed)
        let run = try runProgramBounded(["export", encoderNamed, "--format", "pth", "--out", folder + "/x.pth"], timeout: 300)
        XCTAssertNotEqual(run.status, 0, run.text)
        XCTAssertFalse(FileManager.default.fileExists(atPath: folder + "/x.pth"), "the generator part was written although the encoder part was refused")
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: encoderNamed)), original)
    }
}
