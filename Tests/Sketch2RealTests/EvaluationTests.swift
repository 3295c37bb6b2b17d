import Foundation
import NN
import Torch
import XCTest
@testable import Sketch2Real

/// Every evaluation metric against an independent reference: scikit-image, scipy and numpy
/// values, PyTorch and torchvision computations written by Tests/Fixtures/make_metric_fixtures.py,
/// and closed-form cases.
final class EvaluationTests: XCTestCase {
    static let fixtures: [String: Tensor] = {
        guard let url = Bundle.module.url(forResource: "metrics", withExtension: "safetensors", subdirectory: "Fixtures"),
              let file = try? SafeTensors.load(path: url.path) else {
            fatalError("metrics.safetensors is missing; run Tests/Fixtures/make_metric_fixtures.py")
        }
        return file.dictionary
    }()

    static let fixtureMetadata: [String: String] = {
        let url = Bundle.module.url(forResource: "metrics", withExtension: "safetensors", subdirectory: "Fixtures")!
        return (try? SafeTensors.load(path: url.path).metadata) ?? [:]
    }()

    func fixture(_ name: String) -> Tensor {
        guard let t = Self.fixtures[name] else { fatalError("metrics.safetensors has no \(name)") }
        return t
    }

    func values(_ name: String) -> [Double] { fixture(name).toArray(Double.self) }

    /// HWC float32 fixture image → 1×C×H×W float64.
    func nchw(_ name: String) -> Tensor { fixture(name).to(.float64).permute(2, 0, 1).unsqueezed(0) }

    nonisolated(unsafe) static let lpips: LPIPSStyleDistance = {
        do { return try LPIPSStyleDistance() } catch { fatalError("\(error) (run scripts/bootstrap)") }
    }()

    // MARK: Fidelity

    func testSSIMMatchesScikitImage() throws {
        let expected = values("ssim.expected")
        for k in 0 ..< 3 {
            let ssim = try StructuralSimilarity(dataRange: 1)(nchw("ssim.a.\(k)"), nchw("ssim.b.\(k)"))
            XCTAssertEqual(ssim[0], expected[k], accuracy: 1e-9, "pair \(k)")
        }
        XCTAssertEqual(StructuralSimilarity().windowSize, 11)
    }

    func testSSIMOfIdenticalImagesIsOneAndRefusesSmallImages() throws {
        let a = nchw("ssim.a.0")
        XCTAssertEqual(try StructuralSimilarity()(a, a)[0], 1, accuracy: 1e-12)
        let small = Tensor.zeros([1, 3, 10, 30], dtype: .float64)
        XCTAssertThrowsError(try StructuralSimilarity()(small, small)) { error in
            XCTAssertTrue("\(error)".contains("at least 11×11"), "\(error)")
        }
    }

    func testPSNRMatchesScikitImage() {
        let expected = values("psnr.expected")
        for k in 0 ..< 3 {
            XCTAssertEqual(PixelMetrics.psnr(nchw("ssim.a.\(k)"), nchw("ssim.b.\(k)"))[0], expected[k], accuracy: 1e-9, "pair \(k)")
        }
    }

    func testPixelMetricsWorkOnSavedEightBitLevels() {
        let x = Tensor([-1, -0.999, 0, 1, 1.5] as [Float], shape: [1, 1, 1, 5])
        XCTAssertEqual(PixelMetrics.unitImages(x).toArray(Double.self), [0, 0, 128.0 / 255, 1, 1])
        let a = PixelMetrics.unitImages(Tensor.rand([2, 3, 8, 8]) * 2.0 - 1.0)
        XCTAssertEqual(PixelMetrics.l1(a, a), [0, 0])
        XCTAssertEqual(PixelMetrics.psnr(a, a), [PixelMetrics.maximumPSNR, PixelMetrics.maximumPSNR])
        XCTAssertEqual(PixelMetrics.l1(a, 1.0 - a)[0], (2.0 * a - 1.0).abs().select(dim: 0, index: 0).mean().item(), accuracy: 1e-12)
    }

