import Foundation

/// The model benchmark's results with what they were measured on, as a plain-text table,
/// Markdown or JSON.
public struct ModelBenchmarkReport: Sendable, Codable {
    public var command: String
    public var date: String
    public var machine: [String]
    public var peakGFLOPS: Double
    /// What the peak was measured on.
    public var peakSource: String
    public var swiftThreads: Int
    public var peerThreads: String
    public var steps: Int
    public var rounds: Int
    public var inferenceRuns: Int
    public var rows: [ModelBenchmarkRow]
    /// Crop size → decoded and augmented pairs per second of the Swift data loader.
    public var loaderPairsPerSecond: [Int: Double]

    public init(command: String, date: String, machine: [String], peakGFLOPS: Double, peakSource: String = "", swiftThreads: Int, peerThreads: String,
                steps: Int, rounds: Int, inferenceRuns: Int, rows: [ModelBenchmarkRow], loaderPairsPerSecond: [Int: Double]) {
        self.command = command
        self.date = date
        self.machine = machine
        self.peakGFLOPS = peakGFLOPS
        self.peakSource = peakSource
        self.swiftThreads = swiftThreads
        self.peerThreads = peerThreads
        self.steps = steps
        self.rounds = rounds
        self.inferenceRuns = inferenceRuns
        self.rows = rows
        self.loaderPairsPerSecond = loaderPairsPerSecond
    }

    static let headers = ["case", "step ms Swift", "step ms PyTorch", "train img/s Swift", "train img/s PyTorch", "train ×",
                          "infer ms Swift", "infer ms PyTorch", "infer img/s Swift", "infer img/s PyTorch", "infer ×",
                          "peak MiB Swift", "peak MiB PyTorch", "memory S/P", "train GFLOP/step", "train GFLOP/s", "% of peak",
                          "parity"]

    func cells(_ r: ModelBenchmarkRow) -> [String] {
        func f(_ v: Double, _ digits: Int = 1) -> String { v.isFinite ? String(format: "%.\(digits)f", v) : "–" }
        let label = r.benchCase.label
        guard r.hasSpeed else {
            let why = r.failure ?? "no parity"
            return [label] + Array(repeating: "–", count: Self.headers.count - 2) + ["FAILED: \(why)"]
        }
        let gflops = r.trainingFLOPs / r.swiftStep / 1e9
        return [label, f(r.swiftStep * 1000, 0), f(r.peerStep * 1000, 0), f(r.swiftTrainingImages, 2), f(r.peerTrainingImages, 2),
                f(r.trainingSpeedRatio, 2),
                f(r.swiftInference * 1000, 0), f(r.peerInference * 1000, 0), f(r.swiftInferenceImages, 2), f(r.peerInferenceImages, 2),
                f(r.inferenceSpeedRatio, 2),
                f(r.swiftPeakBytes / 1_048_576, 0), f(r.peerPeakBytes / 1_048_576, 0), f(r.memoryRatio, 2),
                f(r.trainingFLOPs / 1e9, 1), f(gflops, 1), f(100 * gflops / peakGFLOPS, 0),
                r.parity.map { String(format: "ok (Δfwd %.0e, Δloss %.0e, Δstep %.0e)", $0.forwardDifference, $0.lossDifference, $0.outputDifference) } ?? "–"]
    }

