import Foundation
import XCTest
@testable import Torch

final class SafeTensorsTests: XCTestCase {
    // MARK: Swift → Swift

    /// One tensor of every dtype the format stores, plus the awkward shapes.
    private func sampleTensors() -> [(name: String, tensor: Tensor)] {
        Torch.manualSeed(99)
        return [
            ("f16", Tensor.randn([3, 5]).to(.float16)),
            ("bf16", Tensor.randn([4]).to(.bfloat16)),
            ("f32", Tensor.randn([2, 3, 4])),
            ("f64", Tensor.randn([7], dtype: .float64)),
            ("i64", Tensor([Int64.min, -1, 0, 1, Int64.max, 1 << 53 + 1], shape: [2, 3])),
            ("i32", Tensor([Int32.min, -5, Int32.max], shape: [3])),
            ("i16", Tensor.randint(-30_000, 30_000, [5], dtype: .int16)),
            ("i8", Tensor.randint(-128, 128, [6], dtype: .int8)),
            ("u8", Tensor([0, 1, 127, 128, 255] as [UInt8])),
            ("flags", Tensor([true, false, false, true], shape: [2, 2])),
            ("scalar", Tensor(scalar: -7.5, dtype: .float64)),
            ("empty", Tensor.zeros([0, 3])),
            // A transposed view: the file must hold it in row-major order of the view.
            ("view", Tensor.arange(0, 6).reshape(2, 3).T),
        ]
    }