    func testLPIPSStyleDistanceMatchesTorchReference() {
        let expected = values("lpips.expected")
        let d = Self.lpips(fixture("lpips.a"), fixture("lpips.b"))
        for k in 0 ..< 2 { XCTAssertEqual(d[k], expected[k], accuracy: 1e-5 * expected[k] + 1e-7, "pair \(k)") }
    }

    func testLPIPSStyleDistanceSanity() {
        let a = fixture("lpips.a")
        let b = fixture("lpips.b")
        for d in Self.lpips(a, a) { XCTAssertEqual(d, 0, accuracy: 1e-9) }
        let ab = Self.lpips(a, b), ba = Self.lpips(b, a)
        for k in 0 ..< 2 { XCTAssertEqual(ab[k], ba[k], accuracy: 1e-6 * ab[k]) }
        Torch.manualSeed(7)
        let noise = Tensor.randn(a.shape)
        let distances = [0.02, 0.1, 0.4].map { s in Self.lpips(a, (a + noise * s).clamp(min: -1, max: 1))[0] }
        XCTAssertLessThan(distances[0], distances[1])
        XCTAssertLessThan(distances[1], distances[2])
        XCTAssertEqual(LPIPSStyleDistance.name, "LPIPS-style (HED-VGG16)")
    }

    func testLPIPSHeadsFileIsCheckedAndNamed() throws {
        let folder = makeTemporaryFolder(self)
        XCTAssertThrowsError(try LPIPSHeads.load(path: folder + "/none.safetensors")) { error in
            XCTAssertTrue("\(error)".contains("scripts/bootstrap"), "\(error)")
        }
        try SafeTensors(tensors: [("lin0.model.1.weight", Tensor.ones([1, 64, 1, 1]))]).save(path: folder + "/partial.safetensors")
        XCTAssertThrowsError(try LPIPSHeads.load(path: folder + "/partial.safetensors")) { error in
            XCTAssertTrue("\(error)".contains("lin1.model.1.weight"), "\(error)")
        }
    }

    // MARK: Realism

    func testFrechetDistanceMatchesScipy() throws {
        let fd = try FrechetDistance.compute(try FeatureStatistics(features: fixture("fd.a")), try FeatureStatistics(features: fixture("fd.b")))
        let expected = values("fd.expected")[0]
        XCTAssertEqual(fd, expected, accuracy: 1e-9 * expected)
    }

    func testFrechetDistanceWithSingularCovariances() throws {
        let fd = try FrechetDistance.compute(try FeatureStatistics(features: fixture("fd.singular.a")),
                                             try FeatureStatistics(features: fixture("fd.singular.b")))
        let expected = values("fd.singular.expected")[0]
        XCTAssertEqual(fd, expected, accuracy: 1e-7 * expected)
    }

    func testFrechetDistanceOfOneSetWithItselfIsZero() throws {
        let s = try FeatureStatistics(features: fixture("fd.a"))
        XCTAssertEqual(try FrechetDistance.compute(s, s), 0, accuracy: 1e-9)
        XCTAssertThrowsError(try FeatureStatistics(features: Tensor.zeros([1, 4])))
    }

    func testKernelDistanceMatchesUnbiasedFormula() throws {
        let x = fixture("kid.x"), y = fixture("kid.y")
        let expected = values("kid.expected")[0]
        // With subsets as large as the sets, every draw holds all rows: each equals the formula.
        let kid = try KernelDistance.compute(x, y, subsets: 3, subsetSize: 1000, seed: 5)
        XCTAssertEqual(kid.subsetSize, 25)
        XCTAssertEqual(kid.mean, expected, accuracy: 1e-10)
        XCTAssertEqual(kid.std, 0, accuracy: 1e-10)
        XCTAssertEqual(KernelDistance.unbiasedMMD(x, y), expected, accuracy: 1e-10)
    }

