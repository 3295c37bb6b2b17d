import Foundation
import NN
import NumericalTolerance
import Torch
import XCTest
@testable import Sketch2Real

/// bfloat16 mixed precision: float32 master weights, optimiser state and checkpoints; network
/// outputs in float32; results within the bounds bfloat16's 8 significant bits allow.
final class PrecisionTests: XCTestCase {
    override func tearDown() { Torch.precision = .fp32 }

    /// bfloat16's unit roundoff: 8 significant bits, so half an ulp of 1 is 2⁻⁸.
    let roundoff = 0x1p-8

    /// How far a bfloat16 result may lie from float32 arithmetic, derived as `RoundingTolerance`
    /// derives float32's, with bfloat16's unit roundoff. Under autocast every layer rounds its
    /// input, its weight and its output to bfloat16 once each, and sums in float32: the products
    /// of two 8-bit significands are exact in float32, and float32's own roundings are 2¹⁶ times
    /// smaller. So the reduction length of a bfloat16 path is 3 roundings per layer along it. The
    /// bound counts roundings, not one machine's result, so it holds wherever bfloat16 runs:
    /// oneDNN's native kernels (AVX512-BF16, AMX), its emulation on AVX-512 without them, and
    /// ATen's own kernels where libtorch sees no AVX-512 (AMD Zen 3), which round more often in
    /// the normalisation layers (4× the difference on this network, within the bound's λ).
    func bfloat16Tolerance(layers: Int) -> RoundingTolerance {
        RoundingTolerance(.bfloat16, reductionLength: 3 * layers)
    }

    /// The relative bound on a mean over many elements (`RoundingTolerance.meanRelativeError`).
    func bfloat16MeanBound(layers: Int) -> Double { bfloat16Tolerance(layers: layers).meanRelativeError }

    /// Layers that round under autocast: the weights of rank 2 or more (convolutions, linear
    /// layers), counted whole although a shortcut runs beside the path, which only adds margin.
    /// The environment that picks kernels, for the printed margins.
    static var kernelPath: String {
        let environment = ProcessInfo.processInfo.environment
        return ["ATEN_CPU_CAPABILITY", "ONEDNN_MAX_CPU_ISA", "SKETCH2REAL_HIDE_CPU_FEATURES"]
            .map { "\($0)=\(environment[$0] ?? "-")" }.joined(separator: " ")
    }

    func roundingLayers(_ module: Module) -> Int { module.namedParameters().filter { $0.1.shape.count >= 2 }.count }

    func smallConfig(_ model: ModelKind) -> TrainingConfig {
        var c = TrainingConfig.defaults(for: model, size: 32)
        c.data.preprocess = PreprocessOptions(mode: .none, cropSize: 32, flip: false, multiple: 4)
        c.sragan.ngf = 8
        c.sragan.blocks = 2
        c.sragan.attentionEvery = 1
        c.discriminator.ndf = 8
        c.sampleEverySteps = 0
        c.saveEveryEpochs = 0
        c.loaderWorkers = 1
        c.seed = 11
        c.syncChannels()
        return c
    }

    func tinyData(count: Int = 2) throws -> String {
        let root = makeTemporaryFolder(self)
        try FileManager.default.createDirectory(atPath: root + "/train", withIntermediateDirectories: true)
        for i in 0 ..< count {
            let photo = gradientImage(width: 32, height: 32, phase: Float(i) * 0.3)
            try ImageGrid.joinedHorizontally([photo.grayscale().rgb(), photo]).save(path: "\(root)/train/\(i).png")
        }
        return root
    }

