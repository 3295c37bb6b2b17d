import Foundation
import Torch

/// The model benchmark's results with what they were measured on, as a plain-text table,
/// Markdown or JSON.
public struct ModelBenchmarkReport: Sendable, Codable {
    public var command: String
    public var date: String
    public var machine: [String]
    /// The float32 peak (`SystemReport.convolutionPeak`) and what it was measured on.
    public var peakGFLOPS: Double
    public var peakSource: String
    /// The bfloat16 peak, where bf16 rows were measured.
    public var peakBF16GFLOPS: Double?
    public var peakBF16Source: String?
    public var swiftThreads: Int
    public var peerThreads: String
    public var steps: Int
    public var rounds: Int
    public var inferenceRuns: Int
    public var rows: [ModelBenchmarkRow]
    /// Crop size → decoded and augmented pairs per second of the Swift data loader.
    public var loaderPairsPerSecond: [Int: Double]

    public init(command: String, date: String, machine: [String], peakGFLOPS: Double, peakSource: String = "",
                peakBF16GFLOPS: Double? = nil, peakBF16Source: String? = nil, swiftThreads: Int, peerThreads: String,
                steps: Int, rounds: Int, inferenceRuns: Int, rows: [ModelBenchmarkRow], loaderPairsPerSecond: [Int: Double]) {
        self.peakBF16GFLOPS = peakBF16GFLOPS
        self.peakBF16Source = peakBF16Source
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
                          "peak MiB Swift", "peak MiB PyTorch", "memory S/P",
                          "train × fp32 PyTorch", "infer × fp32 PyTorch", "memory S/fp32 P",
                          "train GFLOP/step", "train GFLOP/s", "% of peak", "parity"]

    /// The fp32 row of the same model, size and batch: its PyTorch side is the reference as
    /// upstream runs it, which bf16 rows are also set against.
    public func fp32Row(of r: ModelBenchmarkRow) -> ModelBenchmarkRow? {
        if r.benchCase.precision == .fp32 { return r }
        var c = r.benchCase
        c.precision = .fp32
        return rows.first { $0.benchCase == c && $0.hasSpeed }
    }

    /// Swift's training speed, inference speed and memory against the fp32 PyTorch reference.
    public func againstFP32Reference(_ r: ModelBenchmarkRow) -> (training: Double, inference: Double, memory: Double)? {
        guard let f = fp32Row(of: r) else { return nil }
        return (f.peerStep / r.swiftStep, f.peerInference / r.swiftInference, r.swiftPeakBytes / f.peerPeakBytes)
    }

    public func peak(for precision: Precision) -> Double {
        precision == .bf16 ? (peakBF16GFLOPS ?? .nan) : peakGFLOPS
    }

    func cells(_ r: ModelBenchmarkRow) -> [String] {
        func f(_ v: Double, _ digits: Int = 1) -> String { v.isFinite ? String(format: "%.\(digits)f", v) : "–" }
        let label = r.benchCase.label
        guard r.hasSpeed else {
            let why = r.failure ?? "no parity"
            return [label] + Array(repeating: "–", count: Self.headers.count - 2) + ["FAILED: \(why)"]
        }
        let gflops = r.trainingFLOPs / r.swiftStep / 1e9
        let reference = againstFP32Reference(r)
        return [label, f(r.swiftStep * 1000, 0), f(r.peerStep * 1000, 0), f(r.swiftTrainingImages, 2), f(r.peerTrainingImages, 2),
                f(r.trainingSpeedRatio, 2),
                f(r.swiftInference * 1000, 0), f(r.peerInference * 1000, 0), f(r.swiftInferenceImages, 2), f(r.peerInferenceImages, 2),
                f(r.inferenceSpeedRatio, 2),
                f(r.swiftPeakBytes / 1_048_576, 0), f(r.peerPeakBytes / 1_048_576, 0), f(r.memoryRatio, 2),
                reference.map { f($0.training, 2) } ?? "–", reference.map { f($0.inference, 2) } ?? "–", reference.map { f($0.memory, 2) } ?? "–",
                f(r.trainingFLOPs / 1e9, 1), f(gflops, 1), f(100 * gflops / peak(for: r.benchCase.precision), 0),
                r.parity.map { String(format: "ok (Δfwd %.0e, Δloss %.0e, Δstep %.0e, cos %.4f)", $0.forwardDifference, $0.lossDifference, $0.outputDifference, $0.stepAgreement) } ?? "–"]
    }

