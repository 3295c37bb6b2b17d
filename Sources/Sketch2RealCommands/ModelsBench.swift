import ArgumentParser
import Foundation
import NN
import Sketch2Real
import Torch

struct ModelsBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "models",
        abstract: "Training step, inference, peak memory and FLOPs of each model, Swift beside the PyTorch reference in one run.",
        discussion: """
        Each case runs in a Swift worker process and a PyTorch peer process (scripts/train_bench_peer.py with \
        reference/*.py) that load the same initial weights and batch. Both take one training step first; if \
        their losses or outputs differ, the case reports no speed. Timed rounds then alternate between the two.
        """
    )

    @OptionGroup var runtime: RuntimeOptions

    @Option(help: "Comma-separated models (sragan, pix2pix, lsragan, bicyclegan, msgan).")
    var models = "sragan,pix2pix,lsragan,bicyclegan"

    @Option(help: "Comma-separated image sizes.")
    var sizes = "128,256"

    @Option(help: "Comma-separated batch sizes (models with an encoder train on the next even batch).")
    var batches = "1,4"

    @Option(help: "Timed training steps per round and side.")
    var steps = 2

    @Option(help: "Alternating rounds (Swift, PyTorch, then PyTorch, Swift, ...).")
    var rounds = 2

    @Option(help: "Timed inference passes per round and side.")
    var inferenceRuns = 3

    @Option(help: "Data set whose first training examples form the batch (its loader speed is measured too).")
    var data = ".cache/datasets/landscapes-256"

    @Option(help: "Python interpreter with PyTorch for the peer.")
    var python = "/usr/bin/python3"

    @Option(help: "The peer script.")
    var peerScript = "scripts/train_bench_peer.py"

    @Option(help: "Intra-op threads of the PyTorch peer (default: PyTorch's own default).")
    var peerThreads: Int?

    @Option(help: "Write the results as JSON to this file.")
    var json: String?

    @Option(help: "Write the results as Markdown to this file.")
    var markdown: String?

    @Flag(help: "Also profile one training step of each case on both sides and print the operators with the most self time.")
    var profile = false

    @Flag(help: "The peer compiles every network with torch.compile (inductor; needs PyTorch 2, e.g. --python .cache/venv-torch-2.15/bin/python).")
    var peerCompile = false

    @Flag(help: "Skip the data loader measurement.")
    var noLoader = false

    @Option(help: "For before/after measurements: Swift's transposed convolutions on libtorch's im2col path, on oneDNN, or measure (the faster of the two per shape, the default).")
    var transposedConvolution: TransposedConvolutionChoice = .measure

    @Flag(help: "For before/after measurements: Swift inference under no-grad instead of inference mode.")
    var noInferenceMode = false

    @Flag(help: "For before/after measurements: Swift's Adam updates in one (scalar) pass instead of libtorch's vectorised ops.")
    var fusedAdam = false

    func list<T>(_ text: String, _ name: String, _ parse: (String) -> T?) throws -> [T] {
        let items = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        return try items.map { item in
            guard let v = parse(item) else { throw ValidationError("--\(name): cannot read '\(item)'.") }
            return v
        }
    }

    func validate() throws {
        if steps < 1 || rounds < 1 || inferenceRuns < 1 { throw ValidationError("--steps, --rounds and --inference-runs must be at least 1.") }
        _ = try list(models, "models") { ModelKind(rawValue: $0) }
        if try list(sizes, "sizes", { Int($0) }).contains(where: { $0 < 64 || $0 % 64 != 0 }) {
            throw ValidationError("--sizes must be multiples of 64 (the U-Nets need it).")
        }
        if try list(batches, "batches", { Int($0) }).contains(where: { $0 < 1 }) { throw ValidationError("--batches must be at least 1.") }
        if let peerThreads, peerThreads < 1 { throw ValidationError("--peer-threads must be at least 1.") }
    }

    func run() throws {
        try runtime.apply()
        guard FileManager.default.fileExists(atPath: data) else {
            throw ValidationError("\(data) not found: make a data set (scripts/fetch-photos or `sketch2real dataset synth`) or pass --data.")
        }
        guard FileManager.default.fileExists(atPath: peerScript) else {
            throw ValidationError("\(peerScript) not found; run from the repository root or pass --peer-script.")
        }
        let modelList = try list(models, "models") { ModelKind(rawValue: $0) }
        let sizeList = try list(sizes, "sizes") { Int($0) }
        let batchList = try list(batches, "batches") { Int($0) }
        // bf16 rows come with their fp32 rows, whose PyTorch side is the reference they are set against.
        let (chosen, reason) = runtime.resolvedPrecision
        let precisions: [Precision] = chosen == .bf16 ? [.fp32, .bf16] : [.fp32]
        let note = chosen == .fp16 ? "; the bench measures fp32 and bf16, not fp16" : ""
        FileHandle.standardError.write(Data("precision: \(precisions.map(\.rawValue).joined(separator: " and ")) rows (\(reason)\(note))\n".utf8))
        let cases = modelList.flatMap { m in
            sizeList.flatMap { s in batchList.flatMap { b in precisions.map { ModelBenchmarkCase(model: m, size: s, batch: b, precision: $0) } } }
        }

        let system = SystemReport.collect()
        let peak = SystemReport.convolutionPeak(.fp32)
        let peakBF16 = precisions.contains(.bf16) ? SystemReport.convolutionPeak(.bf16) : nil
        let threads = Torch.threads
        var loader: [Int: Double] = [:]
        if !noLoader {
            for size in sizeList { loader[size] = try loaderRate(size: size) }
        }
        var settings = ModelBenchmarkSettings(cases: cases, dataRoot: data, workerExecutable: Self.executablePath,
                                              workerArguments: ["bench", "worker", "--threads", String(threads), "--device", Torch.defaultDevice.description,
                                                                "--memory-format", Torch.channelsLast ? "channels-last" : "contiguous"]
                                                  + ["--transposed-convolution", transposedConvolution.rawValue]
                                                  + (noInferenceMode ? ["--no-inference-mode"] : [])
                                                  + (fusedAdam ? ["--fused-adam"] : []),
                                              python: python, peerScript: peerScript)
        settings.steps = steps
        settings.rounds = rounds
        settings.inferenceRuns = inferenceRuns
        settings.profile = profile
        settings.peerEnvironment = ["PYTHONPATH": ".cache/python"]
        // The peer runs on as many threads as we do unless told otherwise: PyTorch's own default
        // can differ (cpuinfo's core count), which would compare thread counts, not code.
        // Both sides in the same memory format (--memory-format; auto: channels-last on a GPU under autocast).
        settings.peerArguments = ["--threads", String(peerThreads ?? threads), "--device", Torch.defaultDevice.description]
            + (Torch.channelsLast ? ["--channels-last"] : [])
            + (peerCompile ? ["--compile"] : [])
        let rows = ModelBenchmarkRunner.run(settings) { FileHandle.standardError.write(Data(($0 + "\n").utf8)) }

        let formatter = ISO8601DateFormatter()
        let report = ModelBenchmarkReport(
            command: (["sketch2real"] + CommandLine.arguments.dropFirst()).joined(separator: " "),
            date: formatter.string(from: Date()), machine: system.lines(matmulGFLOPS: nil), peakGFLOPS: peak.gflops, peakSource: peak.source,
            peakBF16GFLOPS: peakBF16?.gflops, peakBF16Source: peakBF16?.source,
            swiftThreads: threads, peerThreads: String(peerThreads ?? threads),
            steps: steps, rounds: rounds, inferenceRuns: inferenceRuns, rows: rows, loaderPairsPerSecond: loader)
        print(report.text)
        if let json { try report.json().write(to: URL(fileURLWithPath: json)) }
        if let markdown { try Data((report.markdown + "\n").utf8).write(to: URL(fileURLWithPath: markdown)) }
        if rows.contains(where: { !$0.hasSpeed }) { throw ExitCode(1) }
    }

    /// Pairs per second over up to 64 examples of the training split at `size`, 2 workers.
    func loaderRate(size: Int) throws -> Double {
        let options = DatasetOptions(preprocess: PreprocessOptions(mode: .resizeAndCrop, loadSize: PreprocessOptions.loadSize(forCrop: size), cropSize: size))
        let dataset = try PairedDataset(root: data, split: "train", options: options)
        let loader = try DataLoader(dataset: dataset, batchSize: 1, seed: 0, workers: 2)
        let start = Date()
        var images = 0
        let batches = loader.batches(epoch: 0)
        while images < 64, let b = try batches.next() { images += b.input.size(0) }
        return Double(images) / Date().timeIntervalSince(start)
    }

    static var executablePath: String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    }
}