    var notes: [String] {
        var n = [
            "× columns: Swift speed / PyTorch speed (above 1: Swift faster); memory S/P: Swift peak RSS / PyTorch peak RSS (below 1: Swift smaller).",
            "Times are medians over \(rounds) alternating rounds of \(steps) training steps and \(inferenceRuns) inference passes per side; a step is one full D and G (and E) update with every loss of the model's defaults; inference is the generator in evaluation mode without autograd on the row's batch.",
            "Peak RSS (VmHWM) of each side's own process over parity step, training and inference.",
            "FLOPs: 2·MACs of every convolution and linear layer a step evaluates, counted from layer shapes during one step; a backward pass adds 2·MACs for each of input and weight gradient autograd computes. Element-wise ops, norms and pools are not counted. % of peak: achieved training GFLOP/s over the machine's measured peak on the same threads (\(peakSource.isEmpty ? String(format: "%.1f GFLOP/s", peakGFLOPS) : peakSource)).",
            "Models with an encoder (lsragan, bicyclegan) need an even training batch: their batch-1 row trains on batch 2, inference runs on batch 1.",
        ]
        if !loaderPairsPerSecond.isEmpty {
            let list = loaderPairsPerSecond.sorted { $0.key < $1.key }.map { String(format: "%d²: %.1f pairs/s", $0.key, $0.value) }
            n.append("Swift data loader (decode + resize + crop + flip, 2 workers): " + list.joined(separator: ", ") + "; the PyTorch reference has no loader of its own to compare with.")
        }
        return n
    }

    /// Issue 7's targets, each with the rows it covers: met where every such row meets it.
    public var targets: [String] {
        func check(_ what: String, _ rows: [ModelBenchmarkRow], _ value: (ModelBenchmarkRow) -> Double, _ ok: (Double) -> Bool) -> String {
            let measured = rows.filter(\.hasSpeed)
            guard !measured.isEmpty else { return "\(what): not measured in this run" }
            let list = measured.map { String(format: "%@ %.2f", $0.benchCase.label, value($0)) }
            let missed = measured.filter { !ok(value($0)) }.map(\.benchCase.model.rawValue)
            let verdict = missed.isEmpty ? "met" : "MISSED by " + Array(Set(missed)).sorted().joined(separator: ", ")
            return "\(what): \(verdict) (\(list.joined(separator: "; ")))"
        }
        let b1 = rows.filter { $0.benchCase.batch == 1 }
        return [
            check("training × ≥ 1.15 at 128² batch 1", b1.filter { $0.benchCase.size == 128 }, \.trainingSpeedRatio) { $0 >= 1.15 },
            check("training × ≥ 1.05 at 256² batch 1", b1.filter { $0.benchCase.size == 256 }, \.trainingSpeedRatio) { $0 >= 1.05 },
            check("inference × ≥ 1.3 at 256²", rows.filter { $0.benchCase.size == 256 }, \.inferenceSpeedRatio) { $0 >= 1.3 },
            check("peak memory S/P ≤ 1", rows, \.memoryRatio) { $0 <= 1 },
        ]
    }

    public var text: String {
        let rows = [Self.headers] + self.rows.map(cells)
        var widths = Array(repeating: 0, count: Self.headers.count)
        for r in rows { for (i, c) in r.enumerated() where i < widths.count - 1 { widths[i] = Swift.max(widths[i], c.count) } }
        var out = ["Sketch2Real vs PyTorch — \(date)", "command: \(command)"] + machine
        out.append(String(format: "measured peak %.1f GFLOP/s; threads: Swift %d, PyTorch %@", peakGFLOPS, swiftThreads, peerThreads))
        out.append("")
        for r in rows {
            out.append(r.enumerated().map { i, c in i < widths.count - 1 ? c.padding(toLength: widths[i], withPad: " ", startingAt: 0) : c }
                .joined(separator: "  "))
        }
        out.append("")
        out += targets
        out.append("")
        out += notes
        return out.joined(separator: "\n")
    }

    public var markdown: String {
        var out = ["Measured \(date) with `\(command)`.", "", "```"] + machine
        out.append(String(format: "measured peak %.1f GFLOP/s; threads: Swift %d, PyTorch %@", peakGFLOPS, swiftThreads, peerThreads))
        out += ["```", "", "| " + Self.headers.joined(separator: " | ") + " |",
                "|" + Array(repeating: "---", count: Self.headers.count).joined(separator: "|") + "|"]
        for r in rows { out.append("| " + cells(r).joined(separator: " | ") + " |") }
        out.append("")
        out += targets.map { "- " + $0 }
        out.append("")
        out += notes.map { "- " + $0 }
        return out.joined(separator: "\n")
    }

    public func json() throws -> Data {
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys]
        e.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return try e.encode(self)
    }
}