    func testKernelDistanceSubsetsAreSeededAndDistinct() throws {
        let x = fixture("fd.a"), y = fixture("fd.b")
        let a = try KernelDistance.compute(x, y, subsets: 10, subsetSize: 20, seed: 1)
        let b = try KernelDistance.compute(x, y, subsets: 10, subsetSize: 20, seed: 1)
        let c = try KernelDistance.compute(x, y, subsets: 10, subsetSize: 20, seed: 2)
        XCTAssertEqual(a, b)
        XCTAssertNotEqual(a.mean, c.mean)
        XCTAssertGreaterThan(a.std, 0)
        var g = SplitMix64(seed: 3)
        let subset = KernelDistance.subset(of: 50, count: 20, using: &g)
        XCTAssertEqual(Set(subset).count, 20)
        XCTAssertTrue(subset.allSatisfy { (0 ..< 50).contains($0) })
    }

    // MARK: Mode coverage

    func testNDBAndJSDMatchReference() {
        let kmeans = KMeans(centroids: fixture("ndb.centroids"))
        let analysis = StatisticallyDifferentBins(kmeans: kmeans, realAssignments: kmeans.assign(fixture("ndb.real")))
        let result = analysis.evaluate(fixture("ndb.generated"))
        XCTAssertEqual(Double(result.differentBins), values("ndb.different")[0])
        XCTAssertEqual(result.jsd, values("ndb.jsd")[0], accuracy: 1e-12)
        for (a, b) in zip(result.realProportions, values("ndb.real_proportions")) { XCTAssertEqual(a, b, accuracy: 1e-12) }
        for (a, b) in zip(result.generatedProportions, values("ndb.generated_proportions")) { XCTAssertEqual(a, b, accuracy: 1e-12) }
        XCTAssertEqual(result.ndbOverK, values("ndb.different")[0] / 6, accuracy: 1e-12)
    }

    func testTwoProportionZTest() {
        // p1 = 0.5, p2 = 0.3 with 100 each: z = 0.2 / √(0.4·0.6·0.02) = 2.887 → p ≈ 0.0039.
        XCTAssertTrue(StatisticallyDifferentBins.differs(0.5, 100, 0.3, 100, significance: 0.05))
        // p1 = 0.5, p2 = 0.4 with 100 each: z = 1.429 → p ≈ 0.153.
        XCTAssertFalse(StatisticallyDifferentBins.differs(0.5, 100, 0.4, 100, significance: 0.05))
        XCTAssertFalse(StatisticallyDifferentBins.differs(0, 100, 0, 50, significance: 0.05))
        XCTAssertEqual(StatisticallyDifferentBins.jensenShannon([1, 0], [0, 1]), log(2), accuracy: 1e-12)
    }

    func testKMeansFindsSeparatedClustersReproducibly() throws {
        var rows: [Double] = []
        let centres: [[Double]] = [[0, 0], [10, 0], [0, 10]]
        var g = SplitMix64(seed: 11)
        for c in centres {
            for _ in 0 ..< 30 { rows += [c[0] + g.uniform(-1, 1), c[1] + g.uniform(-1, 1)] }
        }
        let points = Tensor(rows, shape: [90, 2])
        let a = try KMeans(points, clusters: 3, seed: 4)
        let b = try KMeans(points, clusters: 3, seed: 4)
        XCTAssertEqual(a.assignments, b.assignments)
        for blob in 0 ..< 3 {
            XCTAssertEqual(Set(a.assignments[(blob * 30) ..< (blob * 30 + 30)]).count, 1, "blob \(blob) split across clusters")
        }
        XCTAssertEqual(Set(a.assignments).count, 3)
        XCTAssertThrowsError(try KMeans(points.narrow(dim: 0, start: 0, length: 2), clusters: 3, seed: 0))
    }