    /// A small SRAGAN generator's output on one batch in float32 and in bfloat16 autocast, and
    /// the number of layers that round on the way.
    func outputsInBothPrecisions(norm: NormKind = .instance) throws -> (fp32: Tensor, bf16: Tensor, layers: Int) {
        Torch.precision = .fp32
        Torch.manualSeed(4)
        var config = smallConfig(.sragan).sragan
        config.norm = norm
        let g = try SRAGANGenerator(config)
        g.eval()
        let x = Tensor.rand([2, config.inputChannels, 32, 32]) * 2.0 - 1.0
        let fp32 = withNoGrad { g(x) }
        Torch.precision = .bf16
        return (fp32, withNoGrad { g(x) }, roundingLayers(g))
    }

    /// The bf16 output is float32 and within bfloat16's rounding bound of the float32 one,
    /// element by element and on average (images in [-1, 1]).
    func assertCloseToFloat32(_ fp32: Tensor, _ bf16: Tensor, layers: Int, _ label: String) {
        XCTAssertEqual(bf16.dtype, .float32, label)
        let tolerance = bfloat16Tolerance(layers: layers)
        XCTAssertNil(tolerance.mismatch(bf16, fp32), label)
        let mean: Double = (bf16 - fp32).abs().mean().item(), scale: Double = fp32.abs().mean().item() + RoundingTolerance.rms(fp32.toArray(Double.self))
        let meanBound = bfloat16MeanBound(layers: layers) * scale
        print(String(format: "bf16 against fp32 (%@, %d layers, %@): mean |difference| %.4g of %.4g allowed; largest element at %.2f of its bound",
                     label, layers, Self.kernelPath, mean, meanBound, tolerance.usage(bf16, fp32)))
        XCTAssertLessThan(mean, meanBound, label)
    }

    func testGeneratorOutputIsFloat32AndCloseToFloat32Arithmetic() throws {
        let (fp32, bf16, layers) = try outputsInBothPrecisions()
        XCTAssertEqual(fp32.dtype, .float32)
        assertCloseToFloat32(fp32, bf16, layers: layers, "instance")
        XCTAssertFalse(Torch.isAutocasting, "autocast ends with the forward pass")
    }

    /// Every normalisation a user can choose runs under bf16 autocast (layer norm's float32
    /// weights met bfloat16 inputs and stopped the program) and stays close to float32.
    func testEveryNormRunsInBFloat16() throws {
        for norm in [NormKind.instance, .layer, .none] {
            let (fp32, bf16, layers) = try outputsInBothPrecisions(norm: norm)
            assertCloseToFloat32(fp32, bf16, layers: layers, "\(norm)")
        }
        // Layer norm alone, fed a bfloat16 input under autocast: it normalises in float32, so
        // the one rounding is the input's, |Δx| ≤ u·|x|. With σ the float32 standard deviation,
        // out = (x − μ)/σ moves by at most u·(|x| + mean|x|)/σ through x and μ, and by
        // u·|out|·(1 + |x|max/σ)/… through σ, which the second term bounds with room.
        let layer = LayerNorm2d(4)
        let y = Tensor.randn([1, 4, 8, 8])
        let inBF16: Tensor = Torch.mixedPrecision(.bf16) { layer(y.to(.bfloat16)) }
        let exact = withNoGrad { layer(y) }
        let x = y.toArray(Double.self), out = exact.toArray(Double.self), got = inBF16.toArray(Double.self)
        let mean = x.reduce(0, +) / Double(x.count)
        let sigma = (x.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(x.count)).squareRoot()
        let meanAbs = x.reduce(0) { $0 + Swift.abs($1) } / Double(x.count)
        for i in x.indices {
            let bound = roundoff * ((Swift.abs(x[i]) + meanAbs) / sigma + 2 * Swift.abs(out[i])) + 1e-5
            XCTAssertLessThan(Swift.abs(got[i] - out[i]), bound, "layer norm element \(i)")
        }
    }

