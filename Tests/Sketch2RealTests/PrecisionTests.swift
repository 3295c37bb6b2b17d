import Foundation
import NN
import Torch
import XCTest
@testable import Sketch2Real

/// bfloat16 mixed precision: float32 master weights, optimiser state and checkpoints; network
/// outputs in float32; results within the bounds bfloat16's 8 significant bits allow.
final class PrecisionTests: XCTestCase {
    override func tearDown() { Torch.precision = .fp32 }

    /// bfloat16's unit roundoff: 8 significant bits.
    let roundoff = 1.0 / 512

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

    /// One generator, both precisions: the bf16 output is float32 and within a few roundoffs
    /// per layer of the float32 one (mean and largest difference, images in [-1, 1]).
    /// A small SRAGAN generator's output on one batch in float32 and in bfloat16 autocast.
    func outputsInBothPrecisions(norm: NormKind = .instance) throws -> (fp32: Tensor, bf16: Tensor) {
        Torch.precision = .fp32
        Torch.manualSeed(4)
        var config = smallConfig(.sragan).sragan
        config.norm = norm
        let g = try SRAGANGenerator(config)
        g.eval()
        let x = Tensor.rand([2, config.inputChannels, 32, 32]) * 2.0 - 1.0
        let fp32 = withNoGrad { g(x) }
        Torch.precision = .bf16
        return (fp32, withNoGrad { g(x) })
    }

    func testGeneratorOutputIsFloat32AndCloseToFloat32Arithmetic() throws {
        let (fp32, bf16) = try outputsInBothPrecisions()
        XCTAssertEqual(bf16.dtype, .float32)
        XCTAssertEqual(fp32.dtype, .float32)
        let difference = (bf16 - fp32).abs()
        // ~12 layers between sketch and image, each rounding its inputs and outputs once:
        // the mean difference stays within a few roundoffs, the largest within 32.
        XCTAssertLessThan(difference.mean().item(), 4 * roundoff)
        XCTAssertLessThan(difference.max().item(), 32 * roundoff)
        XCTAssertFalse(Torch.isAutocasting, "autocast ends with the forward pass")
    }

    /// Every normalisation a user can choose runs under bf16 autocast (layer norm's float32
    /// weights met bfloat16 inputs and stopped the program) and stays close to float32.
    func testEveryNormRunsInBFloat16() throws {
        for norm in [NormKind.instance, .layer, .none] {
            let (fp32, bf16) = try outputsInBothPrecisions(norm: norm)
            XCTAssertEqual(bf16.dtype, .float32, "\(norm)")
            XCTAssertLessThan((bf16 - fp32).abs().mean().item(), 4 * roundoff, "\(norm)")
        }
        // Layer norm alone, fed a bfloat16 input under autocast.
        let layer = LayerNorm2d(4)
        let y = Tensor.randn([1, 4, 8, 8])
        let inBF16: Tensor = Torch.mixedPrecision(.bf16) { layer(y.to(.bfloat16)) }
        XCTAssertLessThan((inBF16 - withNoGrad { layer(y) }).abs().max().item(), 8 * roundoff)
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
        // only (8 roundoffs, as the benchmark's parity check allows).
        for (key, value) in l32[0] {
            let other = try XCTUnwrap(l16[0][key], key)
            XCTAssertLessThan(abs(other - value) / Swift.max(abs(value), 1), 8 * roundoff, key)
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
        XCTAssertGreaterThan(cosine, 0.8, "0.96 on an AMD EPYC Zen 4 (every kernel path, 1 and 2 threads)")
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