    var notes: [String] {
        var n = [
            "× columns: Swift speed / PyTorch speed (above 1: Swift faster); memory S/P: Swift peak RSS / PyTorch peak RSS (below 1: Swift smaller). Each row's PyTorch runs in the row's precision (bf16: every network's forward pass under torch.autocast(\"cpu\", dtype=torch.bfloat16)); the fp32 PyTorch columns set the row against the fp32 row's PyTorch, the reference as upstream runs it.",
            "Times are medians over \(rounds) alternating rounds of \(steps) training steps and \(inferenceRuns) inference passes per side; a step is one full D and G (and E) update with every loss of the model's defaults; inference is the generator in evaluation mode without autograd on the row's batch.",
            "Peak RSS (VmHWM) of each side's own process over parity step, training and inference.",
            "FLOPs: 2·MACs of every convolution and linear layer a step evaluates, counted from layer shapes during one step; a backward pass adds 2·MACs for each of input and weight gradient autograd computes. Element-wise ops, norms and pools are not counted. % of peak: achieved training GFLOP/s over the machine's measured peak in the row's precision on the same threads (fp32: \(peakSource.isEmpty ? String(format: "%.1f GFLOP/s", peakGFLOPS) : peakSource)\(peakBF16Source.map { "; bf16: " + $0 } ?? "")).",
            "Models with an encoder (lsragan, bicyclegan) need an even training batch: their batch-1 row trains on batch 2, inference runs on batch 1.",
        ]
        if !loaderPairsPerSecond.isEmpty {
            let list = loaderPairsPerSecond.sorted { $0.key < $1.key }.map { String(format: "%d²: %.1f pairs/s", $0.key, $0.value) }
            n.append("Swift data loader (decode + resize + crop + flip, 2 workers): " + list.joined(separator: ", ") + "; the PyTorch reference has no loader of its own to compare with.")
        }
        return n
    }

    /// The speed targets, each with the rows it covers: met where every such row meets it. bf16
    /// rows: ≥ 1.8× the fp32 reference and ≥ 1.1× the same reference under autocast in training,
    /// ≥ 2× the fp32 reference in inference, no more memory than it; fp32 rows: the earlier
    /// float32 targets.
    public var targets: [String] {
        func check(_ what: String, _ rows: [ModelBenchmarkRow], _ value: (ModelBenchmarkRow) -> Double, _ ok: (Double) -> Bool) -> String {
            let measured = rows.filter(\.hasSpeed)
            guard !measured.isEmpty else { return "\(what): not measured in this run" }
            let list = measured.map { String(format: "%@ %.2f", $0.benchCase.label, value($0)) }
            let missed = measured.filter { !ok(value($0)) }.map(\.benchCase.model.rawValue)
            let verdict = missed.isEmpty ? "met" : "MISSED by " + Array(Set(missed)).sorted().joined(separator: ", ")
            return "\(what): \(verdict) (\(list.joined(separator: "; ")))"
        }
        let fp32 = rows.filter { $0.benchCase.precision == .fp32 }
        let bf16 = rows.filter { $0.benchCase.precision == .bf16 && fp32Row(of: $0) != nil }
        let b1 = fp32.filter { $0.benchCase.batch == 1 }
        let native: [String] = bf16.isEmpty ? [] : [
            check("bf16 training × fp32 PyTorch ≥ 1.8", bf16, { againstFP32Reference($0)!.training }) { $0 >= 1.8 },
            check("bf16 training × bf16 PyTorch ≥ 1.1", bf16, \.trainingSpeedRatio) { $0 >= 1.1 },
            check("bf16 inference × fp32 PyTorch ≥ 2", bf16, { againstFP32Reference($0)!.inference }) { $0 >= 2 },
            check("bf16 peak memory S/fp32 P ≤ 1", bf16, { againstFP32Reference($0)!.memory }) { $0 <= 1 },
        ]
        return native + [
            check("training × ≥ 1.15 at 128² batch 1", b1.filter { $0.benchCase.size == 128 }, \.trainingSpeedRatio) { $0 >= 1.15 },
            check("training × ≥ 1.05 at 256² batch 1", b1.filter { $0.benchCase.size == 256 }, \.trainingSpeedRatio) { $0 >= 1.05 },
            check("inference × ≥ 1.3 at 256²", fp32.filter { $0.benchCase.size == 256 }, \.inferenceSpeedRatio) { $0 >= 1.3 },
            check("peak memory S/P ≤ 1", rows, \.memoryRatio) { $0 <= 1 },
        ]
    }

