import Foundation
import ArgumentParser
import Sketch2Real
import Torch

/// The root of `sketch2real`: its subcommands, and the entry point the executable calls.
public struct Sketch2RealCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "sketch2real",
        abstract: "Turn sketches into realistic images with conditional GANs.",
        version: SystemReport.version,
        subcommands: [InfoCommand.self, DatasetCommand.self, TrainCommand.self, TranslateCommand.self, SampleCommand.self, ExportCommand.self, ImportCommand.self, EvalCommand.self, CompareCommand.self, BenchCommand.self, DemoCommand.self, ServeCommand.self]
    )

    /// As ArgumentParser's own entry point, except that Foundation's file-system errors (an
    /// `--out` that is a file, a folder without write permission, a full disk) are reported as
    /// the path and the reason, not as a raw error dump.
    public init() {}

    public static func launch() async {
        Torch.usePhysicalCores()
        do {
            var command = try parseAsRoot(CommandLineArguments.joiningNegativeValues(Array(CommandLine.arguments.dropFirst())))
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            exit(withError: FileErrorText.describe(error).map { FileSystemError(description: $0) } ?? error)
        }
    }
}

/// Argument rewriting before parsing.
enum CommandLineArguments {
    /// `--batch-size -1` becomes `--batch-size=-1`: the parser would read `-1` as an unknown
    /// short option and report a missing value, where the user should hear that -1 is out of
    /// range. Only a long option without `=` followed by a negative number (or -inf/-nan) is
    /// joined, and nothing after a bare `--`.
    static func joiningNegativeValues(_ arguments: [String]) -> [String] {
        var out: [String] = []
        var i = 0
        while i < arguments.count {
            let argument = arguments[i]
            if argument == "--" { out += arguments[i...]; break }
            if argument.hasPrefix("--"), !argument.contains("="), i + 1 < arguments.count, isNegativeNumber(arguments[i + 1]) {
                out.append(argument + "=" + arguments[i + 1])
                i += 2
                continue
            }
            out.append(argument)
            i += 1
        }
        return out
    }

    static func isNegativeNumber(_ text: String) -> Bool {
        guard text.hasPrefix("-"), text.count > 1 else { return false }
        let rest = text.dropFirst().lowercased()
        return Double(rest) != nil || rest == "inf" || rest == "infinity" || rest == "nan"
    }
}

/// A file-system error in words (see `FileErrorText`).
struct FileSystemError: Error, CustomStringConvertible {
    let description: String
}

/// Options every command that computes accepts.
struct RuntimeOptions: ParsableArguments {
    @Option(name: .long, help: "Intra-op threads for libtorch (default: one per physical core, or $SKETCH2REAL_THREADS).")
    var threads: Int?

    @Flag(help: "Run even when the memory estimate exceeds the memory available (cgroup limit or MemAvailable).")
    var ignoreMemoryLimit = false

    @Option(help: "Arithmetic of the networks: fp32, bf16 (bfloat16 with float32 weights) or auto (bf16 where the CPU has it natively: avx512_bf16 or AMX, or the GPU does: compute capability 8.0 or later; `sketch2real info` says which).")
    var precision: PrecisionChoice = .auto

    @Option(help: "Where the networks run: auto (the first CUDA GPU when one is present, else the CPU), cpu, cuda or cuda:N.")
    var device = "auto"

    @Option(help: "Layout of the networks' convolutions: auto (channels-last on a GPU under bf16 or fp16 autocast, contiguous otherwise), contiguous or channels-last.")
    var memoryFormat: MemoryFormatChoice = .auto

    func validate() throws {
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1, got \(threads).") }
        // More threads than processors only adds contention; thousands of them stall libtorch's pool.
        let cores = ProcessInfo.processInfo.activeProcessorCount
        if let threads, threads > cores {
            throw ValidationError("--threads must be at most the \(cores) processor(s) this process may use, got \(threads).")
        }
    }

    /// Sets threads, the device (`--device`, or an error saying why it cannot be used) and the
    /// precision for it.
    func apply() throws {
        if let threads { Torch.threads = threads }
        let chosen = try DeviceChoice(parsing: device).resolve()
        DeviceChoice.use(chosen)
        Torch.precision = precision.resolve(device: chosen).precision
        // libtorch 1.x's CPU autocast knows only bfloat16 (and 1.13 is no longer supported).
        if Torch.precision == .fp16, !chosen.isCUDA, Torch.version.hasPrefix("1.") {
            throw ValidationError("--precision fp16 on the CPU needs libtorch 2.x; this sketch2real is built on libtorch \(Torch.version), whose CPU autocast has only bfloat16: use --precision bf16 or fp32.")
        }
        Torch.channelsLast = memoryFormat.resolve(device: chosen, precision: Torch.precision).channelsLast
        KernelChoiceCache.use()
    }

    /// The precision on the process's device and why (after `apply`).
    var resolvedPrecision: (precision: Precision, reason: String) { precision.resolve(device: Torch.defaultDevice) }
}


extension PrecisionChoice: ExpressibleByArgument {}
extension MemoryFormatChoice: ExpressibleByArgument {}
