import ArgumentParser
import Foundation
import Sketch2Real
import Torch

/// Data-parallel training speed on this machine: one process with T threads and batch W·B
/// against W processes (torchrun, Gloo) with T/W threads and batch B each, for Sketch2Real and for
/// PyTorch's DistributedDataParallel on the reference networks (scripts/ddp_bench_peer.py).
struct DistributedBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "distributed",
        abstract: "Data-parallel training: 1 process × 2 threads against 2 processes × 1 thread (torchrun, Gloo), beside PyTorch DDP.",
        discussion: """
        Every case trains the model's defaults (pix2pix with instance norm: batch norm is not synchronised) in float32 \
        without augmentation, on random 128² or 256² crops of --data, with 2 images per step in all: one process with \
        batch 2 and 2 threads, or 2 ranks with batch 1 and 1 thread each, started by torchrun. Sketch2Real's ranks run \
        twice: with all-reduce during backward (the default) and after it (--no-overlap-communication), which gives \
        the all-reduce time per step. The peer is the same step in PyTorch (reference networks, DDP on Gloo). Step \
        times are the mean of the timed steps after the warm-up steps.
        """
    )

    @Option(help: "Comma-separated models (sragan, pix2pix).")
    var models = "sragan,pix2pix"

    @Option(help: "Comma-separated image sizes.")
    var sizes = "128,256"

    @Option(help: "Untimed steps first.")
    var warmup = 2

    @Option(help: "Timed steps.")
    var steps = 5

    @Option(help: "Data set to train on (its training split).")
    var data = ".cache/datasets/landscapes-256"

    @Option(help: "Generator and discriminator width (default: the model's).")
    var width: Int?

    @Option(help: "The launcher.")
    var torchrun = "/usr/bin/torchrun"

    @Option(help: "Python interpreter with PyTorch for the peer; 'none' to skip it.")
    var python = "/usr/bin/python3"

    @Option(help: "The peer script.")
    var peerScript = "scripts/ddp_bench_peer.py"

    @Option(help: "First of the ports torchrun's store uses (one per launch).")
    var port = 29610

    @Option(help: "Also write the table as Markdown to this file.")
    var markdown: String?

    func validate() throws {
        if warmup < 1 { throw ValidationError("--warmup must be at least 1 (the first step builds the networks' kernels).") }
        if steps < 1 { throw ValidationError("--steps must be at least 1.") }
        for m in models.split(separator: ",") where !["sragan", "pix2pix"].contains(String(m)) {
            throw ValidationError("--models: the distributed case runs sragan and pix2pix, not '\(m)'.")
        }
        for s in sizes.split(separator: ",") where Int(s).map({ $0 < 32 || $0 % 16 != 0 }) ?? true {
            throw ValidationError("--sizes: '\(s)' is not a multiple of 16 of at least 32.")
        }
        guard FileManager.default.isExecutableFile(atPath: torchrun) else {
            throw ValidationError("\(torchrun) is not there: install python3-torch (it ships torchrun) or pass --torchrun.")
        }
    }

    struct Failure: Error, CustomStringConvertible { let description: String }

    struct Row {
        var label = ""
        var ours1 = 0.0, ours2 = 0.0, oursSync = 0.0
        var waited = 0.0, allReduce = 0.0
        var peer1: Double?, peer2: Double?
    }

    func run() throws {
        let me = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
        let root = NSTemporaryDirectory() + "s2r-bench-ddp-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: root) }
        var nextPort = port
        func launch(_ name: String, ranks: Int, _ arguments: [String]) throws -> String {
            nextPort += 1
            let (exe, args) = ranks == 1 ? (arguments[0], Array(arguments.dropFirst()))
                : (torchrun, ["--nproc_per_node", "\(ranks)", "--master_port", "\(nextPort)", "-r", "1", "-t", "1",
                              "--log_dir", root + "/torchrun-" + name, "--no_python"] + arguments)
            return try Self.run(exe, args, log: root + "/" + name + ".log")
        }
        let processor = SystemReport.collect().cpuModel
        print("data-parallel training, float32, \(processor): 2 images per step; mean of \(steps) steps after \(warmup)")
        var rows: [Row] = []
        for model in models.split(separator: ",").map(String.init) {
            for size in sizes.split(separator: ",").compactMap({ Int($0) }) {
                var row = Row()
                row.label = "\(model) \(size)²"
                let runs = root + "/runs-\(model)-\(size)"
                var common = [me, "train", "--model", model, "--data", data, "--runs", runs, "--size", "\(size)",
                              "--max-steps", "\(warmup + steps)", "--log-every", "1", "--sample-every", "0", "--checkpoint-every-steps", "0",
                              "--augment", "none", "--precision", "fp32", "--workers", "1", "--seed", "1"]
                if model == "pix2pix" { common += ["--norm", "instance"] }
                if let width { common += ["--ngf", "\(width)", "--ndf", "\(width)"] }
                let one = common + ["--name", "one", "--batch-size", "2", "--threads", "2"]
                let two = common + ["--batch-size", "1", "--threads", "1"]
                print("\(row.label): Sketch2Real, 1 process × 2 threads", terminator: "…\n")
                _ = try launch("\(model)\(size)-one", ranks: 1, one)
                row.ours1 = try stepSeconds(runs + "/one/log.jsonl").step
                print("\(row.label): Sketch2Real, 2 ranks × 1 thread (all-reduce during backward)", terminator: "…\n")
                _ = try launch("\(model)\(size)-two", ranks: 2, two + ["--name", "two"])
                (row.ours2, row.waited) = try stepSeconds(runs + "/two/log.jsonl")
                print("\(row.label): Sketch2Real, 2 ranks × 1 thread (all-reduce after backward)", terminator: "…\n")
                _ = try launch("\(model)\(size)-sync", ranks: 2, two + ["--name", "sync", "--no-overlap-communication"])
                (row.oursSync, row.allReduce) = try stepSeconds(runs + "/sync/log.jsonl")
                if python != "none" {
                    let peer = [python, peerScript, "--config", runs + "/one/config.json", "--warmup", "\(warmup)", "--steps", "\(steps)"]
                    print("\(row.label): PyTorch, 1 process × 2 threads", terminator: "…\n")
                    row.peer1 = try peerSeconds(try launch("\(model)\(size)-peer1", ranks: 1, peer + ["--batch", "2", "--threads", "2"]))
                    print("\(row.label): PyTorch DDP, 2 ranks × 1 thread", terminator: "…\n")
                    row.peer2 = try peerSeconds(try launch("\(model)\(size)-peer2", ranks: 2, peer + ["--batch", "1", "--threads", "1"]))
                }
                rows.append(row)
            }
        }
        let table = Self.table(rows)
        print(table)
        if let markdown {
            try AtomicFile.write(Data(("Data-parallel training on \(processor), float32, 2 images per step, mean of \(steps) steps after \(warmup).\n\n" + table + "\n").utf8), to: markdown)
            print("wrote \(markdown)")
        }
    }

    static func table(_ rows: [Row]) -> String {
        func f(_ v: Double?, _ format: String = "%.3f") -> String { v.map { String(format: format, $0) } ?? "n/a" }
        var lines = ["| case | Sketch2Real 1×2 s/step | 2×1 s/step | 2×1 speed-up | all-reduce after backward: ms/step (share) | waited with overlap: ms/step (share) | PyTorch 1×2 s/step | PyTorch DDP 2×1 s/step | DDP speed-up | Sketch2Real ÷ PyTorch, 2×1 time |",
                     "|---|---|---|---|---|---|---|---|---|---|"]
        for r in rows {
            lines.append("| \(r.label) | \(f(r.ours1)) | \(f(r.ours2)) | \(f(r.ours1 / r.ours2, "%.2f×")) | "
                         + "\(f(r.allReduce * 1000, "%.0f")) (\(f(100 * r.allReduce / r.oursSync, "%.1f")) %) | "
                         + "\(f(r.waited * 1000, "%.0f")) (\(f(100 * r.waited / r.ours2, "%.1f")) %) | "
                         + "\(f(r.peer1)) | \(f(r.peer2)) | \(f(r.peer1.flatMap { p in r.peer2.map { p / $0 } }, "%.2f×")) | \(f(r.peer2.map { r.ours2 / $0 }, "%.2f")) |")
        }
        return lines.joined(separator: "\n")
    }

    /// Mean seconds per step over the timed steps of a run's log, and the all-reduce seconds
    /// waited per step over the same steps (0 for one process).
    func stepSeconds(_ log: String) throws -> (step: Double, allReduce: Double) {
        let text = try String(contentsOfFile: log, encoding: .utf8)
        var at: [Int: (seconds: Double, allReduce: Double)] = [:]
        for line in text.split(separator: "\n") {
            guard let o = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                  let step = o["step"] as? Int, let seconds = o["seconds"] as? Double else { continue }
            at[step] = (seconds, o["allreduce_seconds"] as? Double ?? 0)
        }
        guard let a = at[warmup], let b = at[warmup + steps] else { throw Failure(description: "\(log) lacks steps \(warmup) and \(warmup + steps)") }
        return ((b.seconds - a.seconds) / Double(steps), (b.allReduce - a.allReduce) / Double(steps))
    }

    func peerSeconds(_ output: String) throws -> Double {
        for line in output.split(separator: "\n").reversed() {
            guard let brace = line.firstIndex(of: "{"),
                  let o = try? JSONSerialization.jsonObject(with: Data(line[brace...].utf8)) as? [String: Any],
                  let s = o["seconds"] as? [Double], !s.isEmpty else { continue }
            return s.reduce(0, +) / Double(s.count)
        }
        throw Failure(description: "the PyTorch peer printed no timings:\n" + output.suffix(2000))
    }

    /// Runs a program to its end with its output in `log`; returns the output, or throws with
    /// its last lines when it fails.
    static func run(_ executable: String, _ arguments: [String], log: String) throws -> String {
        FileManager.default.createFile(atPath: log, contents: nil)
        guard let handle = FileHandle(forWritingAtPath: log) else { throw Failure(description: "cannot write \(log)") }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardOutput = handle
        process.standardError = handle
        var environment = ProcessInfo.processInfo.environment
        environment["PYTHONPATH"] = ".cache/python"
        process.environment = environment
        try process.run()
        process.waitUntilExit()
        try handle.close()
        let output = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        guard process.terminationStatus == 0 else {
            throw Failure(description: "\(executable) \(arguments.joined(separator: " ")) failed (status \(process.terminationStatus)):\n" + output.suffix(3000))
        }
        return output
    }
}
