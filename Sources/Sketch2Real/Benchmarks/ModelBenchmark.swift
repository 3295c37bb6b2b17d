import Foundation
import NN
import Torch

/// One row of the model benchmark: a model at an image size and a batch size.
public struct ModelBenchmarkCase: Sendable, Codable, Equatable {
    public var model: ModelKind
    public var size: Int
    /// The batch of the row: inference runs on it, training on `trainingBatch`.
    public var batch: Int
    /// The Swift side runs in this precision; the peer runs the same (bf16: under
    /// `torch.autocast`), and the report also sets a bf16 row against the fp32 row's peer.
    public var precision: Precision

    public init(model: ModelKind, size: Int, batch: Int, precision: Precision = .fp32) {
        self.model = model
        self.size = size
        self.batch = batch
        self.precision = precision
    }

    /// Models with an encoder split each batch between the encoded and the random path and
    /// need an even batch, so their batch-1 row trains on 2 (and any odd batch on one more).
    public var trainingBatch: Int { model.usesEncoder ? Swift.max(2, batch + batch % 2) : batch }

    public var label: String {
        let b = trainingBatch == batch ? "b\(batch)" : "b\(batch) (train b\(trainingBatch))"
        return "\(model.rawValue) \(size)² \(b) \(precision.rawValue)"
    }

    /// The training configuration the benchmark uses: the model's defaults at this size.
    public var config: TrainingConfig {
        var c = TrainingConfig.defaults(for: model, size: size)
        c.batchSize = trainingBatch
        c.seed = 1
        c.loaderWorkers = 1
        return c
    }
}

/// The file the Swift worker writes for the PyTorch peer: every network's initial weights
/// under `G.`, `D.`, `E.`, `D2.`, `perceptual.` (none for models without them), the training
/// batch `x`, `y`, the inference batch `x_infer` and, for models with a latent code, its codes
/// `z_infer`; the metadata holds the training configuration and the step's seed.
public enum ModelBenchmarkFile {
    public static let configKey = "sketch2real.training"
    public static let seedKey = "bench.seed"
}

/// Runs one benchmark case in this process: builds the trainer of the model's default
/// configuration on a few examples of a data set, then answers the commands of
/// `ModelBenchmarkProtocol` (one parity step that also counts FLOPs, timed steps, timed inference).
public final class ModelBenchmarkWorker {
    public let benchCase: ModelBenchmarkCase
    let trainer: any TrainingAlgorithm
    let generator: any SketchToImageGenerator
    let x: Tensor, y: Tensor
    let xInfer: Tensor
    let zInfer: Tensor?
    let seed: UInt64 = 7
    var inferenceMode: Bool

    /// `folder` receives the run folder and `init.safetensors`.
    public init(_ benchCase: ModelBenchmarkCase, dataRoot: String, folder: String, inferenceMode: Bool = true) throws {
        self.benchCase = benchCase
        self.inferenceMode = inferenceMode
        let config = benchCase.config
        let run = folder + "/run"
        let t = try Trainer.algorithm(config: config, dataRoot: dataRoot, runFolder: run, resume: false)
        trainer = t
        generator = t.trainedGenerator
        // Centre crops of the first examples, repeated when the data set is smaller than a batch.
        let dataset = try PairedDataset(root: dataRoot, split: "train", options: config.data)
        guard dataset.count > 0 else { throw ModelError("\(dataRoot): the training split is empty") }
        let count = Swift.max(benchCase.trainingBatch, benchCase.batch)
        var sketches: [Tensor] = [], photos: [Tensor] = []
        for i in 0 ..< count {
            let s = try dataset.sample(i % dataset.count, draw: .centred)
            guard let target = s.target else { throw ModelError("\(dataRoot): examples have no target image") }
            sketches.append(s.input)
            photos.append(target)
        }
        let allX = Tensor.stack(sketches), allY = Tensor.stack(photos)
        x = allX.narrow(dim: 0, start: 0, length: benchCase.trainingBatch).contiguous()
        y = allY.narrow(dim: 0, start: 0, length: benchCase.trainingBatch).contiguous()
        xInfer = allX.narrow(dim: 0, start: 0, length: benchCase.batch).contiguous()
        if config.model.isMultimodal {
            Torch.manualSeed(seed &+ 1)
            zInfer = Tensor.randn([benchCase.batch, config.multimodal.nz])
        } else {
            zInfer = nil
        }
        try writeInitialState(to: folder + "/init.safetensors")
    }

