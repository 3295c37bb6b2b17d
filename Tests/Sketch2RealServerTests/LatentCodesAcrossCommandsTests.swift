import Foundation
import Sketch2Real
import Torch
import XCTest
@testable import Sketch2RealServer

/// `LatentCodes` is the one source of codes: a seed gives the same variations of a sketch in
/// `sample`, `eval`, `demo` and the studio.
final class LatentCodesAcrossCommandsTests: XCTestCase {
    func testOneSeedGivesTheSameCodesInSampleEvalDemoAndTheStudio() throws {
        let folder = makeTemporaryFolder(self)
        try writeTinyModels(to: folder)
        let path = folder + "/tiny-lsragan.safetensors"
        let model = try GeneratorFile.loadMultimodal(path)
        let sampler = MultimodalSampler(model: model)
        let nz = sampler.latentChannels
        let seed: UInt64 = 11
        let sketches = folder + "/sketches"
        try FileManager.default.createDirectory(atPath: sketches, withIntermediateDirectories: true)
        try Data(try sketchBytes()).write(to: URL(fileURLWithPath: sketches + "/a.png"))
        try Data(try sketchBytes(width: 40, height: 32)).write(to: URL(fileURLWithPath: sketches + "/b.png"))
        let expected = LatentCodes.rows(seed: seed, sketch: 1, count: 3, size: nz)
        XCTAssertNotEqual(expected, LatentCodes.rows(seed: seed, sketch: 0, count: 3, size: nz))
        XCTAssertEqual(LatentCodes.rows(seed: seed, sketch: 1, count: 5, size: nz).prefix(3).map { $0 }, expected, "more codes keep the first ones")

        // sample: codes.json lists the codes of every sketch.
        var options = SampleOptions()
        options.count = 3
        options.seed = seed
        _ = try SampleGallery(model: model, modelName: "tiny", options: options, folder: folder + "/sample")
            .run(inputs: [sketches + "/a.png", sketches + "/b.png"], log: { _ in }, warn: { XCTFail($0) })
        let record = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: folder + "/sample/codes.json"))) as! [String: Any]
        let written = ((record["codes"] as! [String: Any])["b.png"] as! [[NSNumber]]).map { $0.map(\.floatValue) }
        XCTAssertEqual(written.count, 3)
        for (w, e) in zip(written, expected) { for (a, b) in zip(w, e) { XCTAssertEqual(a, b, accuracy: 1e-6) } }

        // The studio: a request's codes are sketch 0's.
        XCTAssertEqual(CodeSource.random(count: 3).codes(size: nz, seed: seed), LatentCodes.rows(seed: seed, sketch: 0, count: 3, size: nz))

        // eval: sample k of the split's i-th sketch is drawn with stream (seed, i, k).
        let evaluated = try EvaluatedModel.load(path)
        let x = try Translator.networkInput(try Image.load(path: sketches + "/b.png"), channels: model.generator.inputChannels, stride: model.generator.stride).tensor
        let fromEval = withNoGrad { evaluated.sample!(x, LatentCodes.stream(seed: seed, sketch: 1, sample: 2)) }
        let direct = withNoGrad { model.generator.generate(x, z: Tensor(expected[2], shape: [1, nz])) }
        XCTAssertEqual((fromEval - direct).abs().max().item() as Double, 0)

        // demo: variation k of the i-th example.
        let one = try GeneratorFile.load(folder + "/tiny-sragan.safetensors").generator
        var demo = DemoGallery(translator: one, sampler: sampler, size: 32)
        demo.variations = 3
        demo.seed = seed
        let report = try demo.run(examples: try DemoGallery.examples(in: sketches), folder: sketches, out: folder + "/demo", log: { _ in })
        XCTAssertEqual(report.failures, [])
        let prepared = try DemoGallery.prepare(try Image.load(path: sketches + "/b.png"), size: 32)
        let mine = try sampler.images(for: prepared, codes: Tensor(expected.flatMap { $0 }, shape: [3, nz]))
        for k in 0 ..< 3 {
            let saved = try Image.load(path: folder + String(format: "/demo/b_lsragan_%02d.png", k))
            // The saved file holds 8-bit values: compare at that precision.
            let a = saved.pixels.to(.float32) * 255.0, b = (mine[k].pixels.to(.float32) * 255.0).rounded()
            XCTAssertEqual(a.shape, b.shape)
            XCTAssertLessThanOrEqual((a - b).abs().max().item() as Double, 0.01, "demo variation \(k)")
        }
    }
}
