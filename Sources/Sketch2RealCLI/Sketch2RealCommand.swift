import Foundation
import ArgumentParser
import Sketch2Real
import Torch

@main
struct Sketch2RealCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sketch2real",
        abstract: "Turn sketches into realistic images with conditional GANs.",
        version: SystemReport.version,
        subcommands: [InfoCommand.self, DatasetCommand.self, TrainCommand.self, TranslateCommand.self, SampleCommand.self, ExportCommand.self, EvalCommand.self, CompareCommand.self, BenchCommand.self, DemoCommand.self, ServeCommand.self]
    )
}

/// Options every command that computes accepts.
struct RuntimeOptions: ParsableArguments {
    @Option(name: .long, help: "Intra-op threads for libtorch (default: libtorch's choice, one per core).")
    var threads: Int?

    func validate() throws {
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1, got \(threads).") }
        // More threads than processors only adds contention; thousands of them stall libtorch's pool.
        let cores = ProcessInfo.processInfo.activeProcessorCount
        if let threads, threads > cores {
            throw ValidationError("--threads must be at most the \(cores) processor(s) this process may use, got \(threads).")
        }
    }

    func apply() {
        if let threads { Torch.threads = threads }
    }
}

