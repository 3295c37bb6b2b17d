import Foundation
import Torch

/// Measurements of one case, Swift beside the PyTorch peer. Times are medians in seconds.
public struct ModelBenchmarkRow: Sendable, Codable {
    public var benchCase: ModelBenchmarkCase
    public var parity: ParityCheck?
    /// Why the row has no numbers (a worker failed or parity did not hold).
    public var failure: String?
    public var swiftStep = 0.0, peerStep = 0.0
    public var swiftInference = 0.0, peerInference = 0.0
    public var swiftPeakBytes = 0.0, peerPeakBytes = 0.0
    public var trainingFLOPs = 0.0, inferenceFLOPs = 0.0
    /// With `profile`: the operators with the most self time over one training step, each side.
    public var swiftProfile: [ProfiledOperator]?, peerProfile: [ProfiledOperator]?

    public init(benchCase: ModelBenchmarkCase) { self.benchCase = benchCase }

    public var hasSpeed: Bool { failure == nil && (parity?.passed ?? false) }
    /// Training images per second (the training batch per step).
    public var swiftTrainingImages: Double { Double(benchCase.trainingBatch) / swiftStep }
    public var peerTrainingImages: Double { Double(benchCase.trainingBatch) / peerStep }
    public var swiftInferenceImages: Double { Double(benchCase.batch) / swiftInference }
    public var peerInferenceImages: Double { Double(benchCase.batch) / peerInference }
    /// Swift's speed over PyTorch's (above 1: Swift is faster).
    public var trainingSpeedRatio: Double { peerStep / swiftStep }
    public var inferenceSpeedRatio: Double { peerInference / swiftInference }
    /// Swift's peak memory over PyTorch's (below 1: Swift needs less).
    public var memoryRatio: Double { swiftPeakBytes / peerPeakBytes }
}

/// What the benchmark runs and how.
public struct ModelBenchmarkSettings: Sendable {
    public var cases: [ModelBenchmarkCase]
    public var dataRoot: String
    /// Timed training steps per round and side; rounds alternate Swift and PyTorch.
    public var steps = 2
    public var rounds = 2
    /// Timed inference passes per round and side.
    public var inferenceRuns = 3
    /// The Swift worker: this program and the arguments that start its worker subcommand.
    public var workerExecutable: String
    public var workerArguments: [String]
    public var python: String
    public var peerScript: String
    public var peerEnvironment: [String: String] = [:]
    public var peerArguments: [String] = []
    /// Also profile one training step on each side (libtorch's profiler; PyTorch's for the peer).
    public var profile = false

    public init(cases: [ModelBenchmarkCase], dataRoot: String, workerExecutable: String, workerArguments: [String],
                python: String, peerScript: String) {
        self.cases = cases
        self.dataRoot = dataRoot
        self.workerExecutable = workerExecutable
        self.workerArguments = workerArguments
        self.python = python
        self.peerScript = peerScript
    }
}

/// Runs each case in a Swift worker process and a PyTorch peer process side by side: the
/// Swift worker writes the initial weights and batch, the peer loads them, both take one
/// step for the parity check, then timed rounds alternate between them so that other load
/// on the machine hits both.
public enum ModelBenchmarkRunner {
    public static func run(_ settings: ModelBenchmarkSettings, log: (String) -> Void) -> [ModelBenchmarkRow] {
        settings.cases.map { c in
            log("… \(c.label)")
            var row = ModelBenchmarkRow(benchCase: c)
            do {
                try measure(c, settings, into: &row)
            } catch {
                row.failure = "\(error)"
            }
            if let failure = row.failure { log("  \(c.label): \(failure)") }
            return row
        }
    }