    /// Per profiled row: its operators by self time, Swift beside PyTorch (milliseconds per step).
    var profileLines: [String] {
        var out: [String] = []
        for r in rows {
            guard let ours = r.swiftProfile, let theirs = r.peerProfile, !ours.isEmpty || !theirs.isEmpty else { continue }
            let ourTotal = ours.map(\.selfMicroseconds).reduce(0, +), theirTotal = theirs.map(\.selfMicroseconds).reduce(0, +)
            out.append("")
            out.append(String(format: "Profile of one training step, %@ (self time of the top operators: Swift %.0f ms, PyTorch %.0f ms):",
                              r.benchCase.label, ourTotal / 1000, theirTotal / 1000))
            for i in 0 ..< Swift.max(ours.count, theirs.count) {
                func cell(_ list: [ProfiledOperator]) -> String {
                    guard i < list.count else { return "" }
                    return String(format: "%8.1f ms %5d× %@", list[i].selfMicroseconds / 1000, list[i].calls, list[i].name)
                }
                out.append(cell(ours).padding(toLength: 56, withPad: " ", startingAt: 0) + "  " + cell(theirs))
            }
        }
        return out
    }

    var peakLine: String {
        String(format: "measured peak %.1f GFLOP/s fp32", peakGFLOPS) + (peakBF16GFLOPS.map { String(format: ", %.1f bf16", $0) } ?? "")
            + String(format: "; threads: Swift %d, PyTorch %@", swiftThreads, peerThreads)
    }

    public var text: String {
        let rows = [Self.headers] + self.rows.map(cells)
        var widths = Array(repeating: 0, count: Self.headers.count)
        for r in rows { for (i, c) in r.enumerated() where i < widths.count - 1 { widths[i] = Swift.max(widths[i], c.count) } }
        var out = ["Sketch2Real vs PyTorch — \(date)", "command: \(command)"] + machine
        out.append(peakLine)
        out.append("")
        for r in rows {
            out.append(r.enumerated().map { i, c in i < widths.count - 1 ? c.padding(toLength: widths[i], withPad: " ", startingAt: 0) : c }
                .joined(separator: "  "))
        }
        out.append("")
        out += targets
        out.append("")
        out += notes
        out += profileLines
        return out.joined(separator: "\n")
    }

    public var markdown: String {
        var out = ["Measured \(date) with `\(command)`.", "", "```"] + machine
        out.append(peakLine)
        out += ["```", "", "| " + Self.headers.joined(separator: " | ") + " |",
                "|" + Array(repeating: "---", count: Self.headers.count).joined(separator: "|") + "|"]
        for r in rows { out.append("| " + cells(r).joined(separator: " | ") + " |") }
        out.append("")
        out += targets.map { "- " + $0 }
        out.append("")
        out += notes.map { "- " + $0 }
        let profile = profileLines
        if !profile.isEmpty { out += ["", "```"] + profile + ["```"] }
        return out.joined(separator: "\n")
    }

    public func json() throws -> Data {
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys]
        e.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return try e.encode(self)
    }
}
