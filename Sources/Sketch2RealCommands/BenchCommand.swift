import ArgumentParser
import Foundation
import Sketch2Real
import Torch

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure speed against the PyTorch peer on this machine.",
        subcommands: [ModelsBench.self, OpsBench.self, LoaderBench.self, DistributedBench.self, BenchWorkerCommand.self],
        defaultSubcommand: ModelsBench.self
    )
}

struct OpsBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ops",
        abstract: "Convolution forward+backward GFLOP/s of the Swift API beside PyTorch's, in one run."
    )

    @OptionGroup var runtime: RuntimeOptions

    @Option(help: "Timed rounds per case (the median is reported).")
    var rounds = 5

    @Option(help: "Forward+backward passes per round.")
    var iterations = 3

    @Option(help: "Python interpreter with PyTorch for the peer column; 'none' to skip it.")
    var python = "/usr/bin/python3"

    @Option(help: "The peer script.")
    var peerScript = "scripts/conv_bench_peer.py"

    func validate() throws {
        if rounds < 1 { throw ValidationError("--rounds must be at least 1.") }
        if iterations < 1 { throw ValidationError("--iterations must be at least 1.") }
    }

    func run() throws {
        try runtime.apply()
        let threads = Torch.threads
        print("convolution forward+backward, float32, \(threads) threads, median of \(rounds) rounds × \(iterations)")
        print(pad("case", 26) + pad("Swift GFLOP/s", 15) + pad("PyTorch GFLOP/s", 17) + "Swift/PyTorch")
        for c in ConvolutionBenchmark.standardCases {
            let ours = ConvolutionBenchmark.run(c, rounds: rounds, iterations: iterations)
            var peerText = "n/a", ratioText = "n/a"
            switch peer(c, threads: threads) {
            case .success(let g):
                peerText = String(format: "%.1f", g)
                ratioText = String(format: "%.3f", ours.gflops / g)
            case .failure(let e):
                peerText = "unavailable"
                FileHandle.standardError.write(Data("peer: \(e.message)\n".utf8))
            }
            print(pad(c.name, 26) + pad(String(format: "%.1f", ours.gflops), 15) + pad(peerText, 17) + ratioText)
        }
    }

    struct PeerError: Error { let message: String }

    func peer(_ c: ConvolutionBenchmark.Case, threads: Int) -> Result<Double, PeerError> {
        guard python != "none" else { return .failure(PeerError(message: "skipped (--python none)")) }
        guard FileManager.default.fileExists(atPath: peerScript) else {
            return .failure(PeerError(message: "\(peerScript) not found; run from the repository root"))
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = [peerScript]
        let input = Pipe(), output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        do {
            try process.run()
        } catch {
            return .failure(PeerError(message: "cannot start \(python): \(error.localizedDescription)"))
        }
        let request: [String: Any] = [
            "threads": threads, "rounds": rounds, "iterations": iterations,
            "cases": [["name": c.name, "batch": c.batch, "inChannels": c.inChannels, "outChannels": c.outChannels,
                       "size": c.size, "kernel": c.kernel, "stride": c.stride, "padding": c.padding]],
        ]
        input.fileHandleForWriting.write(try! JSONSerialization.data(withJSONObject: request))
        try? input.fileHandleForWriting.close()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0,
              let line = String(data: data, encoding: .utf8)?.split(separator: "\n").first,
              let obj = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
              let g = obj["gflops"] as? Double
        else { return .failure(PeerError(message: "\(python) \(peerScript) failed (is python3-torch installed?)")) }
        return .success(g)
    }

    func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s + " " : s + String(repeating: " ", count: n - s.count) }
}

struct LoaderBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "loader",
        abstract: "Decoded + augmented images per second from a dataset's training split."
    )

    @Option(help: "Dataset folder.")
    var data: String

    @Option(help: "Crop size (load size is crop + 30, as pix2pix's 286 → 256).")
    var size = 256

    @Option(help: "Loader worker threads.")
    var workers = 2

    @Option(help: "Batch size.")
    var batchSize = 1

    @Option(help: "Epochs to read.")
    var epochs = 1

    func run() throws {
        let options = DatasetOptions(preprocess: PreprocessOptions(mode: .resizeAndCrop, loadSize: PreprocessOptions.loadSize(forCrop: size), cropSize: size))
        let dataset = try PairedDataset(root: data, split: "train", options: options)
        let loader = try DataLoader(dataset: dataset, batchSize: batchSize, seed: 0, workers: workers)
        let start = Date()
        var images = 0
        for epoch in 0 ..< epochs {
            let batches = loader.batches(epoch: epoch)
            while let b = try batches.next() { images += b.input.size(0) }
        }
        let seconds = Date().timeIntervalSince(start)
        print(String(format: "%d pairs of %d² in %.2f s: %.1f pairs/s (%d workers)", images, size, seconds, Double(images) / seconds, workers))
    }
}
