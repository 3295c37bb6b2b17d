import Foundation
import NN
import Torch
import XCTest
@testable import Sketch2Real

/// The one place GPU tests take their device from: $SKETCH2REAL_TEST_DEVICE (cuda, cuda:N), or
/// the first CUDA device when one is present; nil without CUDA, and the tests that need one
/// are skipped with a line that says so.
let testCUDADevice: Device? = {
    if let text = ProcessInfo.processInfo.environment["SKETCH2REAL_TEST_DEVICE"], let d = Device(text), d.isCUDA { return d }
    return Torch.cudaDeviceCount > 0 ? .cuda(0) : nil
}()

/// Skips the calling test, visibly, when there is no CUDA device; otherwise returns it.
func requireCUDA() throws -> Device {
    guard let d = testCUDADevice else {
        throw XCTSkip("no CUDA device (libtorch \(Torch.version)\(Torch.isCUDACompiled ? " with CUDA, no device visible" : " without CUDA")): GPU test skipped")
    }
    return d
}

/// `--device`: parsing, choosing, refusing; tensors made on the thread's device; on a GPU, the
/// bundled model against the CPU and a checkpoint written there read back on the CPU.
final class DeviceTests: XCTestCase {
    typealias Machine = DeviceChoice.Machine
    let cpuOnly = Machine(cudaCompiled: false, cudaDevices: 0, libtorch: "2.15.0")
    let twoGPUs = Machine(cudaCompiled: true, cudaDevices: 2, libtorch: "2.15.0")

    func testAutoPicksTheFirstGPUWhenThereIsOneAndTheRefusalsSayWhy() throws {
        XCTAssertEqual(try DeviceChoice(parsing: "auto").resolve(cpuOnly), .cpu)
        XCTAssertEqual(try DeviceChoice(parsing: "auto").resolve(twoGPUs), .cuda(0))
        XCTAssertEqual(try DeviceChoice(parsing: "cuda:1").resolve(twoGPUs), .cuda(1))
        // Under torchrun, each local rank takes its own GPU.
        var rank3 = twoGPUs
        rank3.localRank = 3
        XCTAssertEqual(try DeviceChoice(parsing: "auto").resolve(rank3), .cuda(1))
        // Data-parallel groups: Gloo between CPUs; NCCL between GPUs only where the build has it.
        XCTAssertEqual(ProcessGroup.backend(for: .cpu), .gloo)
        XCTAssertEqual(ProcessGroup.backend(for: .cuda(0)), ProcessGroup.ncclAvailable ? .nccl : .gloo)
        if !Torch.isCUDACompiled { XCTAssertFalse(ProcessGroup.ncclAvailable) }
        XCTAssertEqual(try DeviceChoice(parsing: "CPU").resolve(twoGPUs), .cpu)
        XCTAssertThrowsError(try DeviceChoice(parsing: "cuda").resolve(cpuOnly)) {
            XCTAssertEqual("\($0)", "--device cuda:0: this sketch2real is built on libtorch 2.15.0 without CUDA; build it against a libtorch with CUDA (README, \"GPUs\") or use --device cpu")
        }
        XCTAssertThrowsError(try DeviceChoice(parsing: "cuda").resolve(Machine(cudaCompiled: true, cudaDevices: 0, libtorch: "2.15.0"))) {
            XCTAssertTrue("\($0)".contains("sees no CUDA device"), "\($0)")
        }
        XCTAssertThrowsError(try DeviceChoice(parsing: "cuda:2").resolve(twoGPUs)) {
            XCTAssertEqual("\($0)", "--device cuda:2: there are 2 CUDA device(s), cuda:0 to cuda:1")
        }
        for bad in ["gpu", "cuda:", "cuda:-1", "meta", ""] {
            XCTAssertThrowsError(try DeviceChoice(parsing: bad), bad)
        }
    }