    func writeInitialState(to path: String) throws {
        var tensors: [(name: String, tensor: Tensor)] = []
        for (prefix, network) in trainer.trained.networks.sorted(by: { $0.key < $1.key }) {
            tensors += network.stateDict().map { (name: "\(prefix).\($0.0)", tensor: $0.1) }
        }
        tensors += [("x", x), ("y", y), ("x_infer", xInfer)]
        if let zInfer { tensors.append(("z_infer", zInfer)) }
        let metadata = [ModelBenchmarkFile.configKey: try benchCase.config.json(), ModelBenchmarkFile.seedKey: String(seed)]
        try SafeTensors(tensors: tensors, metadata: metadata).save(path: path)
    }

    /// The generator's output on the inference batch, evaluation mode, no autograd.
    func infer() -> Tensor {
        generator.eval()
        defer { generator.train() }
        return pass()
    }

    /// One pass of the generator as it is (the caller sets evaluation mode).
    func pass() -> Tensor {
        let body = { [generator, xInfer, zInfer] () -> Tensor in
            if let zInfer, let latent = generator as? any LatentImageGenerator { return latent.generate(xInfer, z: zInfer) }
            return generator.translate(xInfer)
        }
        return inferenceMode ? withInferenceMode(body) : withNoGrad(body)
    }

    /// The generator's inference output, then one training step from the initial state with
    /// the shared seed: its losses and the inference output afterwards.
    /// The step and the second pass also count their FLOPs (see `FLOPCounter`).
    public func parityStep() -> (before: Tensor, losses: [String: Double], after: Tensor, trainingFLOPs: Double, inferenceFLOPs: Double) {
        let before = infer()
        Torch.manualSeed(seed)
        let (losses, trainingFLOPs) = FLOPCounter.count { trainer.trainStep(input: x, target: y).named }
        let (after, inferenceFLOPs) = FLOPCounter.count { infer() }
        return (before, losses, after, trainingFLOPs, inferenceFLOPs)
    }

    /// Seconds of each of `steps` training steps.
    public func timeTraining(steps: Int) -> [Double] {
        (0 ..< steps).map { _ in Self.seconds { _ = trainer.trainStep(input: x, target: y) } }
    }

    /// Seconds of each of `runs` inference passes over the row's batch.
    public func timeInference(runs: Int) -> [Double] {
        generator.eval()
        defer { generator.train() }
        // On a GPU the pass is queued: reading one value back waits for it to finish.
        return (0 ..< runs).map { _ in Self.seconds { let y = pass(); if y.device != .cpu { _ = y.flatten().narrow(dim: 0, start: 0, length: 1).item() } } }
    }

    static func seconds(_ body: () -> Void) -> Double {
        let start = DispatchTime.now().uptimeNanoseconds
        body()
        return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    }
}

/// This process's peak resident memory (VmHWM) in bytes, 0 where /proc is missing.
public func peakResidentBytes() -> Double {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
    for line in status.split(separator: "\n") where line.hasPrefix("VmHWM:") {
        let fields = line.split(separator: " ", omittingEmptySubsequences: true)
        if fields.count >= 2, let kb = Double(fields[1]) { return kb * 1024 }
    }
    return 0
}

extension ModelBenchmarkWorker {
    /// Answers `BenchmarkWorkerProcess`'s line protocol on stdin / stdout until `quit` or end of input.
    public func serve(folder: String) {
        func reply(_ object: [String: Any]) {
            let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
            FileHandle.standardOutput.write(data + Data("\n".utf8))
        }
        reply(["ready": true])
        while let line = readLine() {
            let words = line.split(separator: " ").map(String.init)
            guard let command = words.first else { continue }
            let n = words.count > 1 ? Int(words[1]) ?? 1 : 1
            switch command {
            case "parity":
                let (before, losses, output, trainingFLOPs, inferenceFLOPs) = parityStep()
                let path = folder + "/swift-output.safetensors"
                do {
                    try SafeTensors(tensors: [("before", before), ("output", output)]).save(path: path)
                    reply(["losses": losses, "output": path, "trainingFLOPs": trainingFLOPs, "inferenceFLOPs": inferenceFLOPs])
                } catch {
                    reply(["error": "\(error)"])
                }
            case "train": reply(["seconds": timeTraining(steps: n)])
            case "infer": reply(["seconds": timeInference(runs: n)])
            case "rss": reply(["peakBytes": peakResidentBytes()])
            case "profile":
                do {
                    let ops = try Torch.profile { for _ in 0 ..< n { _ = trainer.trainStep(input: x, target: y) } }
                    reply(["operators": ops.prefix(15).map { ["name": $0.name, "calls": $0.calls, "self_us": $0.selfMicroseconds, "total_us": $0.totalMicroseconds] }])
                } catch {
                    reply(["error": "\(error)"])
                }
            case "quit": return
            default: reply(["error": "unknown command \(command)"])
            }
        }
    }
}