    func testSwiftRoundTripIsBitIdentical() throws {
        let original = SafeTensors(tensors: sampleTensors(), metadata: ["format": "pt", "epoch": "12", "note": "ünï \"q\"\n✓"])
        let data = try original.encode()
        let decoded = try SafeTensors.decode(data)
        XCTAssertEqual(decoded.names, original.names, "tensors come back in the order they were written")
        XCTAssertEqual(decoded.metadata, original.metadata)
        for (name, tensor) in original.tensors {
            guard let back = decoded[name] else { XCTFail("\(name) missing"); continue }
            XCTAssertEqual(back.dtype, tensor.dtype, name)
            XCTAssertEqual(back.shape, tensor.shape, name)
            XCTAssertEqual(back.bytes(), tensor.contiguous().bytes(), name)
        }
        XCTAssertEqual(decoded["view"]?.toArray(Float.self), [0, 3, 1, 4, 2, 5])
        XCTAssertEqual(decoded["i64"]?.toArray(Int64.self), [Int64.min, -1, 0, 1, Int64.max, 1 << 53 + 1])
        XCTAssertEqual(decoded.dictionary.count, original.tensors.count)
        XCTAssertEqual(try decoded.encode(), data, "re-encoding is deterministic")

        // The header keeps tensor data 8-byte aligned, as other readers expect.
        let headerLength = data.prefix(8).withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }
        XCTAssertEqual(headerLength % 8, 0)
        XCTAssertEqual(data[8], UInt8(ascii: "{"))
    }

    func testSaveAndLoadThroughAFile() throws {
        let folder = try temporaryFolder(for: self)
        let path = folder.appendingPathComponent("weights.safetensors").path
        let original = SafeTensors(tensors: sampleTensors(), metadata: ["k": "v"])
        try original.save(path: path)
        // Overwriting replaces the file whole and leaves no temporary files behind.
        try original.save(path: path)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder.path), ["weights.safetensors"])
        let loaded = try SafeTensors.load(path: path)
        XCTAssertEqual(loaded.names, original.names)
        XCTAssertEqual(loaded.metadata, ["k": "v"])
        for (name, tensor) in original.tensors {
            XCTAssertEqual(loaded[name]?.bytes(), tensor.contiguous().bytes(), name)
        }
        XCTAssertNil(loaded["absent"])
    }

    func testEmptyFileRoundTrip() throws {
        let data = try SafeTensors().encode()
        let decoded = try SafeTensors.decode(data)
        XCTAssertEqual(decoded.names, [])
        XCTAssertEqual(decoded.metadata, [:])
    }

    // MARK: Python → Swift

    /// Tests/TorchTests/Fixtures/python_written.safetensors comes from Python's safetensors
    /// (see Tests/Fixtures/make_op_fixtures.py); the values below are what it was given.
    func testReadsFileWrittenByPython() throws {
        let file = try SafeTensors.load(path: try fixtureURL("python_written").path)
        XCTAssertEqual(Set(file.names), ["f16", "f32", "f64", "i64", "scalar", "empty", "u8", "flags"])
        XCTAssertEqual(file.metadata, ["format": "pt", "origin": "make_op_fixtures.py", "note": "ünïcødé ✓"])

        let f16 = try XCTUnwrap(file["f16"])
        XCTAssertEqual(f16.dtype, .float16)
        XCTAssertEqual(f16.shape, [2, 4])
        // 1, -2.5, 0.1 (nearest half), 65504 (largest half), -0, 2^-24 (smallest subnormal), +inf, -inf
        let halfBits: [UInt16] = [0x3C00, 0xC100, 0x2E66, 0x7BFF, 0x8000, 0x0001, 0x7C00, 0xFC00]
        XCTAssertEqual(littleEndianUInt16(f16.bytes()), halfBits)
        XCTAssertEqual(f16.toArray(Double.self),
                       [1, -2.5, 0.0999755859375, 65504, -0.0, 0x1p-24, .infinity, -.infinity])

        let f32 = try XCTUnwrap(file["f32"])
        XCTAssertEqual(f32.dtype, .float32)
        XCTAssertEqual(f32.shape, [2, 3])
        XCTAssertEqual(f32.toArray(Float.self).map(\.bitPattern),
                       ([0, 1.5, -3.25, Float(bitPattern: 1), .greatestFiniteMagnitude, 0.1] as [Float]).map(\.bitPattern))

        let f64 = try XCTUnwrap(file["f64"])
        XCTAssertEqual(f64.dtype, .float64)
        XCTAssertEqual(f64.toArray(Double.self).map(\.bitPattern),
                       ([.pi, -1e300, .leastNonzeroMagnitude, 0.1] as [Double]).map(\.bitPattern))

        let i64 = try XCTUnwrap(file["i64"])
        XCTAssertEqual(i64.dtype, .int64)
        XCTAssertEqual(i64.shape, [3, 2])
        XCTAssertEqual(i64.toArray(Int64.self), [Int64.min, -1, 0, 1, Int64.max, 9_007_199_254_740_993])

        let scalar = try XCTUnwrap(file["scalar"])
        XCTAssertEqual(scalar.shape, [])
        XCTAssertEqual(scalar.item(), -7.5)
        XCTAssertEqual(file["empty"]?.shape, [0, 3])
        XCTAssertEqual(file["empty"]?.dtype, .float32)
        XCTAssertEqual(file["u8"]?.toArray(UInt8.self), [0, 7, 255])
        XCTAssertEqual(file["flags"]?.toArray(Bool.self), [true, false, true])
    }

    private func littleEndianUInt16(_ bytes: [UInt8]) -> [UInt16] {
        stride(from: 0, to: bytes.count, by: 2).map { UInt16(bytes[$0]) | UInt16(bytes[$0 + 1]) << 8 }
    }

    // MARK: Swift → Python

    func testPythonReadsFileWrittenBySwift() throws {
        try requirePythonSafetensors()
        let folder = try temporaryFolder(for: self)
        let path = folder.appendingPathComponent("from_swift.safetensors").path
        let tensors = sampleTensors()
        let metadata = ["format": "pt", "step": "1500", "note": "ünï \"q\"\n✓"]
        try SafeTensors(tensors: tensors, metadata: metadata).save(path: path)

        let script = """
        import json, sys
        from safetensors import safe_open
        from safetensors.torch import load_file
        path = sys.argv[1]
        tensors = load_file(path)
        with safe_open(path, framework="pt") as f:
            metadata = f.metadata()
        # Values as text: repr() round-trips exactly, which a JSON number parser need not honour.
        def text(v):
            values = v.flatten().tolist()
            return [repr(float(x)) for x in values] if v.is_floating_point() else [str(int(x)) for x in values]
        print(json.dumps({
            "metadata": metadata,
            "tensors": {k: {"dtype": str(v.dtype).replace("torch.", ""), "shape": list(v.shape), "values": text(v)}
                        for k, v in tensors.items()},
        }))
        """
        let result = try runPython(script, arguments: [path])
        XCTAssertEqual(result.status, 0, "python failed: \(result.stderr)")
        guard result.status == 0 else { return }
        let report = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        XCTAssertEqual(report["metadata"] as? [String: String], metadata)
        let seen = try XCTUnwrap(report["tensors"] as? [String: [String: Any]])
        XCTAssertEqual(Set(seen.keys), Set(tensors.map(\.name)))
        for (name, tensor) in tensors {
            guard let entry = seen[name] else { continue }
            XCTAssertEqual(entry["dtype"] as? String, tensor.dtype.description, name)
            XCTAssertEqual(entry["shape"] as? [Int], tensor.shape, name)
            let values = try XCTUnwrap(entry["values"] as? [String], name)
            if tensor.dtype.isFloatingPoint {
                XCTAssertEqual(values.map { Double($0) }, tensor.toArray(Double.self), name)
            } else {
                XCTAssertEqual(values.map { Int64($0) }, tensor.toArray(Int64.self), name)
            }
        }
    }

    // MARK: Damaged and foreign files

    private func assertDecodeFails(_ data: Data, _ message: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try SafeTensors.decode(data, source: "test.safetensors"), file: file, line: line) { error in
            XCTAssertEqual((error as? TorchError)?.message, message, file: file, line: line)
        }
    }

    /// A file image with the given header text (padded as the format allows) and data bytes.
    private func image(header: String, data: [UInt8] = []) -> Data {
        var json = Data(header.utf8)
        while json.count % 8 != 0 { json.append(0x20) }
        var out = Data()
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { out.append(contentsOf: $0) }
        return out + json + Data(data)
    }

    func testTooShortFiles() {
        assertDecodeFails(Data(), "test.safetensors: not a safetensors file (only 0 bytes)")
        assertDecodeFails(Data([1, 2, 3, 4, 5]), "test.safetensors: not a safetensors file (only 5 bytes)")
    }

    func testForeignFiles() {
        // A PNG signature read as a header length.
        let png = Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 0x0D, 0x49, 0x48, 0x44, 0x52])
        assertDecodeFails(png, "test.safetensors: not a safetensors file (header length 727905341920923785 is implausible)")
        // Text whose first bytes make a plausible length but whose body is not a JSON object.
        var text = Data([16, 0, 0, 0, 0, 0, 0, 0])
        text.append(Data("hello, world!!!!".utf8))
        assertDecodeFails(text, "test.safetensors: not a safetensors file (header is not a JSON object)")
        assertDecodeFails(image(header: "[1, 2, 3]"), "test.safetensors: not a safetensors file (header is not a JSON object)")
        // A pickle-based PyTorch checkpoint is a zip archive.
        var zip = Data("PK\u{03}\u{04}".utf8)
        zip.append(Data(repeating: 0, count: 60))
        assertDecodeFails(zip, "test.safetensors: truncated or not a safetensors file (header needs 67324752 bytes, file has 56 after the length)")
    }

    func testTruncatedFiles() throws {
        let a = Tensor([1, 2, 3, 4] as [Float], shape: [2, 2]), b = Tensor([1, 2, 3] as [Double])
        let full = try SafeTensors(tensors: [("a", a), ("b", b)]).encode()
        let headerLength = Int(full.prefix(8).withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) })
        assertDecodeFails(full.prefix(full.count - 4),
                          "test.safetensors: truncated (tensor 'b' ends at byte 40 of the data, which has 36)")
        // With every tensor cut off, the message names one of them.
        XCTAssertThrowsError(try SafeTensors.decode(full.prefix(8 + headerLength), source: "test.safetensors")) { error in
            let message = (error as? TorchError)?.message
            XCTAssertTrue(["test.safetensors: truncated (tensor 'a' ends at byte 16 of the data, which has 0)",
                           "test.safetensors: truncated (tensor 'b' ends at byte 40 of the data, which has 0)"]
                .contains(message), message ?? "\(error)")
        }
        assertDecodeFails(full.prefix(18),
                          "test.safetensors: truncated or not a safetensors file (header needs \(headerLength) bytes, file has 10 after the length)")
        // Every shorter prefix fails cleanly rather than crashing or yielding partial tensors.
        for n in 0 ..< full.count {
            XCTAssertThrowsError(try SafeTensors.decode(full.prefix(n)), "prefix of \(n) bytes")
        }
    }

    func testTruncatedFileOnDiskNamesThePath() throws {
        let folder = try temporaryFolder(for: self)
        let path = folder.appendingPathComponent("cut.safetensors").path
        let full = try SafeTensors(tensors: [("w", Tensor.ones([4]))]).encode()
        try full.prefix(full.count - 1).write(to: URL(fileURLWithPath: path))
        XCTAssertThrowsError(try SafeTensors.load(path: path)) { error in
            XCTAssertEqual((error as? TorchError)?.message,
                           "\(path): truncated (tensor 'w' ends at byte 16 of the data, which has 15)")
        }
    }

    func testMalformedHeaders() {
        assertDecodeFails(image(header: #"{"x":{"dtype":"C64","shape":[1],"data_offsets":[0,8]}}"#, data: Array(repeating: 0, count: 8)),
                          "test.safetensors: tensor 'x' has unsupported dtype C64")
        assertDecodeFails(image(header: #"{"x":{"dtype":"F32","shape":[2,2],"data_offsets":[0,12]}}"#, data: Array(repeating: 0, count: 12)),
                          "test.safetensors: tensor 'x' has 12 bytes but shape [2, 2] of float32 needs 16")
        assertDecodeFails(image(header: #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}"#,
                                data: Array(repeating: 0, count: 12)),
                          "test.safetensors: tensor 'b' overlaps or leaves a gap in the data section")
        assertDecodeFails(image(header: #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#,
                                data: Array(repeating: 0, count: 8)),
                          "test.safetensors: tensor 'b' overlaps or leaves a gap in the data section")
        assertDecodeFails(image(header: #"{"x":{"dtype":"F32"}}"#), "test.safetensors: malformed header entry for tensor 'x'")
        assertDecodeFails(image(header: #"{"x":[1,2]}"#), "test.safetensors: malformed header entry for tensor 'x'")
        assertDecodeFails(image(header: #"{"x":{"dtype":"F32","shape":[-1],"data_offsets":[0,0]}}"#),
                          "test.safetensors: malformed shape or offsets for tensor 'x'")
        assertDecodeFails(image(header: #"{"w":{"dtype":"F32","shape":[4,4],"data_offsets":[-64,0]}}"#, data: Array(repeating: 0, count: 64)),
                          "test.safetensors: tensor 'w' has invalid data offsets [-64, 0] (they must satisfy 0 ≤ begin ≤ end)")
        assertDecodeFails(image(header: #"{"w":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,64]}}"#, data: Array(repeating: 0, count: 64)),
                          "test.safetensors: tensor 'w' has an impossibly large shape [4294967296, 4294967296]")
        assertDecodeFails(image(header: #"{"__metadata__":{"k":1}}"#), "test.safetensors: metadata value for k is not a string")
        assertDecodeFails(image(header: #"{"__metadata__":"text"}"#), "test.safetensors: __metadata__ must map strings to strings")
    }

    func testFileSystemErrors() throws {
        let folder = try temporaryFolder(for: self)
        let missing = folder.appendingPathComponent("missing.safetensors").path
        XCTAssertThrowsError(try SafeTensors.load(path: missing)) { error in
            XCTAssertEqual((error as? TorchError)?.message, "\(missing): no such file")
        }
        XCTAssertThrowsError(try SafeTensors.load(path: folder.path)) { error in
            let message = (error as? TorchError)?.message ?? ""
            XCTAssertTrue(message.hasPrefix("\(folder.path): "), message)
        }
        let nowhere = folder.appendingPathComponent("no/such/folder/out.safetensors").path
        XCTAssertThrowsError(try SafeTensors(tensors: [("a", Tensor.ones([1]))]).save(path: nowhere)) { error in
            XCTAssertEqual((error as? TorchError)?.message,
                           "cannot write \(nowhere): folder \(folder.path)/no/such/folder does not exist")
        }
    }

    func testWriterRejectsInvalidContent() {
        let one = Tensor.ones([1])
        XCTAssertThrowsError(try SafeTensors(tensors: [("a", one), ("a", one)]).encode()) { error in
            XCTAssertEqual((error as? TorchError)?.message, "duplicate tensor name 'a'")
        }
        XCTAssertThrowsError(try SafeTensors(tensors: [("__metadata__", one)]).encode()) { error in
            XCTAssertEqual((error as? TorchError)?.message, "'__metadata__' cannot name a tensor")
        }
        var undefined: Tensor?
        _ = try? withTorchErrors { undefined = Tensor.zeros([2, 3]).matmul(Tensor.zeros([2, 3])) }
        XCTAssertThrowsError(try SafeTensors(tensors: [("u", undefined!)]).encode()) { error in
            XCTAssertEqual((error as? TorchError)?.message, "tensor 'u' is undefined")
        }
    }
}

extension SafeTensorsTests {
    /// The libtorch-free header parser (the fuzz target's code) knows exactly the dtypes the
    /// reader maps to tensors, with libtorch's element sizes.
    func testTheHeaderParserAgreesWithTheTensorTypes() {
        XCTAssertEqual(Set(SafeTensorsHeader.elementSizes.keys), Set(SafeTensors.dtypeNames.values))
        for (dtype, name) in SafeTensors.dtypeNames {
            XCTAssertEqual(SafeTensorsHeader.elementSizes[name], dtype.byteSize, name)
            XCTAssertEqual(SafeTensorsHeader.elementNames[name], dtype.description, name)
        }
    }
}