    func testPrecisionAutoOnAGPUIsBFloat16FromAmpereOnAndFloat16WithAScalerBefore() {
        XCTAssertEqual(PrecisionChoice.auto.resolve(device: .cuda(0), capability: (8, 0)).precision, .bf16)
        XCTAssertEqual(PrecisionChoice.auto.resolve(device: .cuda(0), capability: (9, 0)).precision, .bf16)
        let turing = PrecisionChoice.auto.resolve(device: .cuda(0), capability: (7, 5))
        XCTAssertEqual(turing.precision, .fp16)
        XCTAssertEqual(turing.reason, "auto: this GPU (compute capability 7.5) has no bfloat16 units: float16 with a gradient scaler")
        XCTAssertEqual(PrecisionChoice.fp16.resolve(device: .cuda(0), capability: (9, 0)).precision, .fp16)
        // On a CPU, fp16 only when asked for; auto never picks it.
        XCTAssertEqual(PrecisionChoice.fp16.resolve(cpuFeatures: ["avx2"], oneDNN: true).precision, .fp16)
        XCTAssertTrue(PrecisionChoice.fp16.resolve(cpuFeatures: ["avx2"], oneDNN: true).reason.contains("emulated"))
        XCTAssertNotEqual(PrecisionChoice.auto.resolve(cpuFeatures: ["avx512_fp16", "avx512_bf16"], oneDNN: true).precision, .fp16)
        XCTAssertEqual(PrecisionChoice.fp32.resolve(device: .cuda(0), capability: (9, 0)).precision, .fp32)
    }

    /// Factories, tensors from arrays and loaded weights follow the thread's device; a CPU
    /// scalar joins an operation anywhere; images stay on the CPU.
    func testTensorsAreMadeOnTheThreadsDevice() throws {
        XCTAssertEqual(Torch.currentDevice, .cpu)
        Torch.withDevice(.meta) {
            XCTAssertEqual(Torch.currentDevice, .meta)
            XCTAssertEqual(Tensor.zeros([2]).device, .meta)
            XCTAssertEqual(Tensor([1, 2, 3] as [Float]).device, .meta)
            XCTAssertEqual(Tensor([1] as [Float], device: .cpu).device, .cpu)
            XCTAssertEqual(Tensor(scalar: 2).device, .cpu, "scalars stay on the CPU")
            XCTAssertEqual((Tensor.ones([3]) * Tensor(scalar: 2)).device, .meta)
            XCTAssertTrue(Tensor.ones([1]).item().isNaN, "the meta device holds no data")
            XCTAssertEqual(Tensor.ones([2]).toArray(Float.self), [0, 0])
            let image = Image.filled(width: 4, height: 3, value: 0.5)
            XCTAssertEqual(image.pixels.device, .cpu)
            XCTAssertEqual(image.tensor().device, .meta)
            Torch.withDevice(.cpu) { XCTAssertEqual(Tensor.rand([1]).device, .cpu) }
            XCTAssertEqual(Torch.currentDevice, .meta, "the previous choice comes back")
        }
        XCTAssertEqual(Torch.currentDevice, .cpu)
    }

    func tinyDataset(size: Int, count: Int) throws -> String {
        try writeGreyToColourPairs(self, size: size, count: count, phaseStep: 0.31)
    }

    /// Every tensor a network, loss or metric makes follows the thread's device, because only
    /// image and sketch work (OpenCV's side), the loader's threads and libtorch's own wrapper may
    /// name the CPU. (A training step on libtorch's meta device would be the stronger check, but
    /// libtorch's C++ library has no meta kernels for convolution, reflection padding, ReLU or
    /// flip: PyTorch registers those from Python.)
    func testOnlyImageWorkNamesTheCPU() throws {
        let allowed: Set<String> = [
            "Sketch2Real/Data/Image.swift", "Sketch2Real/Data/DataLoader.swift", "Sketch2Real/Sketch/HEDNetwork.swift",
            "Sketch2Real/Sketch/HEDPostprocessing.swift", "Sketch2Real/Sketch/HEDSketch.swift",
            "Torch/Tensor.swift", "Torch/Runtime.swift", "Torch/SafeTensors.swift",
        ]
        let sources = repositoryRoot.appendingPathComponent("Sources")
        let files = FileManager.default.enumerator(atPath: sources.path)!.compactMap { $0 as? String }.filter { $0.hasSuffix(".swift") }
        XCTAssertGreaterThan(files.count, 100)
        var naming: [String] = []
        for f in files {
            let text = try String(contentsOf: sources.appendingPathComponent(f), encoding: .utf8)
            if text.contains(".to(.cpu)") || text.contains("device: .cpu") || text.contains("withDevice(.cpu") { naming.append(f) }
        }
        XCTAssertEqual(Set(naming).subtracting(allowed).sorted(), [], "tensors made on the CPU outside image work would meet GPU tensors")
    }

