import Foundation
import NN
import Torch
import XCTest
@testable import Sketch2Real

/// The models in models/ load, agree with the PyTorch reference definitions on committed outputs,
/// follow the sketch, and (LSRAGAN) vary with the latent code.
final class BundledModelTests: XCTestCase {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path
    static var models: String { root + "/models" }
    static var examples: String { root + "/examples" }

    func loadTranslation() throws -> (any SketchToImageGenerator, TrainingConfig) {
        try GeneratorFile.load(Self.models + "/" + BundledModels.translation)
    }

    func loadSampling() throws -> MultimodalModel {
        try GeneratorFile.loadMultimodal(Self.models + "/" + BundledModels.sampling)
    }

    func reference() throws -> SafeTensors {
        let url = try XCTUnwrap(Bundle.module.url(forResource: "reference", withExtension: "safetensors", subdirectory: "Fixtures/bundled"),
                                "run Tests/Fixtures/make_bundled_reference.py")
        return try SafeTensors.load(path: url.path)
    }

    /// The demo's preparation of an example: grey, 256² → 128² by area averaging, in [-1, 1].
    func exampleInput(_ name: String, size: Int) throws -> Tensor {
        try DemoGallery.prepare(try Image.load(path: "\(Self.examples)/\(name).png"), size: size).tensor()
    }

    func testBundledModelsAreSmallFloat16FilesWithModelCards() throws {
        for name in [BundledModels.translation, BundledModels.sampling, BundledModels.synthetic] {
            let path = Self.models + "/" + name
            let size = try XCTUnwrap(FileManager.default.attributesOfItem(atPath: path)[.size] as? Int)
            XCTAssertLessThanOrEqual(size, 25_000_000, name)
            let file = try SafeTensors.load(path: path)
            XCTAssertTrue(file.tensors.allSatisfy { $0.tensor.dtype == DType.float16 || $0.tensor.dtype == DType.int64 }, "\(name) stores float16 weights (and int64 batch counters)")
            let card = path.replacingOccurrences(of: ".safetensors", with: ".md")
            XCTAssertTrue(FileManager.default.fileExists(atPath: card), "model card \(card)")
        }
        let (_, config) = try loadTranslation()
        XCTAssertEqual(config.model, .sragan)
        let multimodal = try loadSampling()
        XCTAssertEqual(multimodal.config.model, .lsragan)
        XCTAssertNotNil(multimodal.encoder, "the LSRAGAN ships with its encoder E")
        let synthetic = try loadSynthetic()
        XCTAssertEqual(synthetic.config.model, .lsragan)
        XCTAssertNotNil(synthetic.encoder, "the synthetic LSRAGAN ships with its encoder E")
        let card = try String(contentsOfFile: Self.models + "/lsragan-synthetic.md", encoding: .utf8)
        XCTAssertTrue(card.contains("synthetic"), "the card says the model is synthetic")
    }

    /// `eval` reports the encoded path of a model with an encoder: the synthetic model, given E's
    /// code of a held-out render, draws that render's palette far closer than a random code does.
    func testEvalReportsTheEncodedPathBelowTheRandomCodesL1() throws {
        let folder = makeTemporaryFolder(self)
        try SyntheticDataset.write(count: 32, modes: 8, size: 128, outputFolder: folder + "/data", seed: 77,
                                   split: .init(train: 0.5, validation: 0, test: 0.5))
        // Plain aligned pairs: without the manifest, no palette classifier is trained.
        for file in ["manifest.jsonl", "dataset.json"] { try? FileManager.default.removeItem(atPath: folder + "/data/" + file) }
        var settings = EvaluationSettings()
        settings.kidSubsets = 2
        settings.samplesPerInput = 2
        settings.diversityInputs = 1
        let model = try EvaluatedModel.load(Self.models + "/" + BundledModels.synthetic)
        XCTAssertNotNil(model.encoded)
        let (report, _) = try Evaluator(dataRoot: folder + "/data", settings: settings).evaluate([model])
        let metrics = Dictionary(uniqueKeysWithValues: report.models[0].metrics.map { ($0.key, $0.value ?? .nan) })
        let encoded = try XCTUnwrap(metrics["encoded_l1"]), random = try XCTUnwrap(metrics["l1"])
        XCTAssertEqual(report.pairs, 16)
        XCTAssertLessThan(encoded, 0.7 * random, "E's code carries the palette: encoded \(encoded), random \(random)")
    }

    func loadSynthetic() throws -> MultimodalModel {
        try GeneratorFile.loadMultimodal(Self.models + "/" + BundledModels.synthetic)
    }