struct BenchWorkerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker",
        abstract: "One case of `bench models` in its own process (started by it; speaks its line protocol).",
        shouldDisplay: false
    )

    @OptionGroup var runtime: RuntimeOptions
    @Option var model: String
    @Option var size: Int
    @Option var batch: Int
    @Option var data: String
    @Option var folder: String
    @Flag(help: "Inference under no-grad instead of inference mode.")
    var noInferenceMode = false
    @Option(help: "Transposed convolutions: im2col, onednn or measure.")
    var transposedConvolution: TransposedConvolutionChoice = .measure
    @Flag(help: "Adam updates in one pass.")
    var fusedAdam = false

    func run() throws {
        try runtime.apply()
        Torch.transposedConvolutionPath = transposedConvolution.path
        Adam.fused = fusedAdam
        guard let kind = ModelKind(rawValue: model) else { throw ValidationError("unknown model \(model)") }
        do {
            let worker = try ModelBenchmarkWorker(ModelBenchmarkCase(model: kind, size: size, batch: batch), dataRoot: data,
                                                  folder: folder, inferenceMode: !noInferenceMode)
            worker.serve(folder: folder)
        } catch {
            let object = ["error": "\(error)"]
            print(String(decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self))
            throw ExitCode(1)
        }
    }
}

enum TransposedConvolutionChoice: String, ExpressibleByArgument, CaseIterable {
    case measure, onednn, im2col
    var path: Torch.TransposedConvolutionPath {
        switch self {
        case .measure: .measure
        case .onednn: .oneDNN
        case .im2col: .im2col
        }
    }
}