    /// The data loader's batches are made on the CPU even when the thread that reads them has
    /// chosen another device; the training loop moves them.
    func testTheLoaderMakesBatchesOnTheCPU() throws {
        let data = try tinyDataset(size: 32, count: 2)
        var options = DatasetOptions()
        options.preprocess = PreprocessOptions(mode: .none, cropSize: 32, flip: false, multiple: 4)
        let loader = try DataLoader(dataset: PairedDataset(root: data, split: "train", options: options), batchSize: 2, shuffle: false,
                                    seed: 1, workers: 1)
        let batch = try Torch.withDevice(.meta) { try XCTUnwrap(try loader.batches(epoch: 0, from: 0).next()) }
        XCTAssertEqual(batch.input.device, .cpu)
        XCTAssertEqual(batch.target?.device, .cpu)
    }

    // MARK: On a GPU (skipped, with a line saying so, without one)

    /// A bundled model translates alike on the CPU and the GPU (float32; cuDNN's kernels differ
    /// from oneDNN's in summation order only).
    func testBundledSRAGANTranslatesAlikeOnCPUAndGPU() throws {
        let gpu = try requireCUDA()
        let path = repositoryRoot.appendingPathComponent("models/sragan-landscapes.safetensors").path
        let sketch = Image(pixels: Tensor.rand([64, 64, 1], device: .cpu))
        let cpuOut = try Torch.withDevice(.cpu) { try Translator(generator: GeneratorFile.load(path).generator).translate(sketch) }
        let gpuOut = try Torch.withDevice(gpu) { () throws -> Image in
            let g = try GeneratorFile.load(path).generator
            XCTAssertEqual(g.parameters().first?.device, gpu)
            return try Translator(generator: g).translate(sketch)
        }
        XCTAssertLessThan(maxAbsDifference(cpuOut.pixels, gpuOut.pixels), 2e-3)
    }

    /// Trained on the GPU, saved, read back on the CPU: the checkpoint does not remember the device.
    func testACheckpointWrittenOnTheGPULoadsOnTheCPU() throws {
        let gpu = try requireCUDA()
        let data = try tinyDataset(size: 32, count: 2)
        var c = TrainingConfig.defaults(for: .sragan, size: 32)
        c.data.preprocess = PreprocessOptions(mode: .none, cropSize: 32, flip: false, multiple: 4)
        c.data.inputChannels = 3
        (c.sragan.ngf, c.sragan.blocks, c.discriminator.ndf) = (8, 1, 8)
        (c.epochs, c.epochsDecay, c.loaderWorkers, c.sampleEverySteps, c.maxSteps) = (1000, 0, 1, 0, 3)
        c.syncChannels()
        let run = makeTemporaryFolder(self) + "/run"
        let trained = try Torch.withDevice(gpu) { () -> [(String, Tensor)] in
            let t = try PairedTrainer(config: c, dataRoot: data, runFolder: run, resume: false)
            _ = try t.train(progress: ProgressReporter(every: 1000, isTerminal: false), shouldStop: { false })
            XCTAssertEqual(t.generator.parameters().first?.device, gpu)
            return t.generator.stateDict().map { ($0.0, $0.1.to(.cpu)) }
        }
        let loaded = try Checkpoint.load(path: RunFolder(path: run).latestCheckpoint)
        for (name, t) in trained {
            let stored = try XCTUnwrap(loaded.networks["G"]?[name], name)
            XCTAssertEqual(stored.device, .cpu)
            XCTAssertTrue(stored.bytes() == t.bytes(), name)
        }
    }
}