    func testKnownModeCoverageByHand() throws {
        let m = try KnownModeCoverage(labels: [[0, 1, 2, 3], [0, 0, 0, 0]], modes: 4)
        XCTAssertEqual(m.modesReachedPerSketch, (1 + 0.25) / 2, accuracy: 1e-12)
        XCTAssertEqual(m.histogram, [5.0 / 8, 1.0 / 8, 1.0 / 8, 1.0 / 8])
        let kl = 5.0 / 8 * log(5.0 / 8 * 4) + 3 * (1.0 / 8 * log(1.0 / 8 * 4))
        XCTAssertEqual(m.klFromUniform, kl, accuracy: 1e-12)
        let uniform = try KnownModeCoverage(labels: [[0, 1], [2, 3]], modes: 4)
        XCTAssertEqual(uniform.klFromUniform, 0, accuracy: 1e-12)
        XCTAssertEqual(uniform.jsFromUniform, 0, accuracy: 1e-12)
        XCTAssertEqual(uniform.modesReachedPerSketch, 0.5)
        XCTAssertThrowsError(try KnownModeCoverage(labels: [[4]], modes: 4))
    }

    /// Few scenes and steps: enough to separate four palettes in a second or two.
    static let smallClassifier: PaletteClassifier.Training = {
        var training = PaletteClassifier.Training()
        training.trainScenes = 40
        training.validationScenes = 10
        training.renderSize = 32
        training.steps = 120
        training.batchSize = 32
        return training
    }()

    func testPaletteClassifierLearnsPalettesAndIsCached() throws {
        let cache = makeTemporaryFolder(self)
        var training = Self.smallClassifier
        training.seed = learningSeed(training.seed)
        let first = try PaletteClassifier.trained(modes: 4, training: training, cacheFolder: cache)
        XCTAssertFalse(first.fromCache)
        reportLearningMargin("palette classifier", "validation accuracy", value: first.validationAccuracy, threshold: 0.9, above: true)
        XCTAssertGreaterThanOrEqual(first.validationAccuracy, 0.9)
        let again = try PaletteClassifier.trained(modes: 4, training: training, cacheFolder: cache)
        XCTAssertTrue(again.fromCache)
        XCTAssertEqual(again.validationAccuracy, first.validationAccuracy)
        let scene = SyntheticScene(seed: 123_456)
        let images = Tensor.cat((0 ..< 4).map { scene.render(palette: $0, of: 4, size: 64).tensor() }, dim: 0)
        XCTAssertEqual(again.classifier.classify(images), first.classifier.classify(images))
    }

    // MARK: Diversity

    func testDiversityFollowsBicycleGANProtocol() throws {
        let sketches = [Tensor.zeros([1, 1, 32, 32]), Tensor.ones([1, 1, 32, 32]) * 0.5]
        var calls: [(Int, UInt64)] = []
        let varied: StochasticTranslation = { sketch, seed in
            calls.append((Int(sketch.mean().item() * 2), seed))
            var g = SplitMix64(seed: seed)
            let colour = Tensor((0 ..< 3).map { _ in Float(g.uniform(-0.9, 0.9)) }, shape: [1, 3, 1, 1])
            return (sketch.expand([1, 3, 32, 32]) * 0.1 + colour).contiguous()
        }
        let diversity = SampleDiversity(distance: Self.lpips, samplesPerInput: 5, seed: 9)
        var seen: [Int] = []
        let result = try diversity.measure(inputs: sketches, sample: varied) { i, samples in
            XCTAssertEqual(samples.count, 5)
            seen.append(i)
        }
        XCTAssertEqual(seen, [0, 1])
        XCTAssertEqual(result.pairs, 2 * 4)
        XCTAssertEqual(calls.count, 10)
        XCTAssertEqual(Set(calls.map(\.1)).count, 10, "every sample has its own seed")
        XCTAssertGreaterThan(result.mean, 0.01)
        let again = try diversity.measure(inputs: sketches, sample: varied)
        XCTAssertEqual(again.mean, result.mean, accuracy: 1e-12, "seeds make the number reproducible")
        let collapsed = try diversity.measure(inputs: sketches) { sketch, _ in sketch.expand([1, 3, 32, 32]).contiguous() }
        XCTAssertEqual(collapsed.mean, 0, accuracy: 1e-9)
    }

