import Foundation
import NN
import Torch
import XCTest
@testable import Sketch2Real

/// evaluate and compare on trained runs, end to end.
extension EvaluationTests {
    // MARK: End to end

    /// Puts a quickly trained palette classifier where evaluation looks for the default one, so
    /// that end-to-end tests do not spend seconds training the full-size classifier.
    func installSmallClassifier(in cache: String) throws {
        let trained = try PaletteClassifier.trained(modes: 4, training: Self.smallClassifier, cacheFolder: cache + "/small")
        try FileManager.default.copyItem(atPath: trained.cachePath,
                                         toPath: cache + "/\(PaletteClassifier.Training().cacheName)-k4.safetensors")
    }

    /// A tiny synthetic data set and an untrained exported model.
    func syntheticSetup() throws -> (data: String, model: String, folder: String) {
        let folder = makeTemporaryFolder(self)
        try SyntheticDataset.write(count: 48, modes: 4, size: 32, outputFolder: folder + "/data", seed: 1,
                                   split: .init(train: 0.5, validation: 0.25, test: 0.25))
        var config = TrainingConfig.defaults(for: .pix2pix, size: 32)
        config.pix2pix.architecture = .resnet6
        config.pix2pix.ngf = 4
        config.data.inputChannels = 1
        config.syncChannels()
        Torch.manualSeed(1)
        let generator = try GeneratorFile.make(config)
        try GeneratorFile.export(generator, config: config, to: folder + "/tiny.safetensors")
        return (folder + "/data", folder + "/tiny.safetensors", folder)
    }

    /// A one-palette synthetic set has no modes to cover: evaluation reports none instead of failing.
    func testOnePaletteSyntheticDataSkipsModeCoverage() throws {
        let setup = try syntheticSetup()
        let data = setup.folder + "/one"
        try SyntheticDataset.write(count: 8, modes: 1, size: 32, outputFolder: data, seed: 2,
                                   split: .init(train: 0.5, validation: 0.25, test: 0.25))
        var settings = EvaluationSettings()
        settings.kidSubsets = 2
        settings.classifierCache = setup.folder + "/classifiers"
        let (report, _) = try Evaluator(dataRoot: data, settings: settings).evaluate([try EvaluatedModel.load(setup.model)])
        XCTAssertNil(report.models[0].knownModes)
        XCTAssertNil(report.classifier)
    }

    func testEvaluatorOnSyntheticDataWithOneToOneAndMultimodalModels() throws {
        let setup = try syntheticSetup()
        let loaded = try EvaluatedModel.load(setup.model)
        // A stand-in multimodal model: the colour of its output is drawn from the latent seed.
        let multimodal = EvaluatedModel(name: "colours", source: "test", inputChannels: 1, stride: 4, trainingSize: 32,
                                        translate: { $0.expand([$0.size(0), 3, $0.size(2), $0.size(3)]).contiguous() },
                                        sample: { sketch, seed in
                                            let c = LatentCodes.standardNormal(count: 3, stream: seed).map { Swift.max(-1, Swift.min(1, $0 / 2)) }
                                            return (sketch.expand([1, 3, 32, 32]) * 0.2 + Tensor(c, shape: [1, 3, 1, 1])).contiguous()
                                        })
        var settings = EvaluationSettings()
        settings.samplesPerInput = 4
        settings.diversityInputs = 2
        settings.kidSubsets = 5
        settings.classifierCache = setup.folder + "/classifiers"
        try installSmallClassifier(in: settings.classifierCache!)
        let evaluator = try Evaluator(dataRoot: setup.data, settings: settings)
        let (report, pictures) = try evaluator.evaluate([loaded, multimodal])
        XCTAssertEqual(report.pairs, 12)
        XCTAssertEqual(report.sketches, 3, "the four colourings of a scene share one sketch")
        XCTAssertEqual(pictures.rows.count, 3)
        XCTAssertEqual(pictures.rows.map { $0.outputs.map(\.count) }, [[1, 4], [1, 4], [1, 4]],
                       "grids show more sketches than diversity samples")
        let one = report.models[0], many = report.models[1]
        XCTAssertNil(one.metrics.first { $0.key == "encoded_l1" }, "no encoder, no encoded path")
        XCTAssertNil(one.diversity)
        XCTAssertEqual(one.metrics.first { $0.key == "diversity_lpips_style_hed_vgg16" }?.text, "n/a (one-to-one model)")
        XCTAssertEqual(many.diversity?.pairs, 2 * 3)
        XCTAssertGreaterThan(many.diversity?.mean ?? 0, 0)
        XCTAssertEqual(one.knownModes?.samplesPerSketch, 1)
        XCTAssertLessThanOrEqual(one.knownModes?.modesReachedPerSketch ?? 1, 0.25)
        XCTAssertEqual(many.knownModes?.samplesPerSketch, 4)
        XCTAssertEqual(one.ndb?.generatedCount, 3)
        XCTAssertEqual(many.ndb?.generatedCount, 8)
        XCTAssertEqual(many.knownModes?.sketches, 2)
        XCTAssertEqual(one.ndb?.bins, 2, "24 training targets, at least 10 per bin")
        XCTAssertEqual(one.realism.map(\.network), ["HED-VGG16"])
        XCTAssertEqual(one.realism[0].realCount, 12)
        let labels = one.metrics.map(\.label)
        XCTAssertTrue(labels.contains("FD (HED-VGG16)") && labels.contains("KID (HED-VGG16)") && labels.contains("LPIPS-style (HED-VGG16)"))
        XCTAssertFalse(labels.contains { $0.contains("FID") || $0 == "LPIPS" }, "\(labels)")
        XCTAssertNotNil(report.classifier)
    }