    static func measure(_ c: ModelBenchmarkCase, _ s: ModelBenchmarkSettings, into row: inout ModelBenchmarkRow) throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sketch2real-bench-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let caseArguments = ["--model", c.model.rawValue, "--size", String(c.size), "--batch", String(c.batch),
                             "--data", s.dataRoot, "--folder", folder, "--precision", c.precision.rawValue]
        let swift = try BenchmarkWorkerProcess(name: "Swift worker", executable: s.workerExecutable,
                                               arguments: s.workerArguments + caseArguments)
        defer { swift.finish() }
        let peer = try BenchmarkWorkerProcess(name: "PyTorch peer", executable: s.python,
                                              arguments: [s.peerScript, "--folder", folder] + s.peerArguments
                                                  + (c.precision == .bf16 ? ["--autocast"] : []),
                                              environment: s.peerEnvironment)
        defer { peer.finish() }

        let ours = try swift.send("parity"), theirs = try peer.send("parity")
        guard let ourLosses = ours["losses"] as? [String: Double], let ourPath = ours["output"] as? String,
              let theirLosses = theirs["losses"] as? [String: Double], let theirPath = theirs["output"] as? String,
              case let ourFile = try SafeTensors.load(path: ourPath), case let theirFile = try SafeTensors.load(path: theirPath),
              let ourOutput = ourFile["output"], let theirOutput = theirFile["output"],
              let ourBefore = ourFile["before"], let theirBefore = theirFile["before"]
        else { throw BenchmarkWorkerProcess.Failure(description: "malformed parity replies") }
        let parity = ParityCheck(swiftLosses: ourLosses, peerLosses: theirLosses, swiftOutput: ourOutput, peerOutput: theirOutput,
                                 swiftForward: ourBefore, peerForward: theirBefore, precision: c.precision)
        row.parity = parity
        guard parity.passed else {
            row.failure = "parity check failed, no speed reported: \(parity.message)"
            return
        }
        // The parity step and its inference passes were also each side's warm-up.
        row.trainingFLOPs = ours["trainingFLOPs"] as? Double ?? 0
        row.inferenceFLOPs = ours["inferenceFLOPs"] as? Double ?? 0

        var ourSteps: [Double] = [], theirSteps: [Double] = [], ourPasses: [Double] = [], theirPasses: [Double] = []
        for round in 0 ..< s.rounds {
            // Alternate which side goes first, so that neither always follows the other.
            let order = round % 2 == 0 ? [true, false] : [false, true]
            for isSwift in order {
                if isSwift { ourSteps += try swift.seconds("train \(s.steps)") } else { theirSteps += try peer.seconds("train \(s.steps)") }
            }
            for isSwift in order {
                if isSwift { ourPasses += try swift.seconds("infer \(s.inferenceRuns)") } else { theirPasses += try peer.seconds("infer \(s.inferenceRuns)") }
            }
        }
        row.swiftStep = median(ourSteps)
        row.peerStep = median(theirSteps)
        row.swiftInference = median(ourPasses)
        row.peerInference = median(theirPasses)
        if s.profile {
            func operators(_ reply: [String: Any]) -> [ProfiledOperator] {
                let list = reply["operators"] as? [[String: Any]] ?? []
                return list.compactMap { o -> ProfiledOperator? in
                    guard let name = o["name"] as? String, let calls = o["calls"] as? Int, let own = o["self_us"] as? Double,
                          let total = o["total_us"] as? Double else { return nil }
                    return ProfiledOperator(name: name, calls: calls, selfMicroseconds: own, totalMicroseconds: total)
                }
            }
            row.swiftProfile = operators(try swift.send("profile 1"))
            row.peerProfile = operators(try peer.send("profile 1"))
        }
        row.swiftPeakBytes = try swift.send("rss")["peakBytes"] as? Double ?? 0
        row.peerPeakBytes = try peer.send("rss")["peakBytes"] as? Double ?? 0
    }

    public static func median(_ values: [Double]) -> Double {
        guard !values.isEmpty else { return .nan }
        let sorted = values.sorted()
        let mid = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
    }
}