    /// Training steps in bf16 keep every weight, gradient and Adam moment in float32, track the
    /// float32 run's losses, and write a float32 checkpoint that a float32 trainer resumes.
    func testTrainingKeepsFloat32StateAndTracksFloat32() throws {
        let data = try tinyData()
        var c = smallConfig(.sragan)
        c.maxSteps = 3
        var initial: [String: Tensor] = [:]
        func run(_ precision: Precision, folder: String) throws -> (trainer: PairedTrainer, losses: [[String: Double]]) {
            Torch.precision = precision
            let trainer = try PairedTrainer(config: c, dataRoot: data, runFolder: folder, resume: false)
            for (key, w) in trainer.generator.stateDict() { initial[key] = w.clone() }
            let batch = try trainer.loader.batches(epoch: 0).next()!
            Torch.manualSeed(5)
            let losses = (0 ..< 3).map { _ in trainer.trainStep(input: batch.input, target: batch.target!).named }
            return (trainer, losses)
        }
        let base = makeTemporaryFolder(self)
        let (t32, l32) = try run(.fp32, folder: base + "/fp32")
        let (t16, l16) = try run(.bf16, folder: base + "/bf16")
        for (name, network) in t16.trained.networks {
            for (key, tensor) in network.stateDict() where !key.hasSuffix("num_batches_tracked") {
                XCTAssertEqual(tensor.dtype, .float32, "\(name).\(key)")
            }
            for p in network.trainableParameters() { if let g = p.grad { XCTAssertEqual(g.dtype, .float32, name) } }
        }
        for (name, optimizer) in t16.trained.optimizers {
            for (key, tensor) in optimizer.state().tensors { XCTAssertEqual(tensor.dtype, .float32, "\(name) \(key)") }
        }
        // The first step starts from the same weights: its losses differ by bfloat16 rounding
        // only, each a mean over the layers on its path: G's, then D's for the adversarial
        // terms, the perceptual network's ten convolutions up to relu4_3 for G_perceptual.
        let gLayers = roundingLayers(t32.generator)
        let dLayers = t32.trained.networks.filter { $0.0 != "G" }.map { roundingLayers($0.1) }.max() ?? 0
        let pathLayers = ["G_L1": gLayers, "G_perceptual": gLayers + 10]
        for (key, value) in l32[0] {
            let other = try XCTUnwrap(l16[0][key], key)
            let bound = bfloat16MeanBound(layers: pathLayers[key] ?? gLayers + dLayers)
            let relative = abs(other - value) / Swift.max(abs(value), 1)
            print(String(format: "bf16 against fp32, first-step %@: relative difference %.4g of %.4g allowed", key, relative, bound))
            XCTAssertLessThan(relative, bound, key)
        }
        // The three bf16 steps moved the generator's weights the way the fp32 steps did: the
        // cosine between the two runs' weight changes is close to 1 (a gradient lost on the
        // way through a cast would leave whole tensors unmoved and pull it far down).
        let w32 = Dictionary(uniqueKeysWithValues: t32.generator.stateDict())
        var dot = 0.0, n16 = 0.0, n32 = 0.0
        for (key, w) in t16.generator.stateDict() where w.dtype.isFloatingPoint && !key.contains("running_") {
            let a = (w - initial[key]!).flatten(), b = (w32[key]! - initial[key]!).flatten()
            dot += a.dot(b).item()
            n16 += a.square().sum().item()
            n32 += b.square().sum().item()
        }
        let cosine = dot / (n16 * n32).squareRoot()
        print("bf16 against fp32: cosine of the weight changes over 3 steps \(cosine)")
        XCTAssertGreaterThan(cosine, 0.8, "0.96 with native bfloat16 (AMD Zen 4), 0.94 with ATen's kernels (AMD Zen 3)")
        // Checkpoints are float32 and portable: written in bf16, resumed in fp32.
        let checkpoint = try t16.checkpoint()
        for (name, tensors) in checkpoint.networks {
            for (key, tensor) in tensors where !key.hasSuffix("num_batches_tracked") { XCTAssertEqual(tensor.dtype, .float32, "\(name).\(key)") }
        }
        try checkpoint.save(path: base + "/bf16/latest.ckpt")
        Torch.precision = .fp32
        let loaded = try Checkpoint.load(path: base + "/bf16/latest.ckpt")
        let resumed = try PairedTrainer(config: c, dataRoot: data, runFolder: base + "/fp32-resumed", resume: false)
        try resumed.generator.loadStateDict(loaded.networks["G"]!)
        let original = Dictionary(uniqueKeysWithValues: t16.generator.stateDict())
        for (key, w) in resumed.generator.stateDict() { XCTAssertEqual((w - original[key]!).abs().max().item(), 0, key) }
    }