    /// The synthetic-landscape model turns one clean line drawing into clearly different,
    /// colourful images (it was trained on 8 palettes), not one grey answer.
    func testTheSyntheticModelDrawsALineDrawingInDifferentPalettes() throws {
        let model = try loadSynthetic()
        let sampler = MultimodalSampler(model: model)
        let sketch = try DemoGallery.prepare(try Image.load(path: "\(Self.examples)/mountain-lake.png"), size: model.config.data.preprocess.cropSize)
        let images = try sampler.images(for: sketch, codes: LatentCodes.tensor(seed: 0, sketch: 0, count: 6, size: sampler.latentChannels))
        let tensors = images.map { $0.tensor() }
        var distances: [Double] = []
        for i in 0 ..< tensors.count {
            for j in i + 1 ..< tensors.count { distances.append((tensors[i] - tensors[j]).abs().mean().item()) }
        }
        let meanDistance = distances.reduce(0, +) / Double(distances.count)
        XCTAssertGreaterThan(meanDistance, 0.1, "variations differ: mean pairwise L1 on [-1, 1]")
        for t in tensors {
            let spread: Double = t.std().item()
            XCTAssertGreaterThan(spread, 0.15, "an image with content, not a flat fill")
        }
    }

    func testOutputsMatchThePyTorchReference() throws {
        let ref = try reference()
        let (sragan, config) = try loadTranslation()
        let lsragan = try loadSampling()
        let codes = try XCTUnwrap(ref["codes"])
        for name in (ref.metadata["examples"] ?? "").split(separator: ",").map(String.init) {
            let input = try exampleInput(name, size: config.data.preprocess.cropSize)
            let storedInput = try XCTUnwrap(ref[name + ".input"])
            // 256² → 128² by area: each pixel averages four 8-bit values.
            compare(input, storedInput, slack: 0, reductionLength: 4, "\(name): the demo prepares the sketch as the reference does")
            let y = withNoGrad { sragan.translate(storedInput) }
            let expected = try XCTUnwrap(ref[name + ".sragan"])
            XCTAssertEqual(y.shape, expected.shape)
            compare(y, expected, slack: 0, reductionLength: reductionLength(sragan, storedInput), "\(name): SRAGAN output")
            // The grey sketch in each of the model's sketch channels, as translate and sample give it.
            let batch = storedInput.expand([codes.size(0), lsragan.generator.inputChannels, 128, 128])
            let ys = withNoGrad { lsragan.generator.generate(batch, z: codes) }
            compare(ys, try XCTUnwrap(ref[name + ".lsragan"]), slack: 0, reductionLength: reductionLength(lsragan.generator, batch),
                    "\(name): LSRAGAN outputs")
        }
    }

    static func edges(_ image: Tensor) -> Tensor { EdgeCorrelation.edges(image) }
    static func lines(_ sketch: Tensor) -> Tensor { EdgeCorrelation.lines(sketch) }
    static func correlation(_ a: Tensor, _ b: Tensor) -> Double { EdgeCorrelation.pearson(a, b) }

    func testOutputsFollowTheSketch() throws {
        let (sragan, config) = try loadTranslation()
        let lsragan = try loadSampling()
        let names = try DemoGallery.examples(in: Self.examples).map { ($0.file as NSString).deletingPathExtension }
        XCTAssertGreaterThanOrEqual(names.count, 6)
        let inputs = try names.map { try exampleInput($0, size: config.data.preprocess.cropSize) }
        let z = Tensor.zeros([1, lsragan.generator.latentChannels])
        // Required margins over the shuffled pairing. Measured with the committed models:
        // SRAGAN 0.457 vs 0.035, LSRAGAN (z = 0) 0.399 vs 0.046.
        for (label, margin, generate) in [("SRAGAN", 0.3, { (x: Tensor) in sragan.translate(x) }),
                                          ("LSRAGAN", 0.25, { (x: Tensor) in
                                              lsragan.generator.generate(x.expand([x.size(0), lsragan.generator.inputChannels, x.size(2), x.size(3)]), z: z) })] {
            let outputs = withNoGrad { inputs.map(generate) }
            var matched: [Double] = [], shuffled: [Double] = []
            for i in outputs.indices {
                let e = Self.edges(outputs[i])
                // Not constant: pixels spread and edges exist.
                XCTAssertGreaterThan(outputs[i].std().item() as Double, 0.05, "\(label) \(names[i]) is not flat")
                matched.append(Self.correlation(e, Self.lines(inputs[i])))
                shuffled.append(Self.correlation(e, Self.lines(inputs[(i + 1) % inputs.count])))
            }
            let m = matched.reduce(0, +) / Double(matched.count), s = shuffled.reduce(0, +) / Double(shuffled.count)
            print(String(format: "%@: edge/line correlation with its own sketch %.3f, with another example's sketch %.3f (%d examples)",
                         label, m, s, names.count))
            reportLearningMargin("bundled \(label) follows the sketch", "edge correlation own − other", value: m - s, threshold: margin, above: true)
            XCTAssertGreaterThan(m, s + margin, "\(label) edges follow the sketch's lines")
            XCTAssertGreaterThan(zip(matched, shuffled).filter { $0 > $1 }.count, matched.count * 3 / 4, "\(label): most examples")
        }
    }

