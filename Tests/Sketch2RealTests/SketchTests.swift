import Foundation
import Torch
import XCTest
@testable import Sketch2Real

/// Sketch extraction on a real photo (Fixtures/bee.png, see Fixtures/README.md). HED's reference
/// map comes from Tests/Fixtures/make_hed_fixture.py; the weights from scripts/bootstrap.
final class SketchTests: XCTestCase {
    private nonisolated(unsafe) static var cachedHED: HEDSketch?

    private func fixturePath(_ name: String, _ ext: String) throws -> String {
        guard let url = Bundle.module.url(forResource: name, withExtension: ext, subdirectory: "Fixtures") else {
            throw SketchError("fixture \(name).\(ext) is missing; run Tests/Fixtures/make_hed_fixture.py")
        }
        return url.path
    }

    private func photo() throws -> Image { try Image.load(path: try fixturePath("bee", "png")) }

    private func referenceProbability() throws -> Tensor {
        let file = try SafeTensors.load(path: try fixturePath("hed_bee", "safetensors"))
        guard let map = file["probability"] else { throw SketchError("hed_bee.safetensors has no 'probability'") }
        return map
    }

    /// The network with the converted weights, loaded once for all tests.
    private func hed() throws -> HEDSketch {
        if let h = Self.cachedHED { return h }
        let h = try HEDSketch()
        Self.cachedHED = h
        return h
    }