    /// The kernels that a bfloat16 convolution's forward and backward run, as the profiler
    /// names them: oneDNN's (`mkldnn_convolution`) where libtorch sees AVX-512, ATen's own
    /// (`slow_conv2d`) where it does not, as on AMD Zen 3 (2.x names oneDNN's path
    /// `mkldnn_convolution` too). `SKETCH2REAL_HIDE_CPU_FEATURES`
    /// must move a processor with AVX-512 onto the second path, or the matrix's configurations
    /// that stand in for such processors would test nothing new.
    func testBFloat16ConvolutionRunsThePathOfTheProcessorLibtorchSees() throws {
        let x = Tensor.randn([1, 8, 16, 16]).requiringGrad(), w = Tensor.randn([8, 8, 3, 3]).requiringGrad()
        let operators = try Torch.profile {
            let y: Tensor = Torch.mixedPrecision(.bf16) { x.conv2d(weight: w, padding: 1) }
            y.sum().backward()
        }
        let names = Set(operators.map(\.name))
        let oneDNN = names.contains { $0.contains("mkldnn_convolution") }
        print("bf16 convolution (\(Self.kernelPath)): \(oneDNN ? "oneDNN" : "ATen") kernels: \(names.filter { $0.contains("conv") }.sorted().joined(separator: ", "))")
        // What libtorch sees: the processor's flags less what the environment hides or caps.
        let seesAVX512 = SystemReport.cpuFeatures().contains("avx512bw")
        if Torch.isMKLDNNAvailable {
            XCTAssertEqual(oneDNN, seesAVX512, "libtorch sends bfloat16 convolutions to oneDNN exactly where it sees AVX-512 (1.13: cpuinfo's flags; 2.x: oneDNN's instruction set)")
        }
        XCTAssertEqual(x.grad?.dtype, .float32)
    }

    /// `auto` picks bf16 only where the processor has native bfloat16 and libtorch has oneDNN.
    func testAutoPicksBFloat16OnlyWhereNative() {
        XCTAssertEqual(PrecisionChoice.auto.resolve(cpuFeatures: ["avx2", "avx512f", "avx512_bf16"], oneDNN: true).precision, .bf16)
        XCTAssertEqual(PrecisionChoice.auto.resolve(cpuFeatures: ["avx2", "amx_tile"], oneDNN: true).precision, .bf16)
        XCTAssertEqual(PrecisionChoice.auto.resolve(cpuFeatures: ["avx2", "avx512f", "avx512bw"], oneDNN: true).precision, .fp32)
        XCTAssertEqual(PrecisionChoice.auto.resolve(cpuFeatures: ["avx512_bf16"], oneDNN: false).precision, .fp32)
        XCTAssertEqual(PrecisionChoice.fp32.resolve(cpuFeatures: ["avx512_bf16"], oneDNN: true).precision, .fp32)
        let forced = PrecisionChoice.bf16.resolve(cpuFeatures: ["avx2"], oneDNN: true)
        XCTAssertEqual(forced.precision, .bf16)
        XCTAssertTrue(forced.reason.contains("emulated"), forced.reason)
        XCTAssertTrue(PrecisionChoice.auto.resolve(cpuFeatures: ["avx512_bf16"], oneDNN: true).reason.contains("avx512_bf16"))
    }
}