    func testLatentCodesAreSeededStandardNormal() {
        XCTAssertEqual(LatentCodes.standardNormal(count: 7, stream: 3), LatentCodes.standardNormal(count: 7, stream: 3))
        XCTAssertNotEqual(LatentCodes.standardNormal(count: 7, stream: 3), LatentCodes.standardNormal(count: 7, stream: 4))
        let many = LatentCodes.standardNormal(count: 20_000, stream: 1).map(Double.init)
        let mean = many.reduce(0, +) / Double(many.count)
        let variance = many.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(many.count)
        XCTAssertEqual(mean, 0, accuracy: 0.03)
        XCTAssertEqual(variance, 1, accuracy: 0.05)
    }

    // MARK: Reports

    func evaluation(_ name: String, l1: Double, ssim: Double, diversity: Double?) -> ModelEvaluation {
        let f = FidelityResult(pairs: 2, l1: l1, l1Std: 0, psnr: 20, psnrStd: 0, ssim: ssim, ssimStd: 0, lpipsStyle: 0.1, lpipsStyleStd: 0)
        let d = diversity.map { SampleDiversity.Result(mean: $0, std: 0, inputs: 1, samplesPerInput: 2, pairs: 1) }
        let metrics = Evaluator.metrics(fidelity: f, realism: [], diversity: d, multimodal: d != nil, ndb: nil, ndbNote: "n/a",
                                        knownModes: nil, inceptionVariant: nil)
        return ModelEvaluation(name: name, source: name, multimodal: d != nil, metrics: metrics, fidelity: f, realism: [],
                               diversity: d, ndb: nil, knownModes: nil, configuration: nil, seconds: 0)
    }

    func testMetricTableMarksBestByDirection() {
        let table = MetricTable([evaluation("a", l1: 0.2, ssim: 0.5, diversity: nil),
                                 evaluation("b", l1: 0.1, ssim: 0.4, diversity: 0.3),
                                 evaluation("c", l1: 0.3, ssim: 0.6, diversity: 0.2)])
        func column(_ key: String) -> Int { table.columns.firstIndex { $0.key == key }! }
        XCTAssertEqual(table.best(column: column("l1")), [1], "lower L1 wins")
        XCTAssertEqual(table.best(column: column("ssim")), [2], "higher SSIM wins")
        XCTAssertEqual(table.best(column: column("diversity_lpips_style_hed_vgg16")), [1], "one-to-one n/a is not a value")
        XCTAssertEqual(table.best(column: column("psnr")), [], "a column of ties marks no one")
        XCTAssertEqual(table.cells[0][column("diversity_lpips_style_hed_vgg16")]?.formatted, "n/a (one-to-one model)")
        XCTAssertTrue(table.text().contains("0.1000 *"), table.text())
    }

    func testTrainingLogAndLossCurves() throws {
        let folder = makeTemporaryFolder(self)
        let log = """
        {"step":1,"epoch":1,"D":0.7,"G_L1":0.5,"lr":0.0002,"seconds":1}
        not json
        {"step":10,"epoch":1,"D":0.6,"G_L1":0.3,"lr":0.0002,"seconds":2}
        {"step":10,"epoch":1,"val_L1":0.4}
        """
        try log.write(toFile: folder + "/log.jsonl", atomically: true, encoding: .utf8)
        let parsed = try TrainingLog.read(path: folder + "/log.jsonl")
        XCTAssertEqual(parsed.keys, ["G_L1", "D", "val_L1", "lr"])
        XCTAssertEqual(parsed.series["D"]!.map(\.value), [0.7, 0.6])
        XCTAssertEqual(parsed.lastStep, 10, "eval --tensorboard files its numbers under the run's last step")
        let svg = LossCurvePlot.svg(title: "D <&>", runs: [("run", parsed.series["D"]!), ("other", [(1, 0.1)])])
        XCTAssertTrue(svg.hasPrefix("<svg"))
        XCTAssertTrue(svg.contains("<polyline"))
        XCTAssertTrue(svg.contains("D &lt;&amp;&gt;"))
        XCTAssertEqual(LossCurvePlot.ticks(0, 1), [0, 0.25, 0.5, 0.75, 1])
    }
}