    func testEvalAndCompareCommandsWriteSelfContainedReports() throws {
        let setup = try syntheticSetup()
        let out = setup.folder + "/report"
        let common = ["--data", setup.data, "--out", out, "--kid-subsets", "5", "--classifier-cache", setup.folder + "/classifiers"]
        var r = try runProgram(["eval", "--model", setup.model] + common + ["--inception-weights", setup.folder + "/none.safetensors"])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.error.contains("--inception-weights"), r.error)
        try installSmallClassifier(in: setup.folder + "/classifiers")
        try FileManager.default.copyItem(atPath: setup.model, toPath: setup.folder + "/twin.safetensors")
        r = try runProgram(["compare", setup.model, setup.folder + "/twin.safetensors"] + common)
        XCTAssertEqual(r.status, 0, r.error + r.output)
        XCTAssertTrue(r.output.contains("FD (HED-VGG16)"), r.output)
        let html = try String(contentsOfFile: out + "/report.html", encoding: .utf8)
        XCTAssertTrue(html.contains("data:image/png;base64,"))
        XCTAssertFalse(html.contains("http://") || html.contains("https://") || html.contains("src=\"/") || html.contains("<link"),
                       "the report must not load anything from outside")
        XCTAssertTrue(html.contains("LPIPS-style (HED-VGG16)") && html.contains("tiny") && html.contains("twin"))
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/metrics.json"))) as! [String: Any]
        let models = json["models"] as! [[String: Any]]
        XCTAssertEqual(models.count, 2)
        let settings = json["settings"] as! [String: Any]
        XCTAssertEqual(settings["seed"] as? Int, 0)
        XCTAssertEqual(settings["kidSubsets"] as? Int, 5)
        XCTAssertNotNil((json["definitions"] as! [String: String])["FD (HED-VGG16)"])
        XCTAssertTrue(FileManager.default.fileExists(atPath: out + "/grid.png"))
        // Identical models tie everywhere, so no column names a best one.
        XCTAssertFalse(html.contains("★</td>"), "ties must not be marked best")
    }

    /// `--baselines` adds grey, the mean colour and the nearest training photo; evaluating the
    /// train split itself leaves the last out and says why.
    func testBaselinesIncludeTheNearestTrainingPhoto() throws {
        let setup = try syntheticSetup()
        try installSmallClassifier(in: setup.folder + "/classifiers")
        let common = ["eval", "--model", setup.model, "--data", setup.data, "--kid-subsets", "2",
                      "--classifier-cache", setup.folder + "/classifiers", "--baselines", "--max-pairs", "4"]
        func names(_ out: String) throws -> [String] {
            let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/metrics.json"))) as! [String: Any]
            return (json["models"] as! [[String: Any]]).map { $0["name"] as! String }
        }
        var r = try runProgram(common + ["--out", setup.folder + "/test"])
        XCTAssertEqual(r.status, 0, r.error + r.output)
        XCTAssertEqual(try names(setup.folder + "/test"), ["tiny", "constant grey", "mean colour", "nearest training photo"])
        r = try runProgram(common + ["--out", setup.folder + "/train", "--split", "train"])
        XCTAssertEqual(r.status, 0, r.error + r.output)
        XCTAssertEqual(try names(setup.folder + "/train"), ["tiny", "constant grey", "mean colour"])
        XCTAssertTrue((r.output + r.error).contains("no nearest-training-photo baseline: the evaluated split is train itself"), r.output + r.error)
    }
}