    private func temporaryFolder() -> String {
        let path = NSTemporaryDirectory() + "s2r-sketch-" + UUID().uuidString
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: path) }
        return path
    }

    private func values(_ image: Image) -> [Float] { image.pixels.contiguous().toArray(Float.self) }

    private func lineFraction(_ image: Image) -> Double {
        image.pixels.lt(0.5).to(.float64).mean().item()
    }

    // MARK: HED network

    func testHEDStateDictNamesAndSize() {
        let network = HEDNetwork()
        let names = network.stateDict().map(\.0)
        var expected: [String] = []
        for (block, convs) in [(1, 2), (2, 2), (3, 3), (4, 3), (5, 3)] {
            for c in 1 ... convs { expected += ["block\(block).conv\(c).weight", "block\(block).conv\(c).bias"] }
        }
        for side in 1 ... 5 { expected += ["dsn\(side).weight", "dsn\(side).bias"] }
        expected += ["fuse.weight", "fuse.bias"]
        XCTAssertEqual(names.sorted(), expected.sorted())
        XCTAssertEqual(network.parameterCount, 14_716_171)
    }

    func testHEDMatchesReferenceOnPhoto() throws {
        let probability = try hed().edgeProbability(try photo())
        let reference = try referenceProbability()
        XCTAssertEqual(probability.shape, [126, 190])
        XCTAssertEqual(probability.dtype, .float32)
        let error = (probability.to(.float64) - reference.to(.float64)).abs().max().item()
        print("HED parity on bee.png: max |Swift − reference| = \(error)")
        XCTAssertLessThan(error, 1e-4)
    }

    func testHEDKeepsAnyInputSize() throws {
        for (w, h) in [(53, 37), (17, 9), (1, 1)] {
            let photo = Image(pixels: Tensor.rand([h, w, 3]))
            XCTAssertEqual(try hed().edgeProbability(photo).shape, [h, w])
            let sketch = try hed().sketch(photo)
            XCTAssertEqual([sketch.height, sketch.width, sketch.channels], [h, w, 1])
        }
        let gray = Image(pixels: Tensor.rand([20, 24, 1]))
        XCTAssertEqual(try hed().edgeProbability(gray).shape, [20, 24])
    }

    // MARK: HED post-processing

    func testHEDSketchIsBinaryMostlyWhiteWithLinesOnStrongEdges() throws {
        let sketch = try hed().sketch(try photo())
        XCTAssertEqual([sketch.height, sketch.width, sketch.channels], [126, 190, 1])
        let v = values(sketch)
        XCTAssertTrue(v.allSatisfy { $0 == 0 || $0 == 1 }, "sketch must be binary")
        let lines = lineFraction(sketch)
        XCTAssertGreaterThan(lines, 0.05, "too few lines")
        XCTAssertLessThan(lines, 0.14, "mostly white")

        // Lines lie on strong reference edges, and strong edges get a line within 2 pixels.
        let reference = try referenceProbability().toArray(Float.self)
        let (w, h) = (sketch.width, sketch.height)
        let onLines = v.indices.filter { v[$0] == 0 }.map { reference[$0] }
        XCTAssertGreaterThan(onLines.reduce(0, +) / Float(onLines.count), 0.6, "lines must follow HED's edges")
        var strong = 0, covered = 0
        for y in 5 ..< h - 5 {
            for x in 5 ..< w - 5 where reference[y * w + x] > 0.85 {
                strong += 1
                var near = false
                for dy in -2 ... 2 { for dx in -2 ... 2 where v[(y + dy) * w + x + dx] == 0 { near = true } }
                if near { covered += 1 }
            }
        }
        XCTAssertGreaterThan(strong, 100)
        XCTAssertGreaterThan(Double(covered) / Double(strong), 0.9, "strong edges must be drawn")
    }

    func testPostprocessingRemovesSmallComponents() throws {
        let probability = try referenceProbability()
        let options = HEDPostprocessing(minComponentSize: 12)
        let lines = try options.lines(probability: probability)
        let (_, stats) = try ImageOps.connectedComponents(lines, connectivity: 8)
        let areas = stats.select(dim: 1, index: 4).toArray(Int32.self).dropFirst()
        XCTAssertFalse(areas.isEmpty)
        XCTAssertTrue(areas.allSatisfy { $0 >= 12 }, "\(areas.sorted())")
        let all = try HEDPostprocessing(minComponentSize: 0).lines(probability: probability)
        XCTAssertGreaterThan(all.gt(0).sum().item(), lines.gt(0).sum().item())
    }

    func testPostprocessingStepsEachThinTheLines() throws {
        let probability = try referenceProbability()
        func count(_ p: HEDPostprocessing) throws -> Double { try p.lines(probability: probability).gt(0).sum().item() }
        let full = try count(HEDPostprocessing())
        let noThinning = try count(HEDPostprocessing(thinning: false))
        let noSuppression = try count(HEDPostprocessing(nonMaximumSuppression: false, thinning: false))
        XCTAssertLessThanOrEqual(full, noThinning)
        XCTAssertLessThan(noThinning, noSuppression)
        let higher = try count(HEDPostprocessing(threshold: 0.5))
        XCTAssertLessThan(higher, full)
        XCTAssertThrowsError(try HEDPostprocessing(suppressionRadius: 0).lines(probability: probability))
        XCTAssertThrowsError(try HEDPostprocessing().lines(probability: probability.unsqueezed(0)))
    }

    func testNonMaximumSuppressionKeepsTheRidge() {
        // A vertical ridge three columns wide: only its centre column survives, and nothing
        // within the faded border band.
        let (w, h) = (21, 15)
        var map = [Float](repeating: 0, count: w * h)
        for y in 0 ..< h { for (dx, v) in [(-1, 0.5), (0, 0.9), (1, 0.5)] as [(Int, Float)] { map[y * w + 10 + dx] = v } }
        let nms = EdgeNMS(orientationSmoothing: 4, radius: 1, margin: 1.01, boundary: 5, width: w, height: h)
        let out = nms.suppressed(map)
        for y in 0 ..< h {
            for x in 0 ..< w {
                let expected: Float = x == 10 ? 0.9 * min(1, Float(min(y, h - 1 - y)) / 5) : 0
                XCTAssertEqual(out[y * w + x], expected, accuracy: 1e-6, "(\(x), \(y))")
            }
        }
    }

    // MARK: XDoG and Canny

    func testXDoGOnPhoto() throws {
        let photo = try photo()
        let sketch = try XDoGSketch().sketch(photo)
        XCTAssertEqual([sketch.height, sketch.width, sketch.channels], [126, 190, 1])
        let v = values(sketch)
        XCTAssertTrue(v.allSatisfy { (0 ... 1).contains($0) })
        let lines = lineFraction(sketch)
        XCTAssertGreaterThan(lines, 0.08)
        XCTAssertLessThan(lines, 0.16)
        XCTAssertEqual(values(try XDoGSketch().sketch(photo)), v, "XDoG must be deterministic")
        XCTAssertGreaterThan(lineFraction(try XDoGSketch(epsilon: 0).sketch(photo)), lines, "a higher ε draws more")
        XCTAssertThrowsError(try XDoGSketch(sigma: 0).sketch(photo))
    }

    func testCannyOnPhoto() throws {
        let photo = try photo()
        let sketch = try CannySketch().sketch(photo)
        XCTAssertEqual([sketch.height, sketch.width, sketch.channels], [126, 190, 1])
        let v = values(sketch)
        XCTAssertTrue(v.allSatisfy { $0 == 0 || $0 == 1 }, "Canny sketches are binary")
        let lines = lineFraction(sketch)
        XCTAssertGreaterThan(lines, 0.11)
        XCTAssertLessThan(lines, 0.20)
        XCTAssertEqual(values(try CannySketch().sketch(photo)), v, "Canny must be deterministic")
        XCTAssertGreaterThan(lineFraction(try CannySketch(blurSigma: nil).sketch(photo)), lines, "blur removes texture")
        XCTAssertThrowsError(try CannySketch(lowThreshold: 100, highThreshold: 50).sketch(photo))
        XCTAssertThrowsError(try CannySketch(blurSigma: 0).sketch(photo))
    }

    func testFlatPhotoHasNoLines() throws {
        let flat = Image.filled(width: 40, height: 30, value: 0.3)
        for extractor in [XDoGSketch(), CannySketch()] as [any SketchExtractor] {
            XCTAssertEqual(lineFraction(try extractor.sketch(flat)), 0, "\(extractor)")
        }
    }

    // MARK: Methods and weights files

    func testSketchMethods() throws {
        XCTAssertEqual(SketchMethod.allCases.map(\.rawValue), ["hed", "xdog", "canny"])
        let decoded = try JSONDecoder().decode([SketchMethod].self, from: JSONEncoder().encode(SketchMethod.allCases))
        XCTAssertEqual(decoded, SketchMethod.allCases)
        XCTAssertTrue(try SketchMethod.xdog.makeExtractor() is XDoGSketch)
        XCTAssertTrue(try SketchMethod.canny.makeExtractor() is CannySketch)
        XCTAssertTrue(try SketchMethod.hed.makeExtractor() is HEDSketch)
    }

    func testWeightsPathResolution() {
        let variable = HEDWeights.environmentVariable
        XCTAssertEqual(variable, "SKETCH2REAL_HED_WEIGHTS")
        XCTAssertEqual(HEDWeights.resolvePath("/a.safetensors", environment: [variable: "/b.safetensors"]), "/a.safetensors")
        XCTAssertEqual(HEDWeights.resolvePath(nil, environment: [variable: "/b.safetensors"]), "/b.safetensors")
        XCTAssertEqual(HEDWeights.resolvePath(nil, environment: [variable: ""]), HEDWeights.defaultPath)
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        XCTAssertEqual(HEDWeights.defaultPath, root.appendingPathComponent(".cache/weights/hed_bsds500.safetensors").path)
    }

    func testMissingWeightsFileSaysToRunBootstrap() {
        let path = temporaryFolder() + "/missing.safetensors"
        XCTAssertThrowsError(try HEDSketch(weightsPath: path)) { error in
            XCTAssertEqual("\(error)", "HED weights not found at \(path): run scripts/bootstrap to download and "
                + "convert them, or set SKETCH2REAL_HED_WEIGHTS to a converted hed_bsds500.safetensors")
        }
        XCTAssertThrowsError(try SketchMethod.hed.makeExtractor(hedWeights: path)) { error in
            XCTAssertTrue("\(error)".hasPrefix("HED weights not found at \(path)"), "\(error)")
        }
    }

    func testUnusableWeightsFilesAreRefusedClearly() throws {
        let folder = temporaryFolder()
        let corrupt = folder + "/corrupt.safetensors"
        try Data((0 ..< 4096).map { UInt8(truncatingIfNeeded: $0 &* 7919) }).write(to: URL(fileURLWithPath: corrupt))
        XCTAssertThrowsError(try HEDSketch(weightsPath: corrupt)) { error in
            let text = "\(error)"
            XCTAssertTrue(text.hasPrefix("cannot read HED weights: \(corrupt): not a safetensors file"), text)
            XCTAssertTrue(text.hasSuffix("delete it and run scripts/bootstrap to convert the HED weights again"), text)
        }

        let truncated = folder + "/truncated.safetensors"
        let real = try Data(contentsOf: URL(fileURLWithPath: HEDWeights.defaultPath), options: .alwaysMapped)
        try real.prefix(200_000).write(to: URL(fileURLWithPath: truncated))
        XCTAssertThrowsError(try HEDSketch(weightsPath: truncated)) { error in
            XCTAssertTrue("\(error)".contains("truncated"), "\(error)")
        }

        let foreign = folder + "/foreign.safetensors"
        try SafeTensors(tensors: [("generator.0.weight", Tensor.zeros([4, 3, 3, 3]))]).save(path: foreign)
        XCTAssertThrowsError(try HEDSketch(weightsPath: foreign)) { error in
            let text = "\(error)"
            XCTAssertTrue(text.hasPrefix("\(foreign) does not hold HED weights (weights do not match the model: "
                + "missing 38 tensor(s): block1.conv1.bias"), text)
            XCTAssertTrue(text.contains("unexpected 1 tensor(s): generator.0.weight"), text)
        }

        let reshaped = folder + "/reshaped.safetensors"
        var tensors = HEDNetwork().stateDict().map { (name: $0.0, tensor: $0.1) }
        tensors[tensors.firstIndex { $0.name == "fuse.weight" }!].tensor = Tensor.zeros([1, 6, 1, 1])
        try SafeTensors(tensors: tensors).save(path: reshaped)
        XCTAssertThrowsError(try HEDSketch(weightsPath: reshaped)) { error in
            XCTAssertTrue("\(error)".contains("fuse.weight has shape [1, 6, 1, 1] in the file but [1, 5, 1, 1] in the model"),
                          "\(error)")
        }

        XCTAssertThrowsError(try HEDSketch(weightsPath: folder)) { error in
            XCTAssertEqual("\(error)", "\(folder) is a folder, not a HED weights file")
        }
    }
}