    func testVariationsOfOneSketchDiffer() throws {
        let lsragan = try loadSampling()
        let input = try exampleInput("mountain-lake", size: lsragan.config.data.preprocess.cropSize)
        Torch.manualSeed(learningSeed(3))
        let sampler = MultimodalSampler(model: lsragan)
        let samples = try sampler.tensors(for: Image(tensor: input), codes: sampler.randomCodes(6))
        let diversity = PixelDiversity.meanPairwiseL1(Tensor.cat(samples, dim: 0))
        print(String(format: "LSRAGAN: mean pairwise L1 between 6 variations of one sketch %.4f (images in [-1, 1])", diversity))
        // Measured with the committed model: 0.343.
        reportLearningMargin("bundled LSRAGAN variations", "mean pairwise L1", value: diversity, threshold: 0.2, above: true)
        XCTAssertGreaterThan(diversity, 0.2)
        for i in 0 ..< samples.count {
            for j in i + 1 ..< samples.count {
                XCTAssertGreaterThan((samples[i] - samples[j]).abs().mean().item() as Double, 0.01, "variations \(i) and \(j) differ")
            }
        }
    }

    func testDemoWritesEveryExampleAndReportsABadOne() throws {
        let (sragan, config) = try loadTranslation()
        var gallery = DemoGallery(translator: sragan, sampler: MultimodalSampler(model: try loadSampling()),
                                  size: config.data.preprocess.cropSize)
        gallery.variations = 2
        gallery.synthetic = MultimodalSampler(model: try loadSynthetic())
        let examples = try DemoGallery.examples(in: Self.examples)
        XCTAssertEqual(examples.count, 9)
        XCTAssertTrue(examples.allSatisfy { !$0.credit.isEmpty }, "every example is credited")
        let folder = makeTemporaryFolder(self)
        try Data("not a png".utf8).write(to: URL(fileURLWithPath: folder + "/broken.png"))
        let out = folder + "/out"
        let listed = Array(examples.prefix(2)) + [DemoExample(file: "broken.png", title: "broken", credit: "")]
        // The two examples come from examples/, the broken one from the temporary folder.
        for e in examples.prefix(2) {
            try FileManager.default.copyItem(atPath: "\(Self.examples)/\(e.file)", toPath: "\(folder)/\(e.file)")
        }
        let report = try gallery.run(examples: listed, folder: folder, out: out, log: { _ in })
        XCTAssertEqual(report.examples, 2)
        XCTAssertEqual(report.variations, 8, "two from each multimodal model for each of two sketches")
        XCTAssertEqual(report.failures.count, 1)
        XCTAssertTrue(report.failures[0].hasPrefix("broken.png: "), report.failures[0])
        let stem = (examples[0].file as NSString).deletingPathExtension
        for name in ["\(stem)_sketch.png", "\(stem)_sragan.png", "\(stem)_lsragan_00.png", "\(stem)_lsragan_01.png",
                     "\(stem)_synthetic_00.png", "\(stem)_synthetic_01.png"] {
            let image = try Image.load(path: "\(out)/\(name)")
            XCTAssertEqual([image.width, image.height], [128, 128], name)
        }
        let page = try String(contentsOfFile: report.page, encoding: .utf8)
        XCTAssertEqual(page.components(separatedBy: "<tr><td>").count - 1, 2, "one row per drawn example")
        XCTAssertTrue(page.contains(HTMLText.escape(examples[0].credit)))
        XCTAssertTrue(page.contains("LSRAGAN, synthetic landscapes (not photos)"), "the synthetic column is labelled")
    }

    func testTranslateAndSampleUseTheBundledModelsByDefault() throws {
        setenv(BundledModels.environmentKey, Self.models, 1)
        defer { unsetenv(BundledModels.environmentKey) }
        XCTAssertEqual(try BundledModels.path(BundledModels.translation), Self.models + "/" + BundledModels.translation)
        setenv(BundledModels.environmentKey, "/nonexistent-models", 1)
        XCTAssertThrowsError(try BundledModels.path(BundledModels.sampling)) { error in
            XCTAssertEqual("\(error)", "no model given and the bundled model lsragan-landscapes.safetensors is not in /nonexistent-models; pass --model FILE or set SKETCH2REAL_MODELS")
        }
    }
}
